"""Sidebar and breadcrumbs for the help-centre pages."""
from functools import lru_cache

import request_context

SITE_MAP = {
    "/": ("Help centre", None),
    "/billing": ("Billing", "/"),
    "/billing/invoices": ("Invoices", "/billing"),
    "/billing/payment-methods": ("Payment methods", "/billing"),
    "/account": ("Account", "/"),
    "/account/security": ("Security", "/account"),
    "/integrations": ("Integrations", "/"),
}


def known_page(path):
    return path in SITE_MAP


def _breadcrumbs(path):
    trail = []
    while path is not None:
        title, parent = SITE_MAP[path]
        trail.append({"title": title, "href": path})
        path = parent
    return list(reversed(trail))


def _children(path):
    return [
        {"title": title, "href": href}
        for href, (title, parent) in SITE_MAP.items()
        if parent == path
    ]


@lru_cache(maxsize=64)
def render_sidebar(path):
    # Rendering walks the whole site map; pages are few, so memoise per path.
    user = request_context.get_user()
    return {
        "breadcrumbs": _breadcrumbs(path),
        "sections": _children(path) or _children(SITE_MAP[path][1]),
        "account_box": {
            "signed_in_as": user["name"],
            "user_id": user["id"],
            "links": [
                {"title": "My tickets", "href": f"/users/{user['id']}/tickets"},
                {"title": "Sign out", "href": "/logout"},
            ],
        },
    }
