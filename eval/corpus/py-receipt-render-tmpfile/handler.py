"""Receipt service: lays out a receipt, hands the file to the print/email bridge and returns its checksum."""
import base64
import hashlib
import json
import os
import tempfile
from decimal import InvalidOperation

import receipt


def _reply(status, payload):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(payload)}


def _bridge_upload(path):
    # The bridge SDK takes a file path; read it back the way it does.
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), len(data), data


def handler(event, context):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        order = json.loads(raw)
    except ValueError:
        return _reply(400, {"error": "invalid JSON"})
    if not isinstance(order, dict) or not order.get("order_id") or not isinstance(order.get("lines"), list):
        return _reply(400, {"error": "order_id and lines are required"})

    try:
        text, total = receipt.render(str(order["order_id"]), order.get("customer", ""), order["lines"], order.get("note"))
    except (InvalidOperation, ValueError, TypeError, AttributeError):
        return _reply(422, {"error": "each line needs desc, qty and price"})

    fd, path = tempfile.mkstemp(prefix="receipt-", suffix=".txt", dir="/tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        digest, size, data = _bridge_upload(path)
    finally:
        os.remove(path)

    return _reply(200, {
        "order_id": order["order_id"],
        "total": f"{total:.2f}",
        "sha256": digest,
        "bytes": size,
        "receipt": data.decode("utf-8"),
    })
