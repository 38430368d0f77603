"""Webhook fan-out: signs an account's event (order.shipped, invoice.paid, ...) for delivery to its registered endpoint."""
import logging
from urllib.parse import urlparse

import delivery

logger = logging.getLogger()
logger.setLevel(logging.INFO)

EVENT_TYPES = {"order.created", "order.shipped", "invoice.paid", "refund.issued"}
MAX_URL_CHARS = 2048


def handler(event, context):
    account_id = event.get("account_id")
    event_type = event.get("event_type")
    endpoint = event.get("endpoint", "")
    payload = event.get("payload") or {}
    if not account_id or event_type not in EVENT_TYPES:
        return {"ok": False, "error": "account_id and a supported event_type are required"}
    if not isinstance(endpoint, str) or len(endpoint) > MAX_URL_CHARS or urlparse(endpoint).scheme != "https":
        return {"ok": False, "error": "endpoint must be an https URL of at most 2048 characters"}

    client = delivery.get_client()
    request = client.enqueue(endpoint, event_type, {"account_id": account_id, **payload})
    logger.info("queued %s for %s via %r", event_type, account_id, client)
    return {
        "ok": True,
        "account_id": account_id,
        "delivery": request,
        "client": {"id": client.client_id, "deliveries": client.deliveries},
    }
