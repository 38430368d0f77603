"""HARDENED twin of secret-exposure-python-vulnerable.

Follows seed 000's "Lazy Loading Credentials" (nothing secret at module
level: the database password stays in Parameter Store, named by
DB_PASSWORD_PARAM, to be read inside the handler when a write needs it; the
lab never calls AWS, so this sample stops at the name), seed 003 (variables
encrypted with a customer KMS key: see kms_key_arn in functions.yaml;
rigorous input validation) and seed 001 ("Error handling": log what
debugging needs without exposing system details). Errors answer with a
generic message and the request id; the log gets the exception's class
name only.

Event:    {"order_id": str, "quantity": int, "items": [{"sku": str, "qty": int}]}
Response: {"status": "accepted", "order_id": order_id upper-cased,
          "quantity": int, "units": sum of qty} or
          {"error": "invalid order", "request_id": context.aws_request_id}
"""
import os
import re

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
MAX_ITEMS = 100
MAX_QTY = 10000


class InvalidOrder(ValueError):
    pass


def _count(value):
    # bool is an int in Python; a quantity of True is not a quantity.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QTY:
        raise InvalidOrder("quantity")
    return value


def _validate(event):
    if not isinstance(event, dict):
        raise InvalidOrder("event")
    order_id = event.get("order_id")
    if not isinstance(order_id, str) or ID_RE.fullmatch(order_id) is None:
        raise InvalidOrder("order_id")
    quantity = _count(event.get("quantity"))
    items = event.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidOrder("items")
    units = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str) or \
                ID_RE.fullmatch(item["sku"]) is None:
            raise InvalidOrder("item")
        units += _count(item.get("qty"))
    return order_id, quantity, units


def handler(event, context):
    try:
        order_id, quantity, units = _validate(event)
    except Exception as e:  # noqa: BLE001 - every failure gets the same generic answer
        print("invalid order:", type(e).__name__)
        return {"error": "invalid order", "request_id": context.aws_request_id}
    print("order accepted; the database password is read from parameter",
          os.environ["DB_PASSWORD_PARAM"], "when the order is written")
    return {"status": "accepted", "order_id": order_id.upper(), "quantity": quantity, "units": units}
