"""Workspace bootstrap for the web app: tenant branding, feature flags and the signed-in user's entry points."""
import tenant_store

PAGES = {"home", "billing", "reports", "settings"}


def handler(event, context):
    tenant_id = event.get("tenant")
    user_id = event.get("user_id")
    page = event.get("page", "home")
    if not user_id:
        return {"statusCode": 401, "error": "sign in first"}
    if page not in PAGES:
        page = "home"

    config = tenant_store.get_config(tenant_id)
    if config is None:
        return {"statusCode": 404, "error": "unknown workspace"}

    # Everything user-specific is built fresh; the cached config is only read.
    features = {name: enabled for name, enabled in config["features"].items()}
    return {
        "statusCode": 200,
        "workspace": {
            "tenant": tenant_id,
            "display_name": config["display_name"],
            "theme": {"primary": config["primary_color"], "logo": config["logo"]},
            "support_email": config["support_email"],
            "features": features,
        },
        "viewer": {"user_id": user_id, "landing": f"/{tenant_id}/{page}", "profile": f"/{tenant_id}/users/{user_id}"},
        "cache": dict(tenant_store.stats),
    }
