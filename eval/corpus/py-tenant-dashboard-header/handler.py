"""Support portal: header strip (greeting, open tickets, SLA) shown at the top of the tenant dashboard."""
import hashlib
import time
from datetime import datetime, timezone

# Tenants served by this deployment (synced from the tenant registry at deploy time).
TENANTS = {
    "acme": {"name": "Acme Corp", "plan": "enterprise", "sla_hours": 4},
    "globex": {"name": "Globex", "plan": "business", "sla_hours": 8},
    "initech": {"name": "Initech", "plan": "starter", "sla_hours": 24},
}

# The ticket counts come from a slow aggregate query, so the header is kept
# per tenant for a few minutes.
HEADER_TTL_SECONDS = 300
_header_cache = {}


def _ticket_stats(tenant_id):
    # Stand-in for the aggregate over the tickets table.
    seed = int(hashlib.sha1(tenant_id.encode()).hexdigest()[:8], 16)
    return {
        "open": 12 + seed % 40,
        "breaching_sla": seed % 7,
        "oldest_open_hours": 3 + seed % 90,
    }


def _greeting(now):
    hour = now.hour
    if hour < 12:
        return "Good morning"
    if hour < 18:
        return "Good afternoon"
    return "Good evening"


def _build_header(tenant_id, user_id, display_name):
    tenant = TENANTS[tenant_id]
    now = datetime.now(timezone.utc)
    return {
        "tenant": {"id": tenant_id, "name": tenant["name"], "plan": tenant["plan"]},
        "greeting": f"{_greeting(now)}, {display_name}",
        "signed_in_as": user_id,
        "tickets": _ticket_stats(tenant_id),
        "sla_hours": tenant["sla_hours"],
        "generated_at": now.isoformat(timespec="seconds"),
    }


def handler(event, context):
    tenant_id = event.get("tenant")
    user_id = event.get("user_id")
    if tenant_id not in TENANTS:
        return {"statusCode": 404, "error": "unknown tenant"}
    if not user_id:
        return {"statusCode": 400, "error": "user_id is required"}
    display_name = event.get("display_name") or user_id

    now = time.time()
    cached = _header_cache.get(tenant_id)
    if cached and cached[0] > now:
        header = cached[1]
    else:
        header = _build_header(tenant_id, user_id, display_name)
        _header_cache[tenant_id] = (now + HEADER_TTL_SECONDS, header)

    return {"statusCode": 200, "header": header}
