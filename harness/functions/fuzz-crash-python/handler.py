"""fuzz-crash-python: a `coldsec fuzz` sample whose environment dies (planted bug).

fuzz-clean-python's order handler plus one bug: an "inventory reservation"
step that stands for a native extension asserting on input it never
expected. A negative quantity, or an empty user_id or item, makes it end the
runtime process with os._exit(3): no exception, no answer, the execution
environment is gone. The lab reports Runtime.ExitError ("exit status 3") and
the fuzzer's crash oracle must fire. Every other input is answered as the
clean sample answers it.

Trigger:  quantity < 0 (e.g. the edge value -1), or "user_id": "" or "item": ""
Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200
"""
import os
import re

USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000


def _bad(message):
    return {"statusCode": 400, "error": message}


def _reserve_natively(user_id, item, quantity):
    # The planted bug: the "native" reservation library aborts the whole
    # process on a negative count or an empty key instead of failing the
    # call. os._exit skips every handler and finaliser, as a C abort would.
    if quantity < 0 or user_id == "" or item == "":
        os._exit(3)


def handler(event, context):
    if not isinstance(event, dict):
        return _bad("the event must be a JSON object")
    for key in ("user_id", "item", "quantity"):
        if key not in event:
            return _bad(f"{key} is required")
    user_id, item, quantity = event["user_id"], event["item"], event["quantity"]
    if not isinstance(user_id, str) or not isinstance(item, str):
        return _bad("user_id and item must be strings")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    # Called before the range and character checks: the bug's whole point.
    _reserve_natively(user_id, item, quantity)
    if not USER_RE.fullmatch(user_id):
        return _bad("user_id must be 1-64 letters, digits, '_' or '-'")
    if not ITEM_RE.fullmatch(item):
        return _bad("item must be 1-64 letters, digits, spaces, '_' or '-'")
    if not 1 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS}}
