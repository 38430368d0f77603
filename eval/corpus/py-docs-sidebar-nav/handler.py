"""Help-centre page chrome (breadcrumbs, sidebar, account box) for the docs site, behind an HTTP API."""
import base64
import json

import nav
import request_context


def _response(status, payload):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "private, no-store"},
        "body": json.dumps(payload),
    }


def _json_body(event):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    return json.loads(raw)


def handler(event, context):
    try:
        body = _json_body(event)
    except (ValueError, UnicodeDecodeError):
        return _response(400, {"message": "body must be JSON"})
    if not isinstance(body, dict):
        return _response(400, {"message": "body must be a JSON object"})

    page = body.get("page", "/")
    user_id = body.get("user_id")
    if not user_id:
        return _response(401, {"message": "not signed in"})
    if not isinstance(page, str) or not nav.known_page(page):
        return _response(404, {"message": "no such page"})

    request_context.set_user(user_id, body.get("display_name") or user_id)
    chrome = nav.render_sidebar(page)
    return _response(200, {"page": page, "chrome": chrome})
