"""Billing notifications: renders the email/SMS for a billing event using the recipient's notification preferences."""
import logging
import uuid

import templates

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Org-wide defaults; the client sends only the preferences the user changed.
DEFAULT_SETTINGS = {
    "channel": "email",
    "locale": "en-US",
    "digest": "off",
    "signature": "The Billing Team",
    "reply_to": "billing@example.com",
}
CHANNELS = {"email", "sms", "push"}


def _effective_settings(prefs):
    settings = DEFAULT_SETTINGS
    settings.update({k: v for k, v in prefs.items() if k in DEFAULT_SETTINGS and isinstance(v, str)})
    if settings["channel"] not in CHANNELS:
        settings["channel"] = "email"
    return settings


def handler(event, context):
    user_id = event.get("user_id")
    event_type = event.get("event")
    if not user_id or event_type not in templates.TEMPLATES["en-US"]:
        return {"ok": False, "error": "user_id and a known event are required"}

    prefs = event.get("prefs") or {}
    if not isinstance(prefs, dict):
        return {"ok": False, "error": "prefs must be an object"}
    settings = _effective_settings(prefs)

    subject, text = templates.render(settings["locale"], event_type, invoice=event.get("invoice", "-"))
    message = {
        "id": str(uuid.uuid4()),
        "to": user_id,
        "channel": settings["channel"],
        "subject": subject,
        "text": f"{text}\n\n{settings['signature']}",
        "reply_to": settings["reply_to"],
        "digest": settings["digest"],
    }
    logger.info("queued %s notification %s for %s", message["channel"], message["id"], user_id)
    return {"ok": True, "message": message}
