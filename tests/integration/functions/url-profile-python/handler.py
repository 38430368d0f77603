"""A profile page behind a function URL that caches the rendered profile by
path in module state, forgetting who asked: the cross-user leak, reachable
only through HTTP (tests/integration/test_scenarios.py, transport http)."""
import json

page_cache = {}


def handler(event, context):
    path = event.get("rawPath", "/")
    if path in page_cache:
        return page_cache[path]
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        return {"statusCode": 400, "body": "bad request"}
    page = {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"user": body.get("user_id"), "name": body.get("display_name")})}
    page_cache[path] = page
    return page
