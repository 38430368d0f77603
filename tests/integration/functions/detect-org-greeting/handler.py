"""detect-org-greeting: the detection tests' shared-key leak (issue 12).

The header of an organisation's portal is cached per organisation, and the
cached text greets whoever asked first: every user of one organisation
sends the same `org`, so the cache key collides and the next user is
greeted as the first. Nothing else the request sent comes back, so only the
caller's identity shows the leak.
"""
_HEADERS = {}


def handler(event, context):
    org = str(event.get("org", "default"))
    header = _HEADERS.get(org)
    if header is None:
        header = {"title": f"{org} portal", "greeting": f"Welcome back, {event.get('user_id')}"}
        _HEADERS[org] = header
    return {"header": header, "items": 3}
