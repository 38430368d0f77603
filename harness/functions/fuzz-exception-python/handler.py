"""fuzz-exception-python: a `coldsec fuzz` sample with two unhandled exceptions (planted bugs).

fuzz-clean-python's order handler plus two bugs, each an unhandled exception
of its own type (the environment survives both: the runtime reports the
error and the next invocation is warm):
- KeyError: the order fields are read with event[...] without checking
  that they are there, so an event missing user_id, item or quantity raises
  KeyError (errorType "KeyError", errorMessage "'user_id'" etc.).
- ZeroDivisionError: the range check forgot 0, and the loyalty points are
  split per unit with // quantity, so "quantity": 0 raises
  ZeroDivisionError.
The fuzzer's exception oracle must collect both types (deduplicated) and go
on fuzzing after each. Every other input is answered as the clean sample
answers it (a non-object event is a 400, wrong types and ranges are 400s).

Trigger:  delete any of the three keys -> KeyError; "quantity": 0 -> ZeroDivisionError
Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200
"""
import re

USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000
ORDER_POINTS = 100


def _bad(message):
    return {"statusCode": 400, "error": message}


def handler(event, context):
    if not isinstance(event, dict):
        return _bad("the event must be a JSON object")
    # The first planted bug: no "key in event" check before indexing.
    user_id, item, quantity = event["user_id"], event["item"], event["quantity"]
    if not isinstance(user_id, str) or not USER_RE.fullmatch(user_id):
        return _bad("user_id must be 1-64 letters, digits, '_' or '-'")
    if not isinstance(item, str) or not ITEM_RE.fullmatch(item):
        return _bad("item must be 1-64 letters, digits, spaces, '_' or '-'")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    # The second planted bug: 0 passes (it should be 1 <= quantity).
    if not 0 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    points_per_unit = ORDER_POINTS // quantity
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS,
                      "points_per_unit": points_per_unit}}
