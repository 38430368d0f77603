"""HARDENED twin of injection-persistence-python-vulnerable.

Follows seed 003 ("Serverless Function Security": rigorous input
validation against code injection) for seed 002's payment handler: the
amount is data, never code. It must match ^\\d{1,9}(\\.\\d{1,2})?$ (ASCII
digits only) and is parsed with decimal.Decimal; anything else is rejected
before it touches the runtime.

Event:    {"user_id": str, "card_number": str, "amount": str, "currency": str}
Response: {"status": "accepted", "user_id", "amount": float, "currency",
          "card_last4"} or {"status": "rejected", "reason": "invalid amount"}
"""
import decimal
import re

AMOUNT_RE = re.compile(r"^\d{1,9}(\.\d{1,2})?$", re.ASCII)


def handler(event, context):
    raw = event.get("amount") if isinstance(event, dict) else None
    # fullmatch: with match(), "$" would also accept a trailing newline.
    if not isinstance(raw, str) or AMOUNT_RE.fullmatch(raw) is None:
        return {"status": "rejected", "reason": "invalid amount"}
    amount = decimal.Decimal(raw)
    return {
        "status": "accepted",
        "user_id": event.get("user_id"),
        "amount": float(amount),
        "currency": event.get("currency"),
        "card_last4": str(event.get("card_number", ""))[-4:],
    }
