"""HARDENED twin of cross-user-leak-python-vulnerable.

Follows seed 001 ("In-memory data": avoid global or static variables for
sensitive information) and seed 000's "Memory Cleanup": no user data at
module level; each profile is built from its own request and dropped with it.

Event:    {"user_id": str, "path": str, "display_name": str, "email": str}
Response: {"user_id", "display_name", "email", "path"} of this request
"""


def handler(event, context):
    return {
        "user_id": event.get("user_id"),
        "display_name": event.get("display_name"),
        "email": event.get("email"),
        "path": event.get("path"),
    }
