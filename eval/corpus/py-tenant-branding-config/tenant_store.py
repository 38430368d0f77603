"""Tenant branding and feature flags. In production this reads the tenants
table; the data is per tenant and the same for every user of the tenant."""
import time

_TENANT_ROWS = {
    "acme": {"display_name": "Acme Corp", "primary_color": "#d0312d", "logo": "https://cdn.example.com/t/acme/logo.svg",
             "support_email": "help@acme.example", "features": {"sso": True, "audit_log": True, "beta_reports": False}},
    "globex": {"display_name": "Globex", "primary_color": "#1f6feb", "logo": "https://cdn.example.com/t/globex/logo.svg",
               "support_email": "support@globex.example", "features": {"sso": True, "audit_log": False, "beta_reports": True}},
    "initech": {"display_name": "Initech", "primary_color": "#2da44e", "logo": "https://cdn.example.com/t/initech/logo.svg",
                "support_email": "it@initech.example", "features": {"sso": False, "audit_log": False, "beta_reports": False}},
}

CACHE_TTL_S = 600
_cache = {}
stats = {"hits": 0, "misses": 0}


def get_config(tenant_id):
    """Branding for a tenant, or None when the tenant does not exist."""
    now = time.monotonic()
    hit = _cache.get(tenant_id)
    if hit and hit[0] > now:
        stats["hits"] += 1
        return hit[1]
    row = _TENANT_ROWS.get(tenant_id)
    if row is None:
        return None
    stats["misses"] += 1
    _cache[tenant_id] = (now + CACHE_TTL_S, row)
    return row
