"""In-process audit buffer for admin actions.

Records are kept for the life of the container so the admin console's
"recent activity" widget can be served without a round trip to the audit
store; the nightly exporter reads the store, not this buffer."""
import time
import uuid

AUDIT_LOG = []


def record(actor, action, resource, payload, request_id):
    entry = {
        "id": str(uuid.uuid4()),
        "at": time.time(),
        "actor": actor,
        "action": action,
        "resource": resource,
        "request_id": request_id,
        "payload": payload,
    }
    AUDIT_LOG.append(entry)
    return entry


def recent_for(actor, limit=5):
    mine = [e for e in AUDIT_LOG if e["actor"] == actor]
    return [{"id": e["id"], "action": e["action"], "resource": e["resource"], "at": e["at"]} for e in mine[-limit:]]
