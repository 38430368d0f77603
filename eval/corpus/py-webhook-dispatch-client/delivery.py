"""Outbound webhook client: signs deliveries and hands them to the delivery queue."""
import hashlib
import hmac
import json
import os
import time
import uuid


class WebhookClient:
    def __init__(self, signing_secret, queue_name):
        self._secret = signing_secret.encode()
        self.queue_name = queue_name
        self.client_id = uuid.uuid4().hex[:12]
        self.created_at = time.time()
        self.deliveries = 0

    def __repr__(self):
        return f"WebhookClient(id={self.client_id}, queue={self.queue_name})"

    def sign(self, timestamp, body):
        mac = hmac.new(self._secret, f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={mac}"

    def enqueue(self, endpoint, event_type, payload):
        body = json.dumps({"type": event_type, "data": payload}, separators=(",", ":"), sort_keys=True)
        ts = int(time.time())
        self.deliveries += 1
        # The queue consumer does the HTTP POST with retries; we only build the request.
        return {
            "delivery_id": uuid.uuid4().hex,
            "endpoint": endpoint,
            "headers": {"content-type": "application/json", "webhook-signature": self.sign(ts, body)},
            "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
            "queue": self.queue_name,
        }


_client = None


def get_client():
    global _client
    if _client is None:
        _client = WebhookClient(os.environ["WEBHOOK_SIGNING_SECRET"], os.environ.get("DELIVERY_QUEUE", "webhooks"))
    return _client
