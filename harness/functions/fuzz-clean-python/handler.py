"""fuzz-clean-python: the control sample of `coldsec fuzz` (harness/fuzz-functions.yaml).

A careful order handler: every field is type- and range-checked, bad input
gets a 400-style JSON answer, nothing raises, nothing is kept between
invocations and no variable of the environment is ever read into an answer.
Every oracle of the fuzzer (exit, timeout, leaked variable or canary, memory
growth, state pollution, unhandled exception) must stay silent on it: a
finding here is a false positive of the fuzzer.

The other fuzz-*-python samples are this handler plus one planted bug each,
so that exactly one oracle fires on each of them.

Event:    {"user_id": str, "item": str, "quantity": int}
          baseline {"user_id": "u-1", "item": "book", "quantity": 1}
Response: {"statusCode": 200, "order": {"user_id", "item", "quantity",
          "total_cents"}} or {"statusCode": 400, "error": str}
"""
import re

# Narrow character sets: the answer echoes these fields, and a validated
# value can never carry markup, control characters or lone surrogates.
USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000


def _bad(message):
    return {"statusCode": 400, "error": message}


def handler(event, context):
    if not isinstance(event, dict):
        return _bad("the event must be a JSON object")
    for key in ("user_id", "item", "quantity"):
        if key not in event:
            return _bad(f"{key} is required")
    user_id, item, quantity = event["user_id"], event["item"], event["quantity"]
    if not isinstance(user_id, str) or not USER_RE.fullmatch(user_id):
        return _bad("user_id must be 1-64 letters, digits, '_' or '-'")
    if not isinstance(item, str) or not ITEM_RE.fullmatch(item):
        return _bad("item must be 1-64 letters, digits, spaces, '_' or '-'")
    # bool is a subclass of int in Python: true must not count as 1.
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS}}
