"""Admin console API: applies an admin change (invoice status, user role, plan) and records it in the audit trail."""
import base64
import json

import audit

ACTIONS = {"invoice.update", "user.role.change", "plan.change", "refund.approve"}


def _reply(status, payload):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(payload)}


def handler(event, context):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        body = json.loads(raw)
    except ValueError:
        return _reply(400, {"error": "invalid JSON"})
    if not isinstance(body, dict):
        return _reply(400, {"error": "expected an object"})

    actor = body.get("actor")
    action = body.get("action")
    if not actor or action not in ACTIONS:
        return _reply(400, {"error": "actor and a known action are required"})

    request_id = (event.get("requestContext") or {}).get("requestId") or context.aws_request_id
    entry = audit.record(actor, action, body.get("resource"), body, request_id)
    return _reply(200, {
        "applied": True,
        "audit_id": entry["id"],
        "recent_activity": audit.recent_for(actor),
    })
