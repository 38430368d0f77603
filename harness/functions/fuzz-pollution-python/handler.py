"""fuzz-pollution-python: a `coldsec fuzz` sample whose warm state is polluted (planted bug).

fuzz-clean-python's order handler plus one bug: keys of the event beyond
user_id, item and quantity are order options ("currency", "gift_wrap", or
any other name) merged over the defaults, but the merge writes into the
module-level DEFAULT_OPTIONS dict itself instead of a copy. Module state
survives between invocations of a warm environment, so one request with an
extra key changes the "options" of every later answer: the fixed probe (the
baseline event) answers differently after it than on a fresh environment.
The fuzzer's state-pollution oracle must fire; nothing else does.

Trigger:  {"user_id": "u-1", "item": "book", "quantity": 1, "currency": "EUR"}
          (any added key with a scalar value), then the baseline as probe
Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200 with
          "options": {"currency": "USD", "gift_wrap": false} on a fresh
          environment
"""
import re

USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000
ORDER_KEYS = ("user_id", "item", "quantity")

DEFAULT_OPTIONS = {"currency": "USD", "gift_wrap": False}


def _bad(message):
    return {"statusCode": 400, "error": message}


def handler(event, context):
    if not isinstance(event, dict):
        return _bad("the event must be a JSON object")
    for key in ORDER_KEYS:
        if key not in event:
            return _bad(f"{key} is required")
    user_id, item, quantity = event["user_id"], event["item"], event["quantity"]
    if not isinstance(user_id, str) or not USER_RE.fullmatch(user_id):
        return _bad("user_id must be 1-64 letters, digits, '_' or '-'")
    if not isinstance(item, str) or not ITEM_RE.fullmatch(item):
        return _bad("item must be 1-64 letters, digits, spaces, '_' or '-'")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    # The planted bug: an alias, not dict(DEFAULT_OPTIONS). Only scalar
    # values are taken, so the answer stays small and JSON-clean.
    options = DEFAULT_OPTIONS
    for key, value in event.items():
        if key not in ORDER_KEYS and (value is None or isinstance(value, (str, int, float, bool))):
            options[key] = value
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS},
            "options": dict(options)}
