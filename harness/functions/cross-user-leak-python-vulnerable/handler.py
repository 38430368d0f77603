"""VULNERABLE on purpose: one user's data served to another from warm state.

Seed 000 (cold-start security article, "Memory Retention Between
Invocations"): a module-level `user_cache = {}` survives between
invocations of a warm environment. Its key here is the request path alone:
the caller was forgotten, so whoever asks for a path second gets the profile
of whoever asked first.

Event:    {"user_id": str, "path": str, "display_name": str, "email": str}
Response: {"user_id", "display_name", "email", "path"}, cached by path
"""
user_cache = {}


def handler(event, context):
    key = event["path"]
    if key in user_cache:
        return user_cache[key]
    profile = {
        "user_id": event.get("user_id"),
        "display_name": event.get("display_name"),
        "email": event.get("email"),
        "path": key,
    }
    user_cache[key] = profile
    return profile
