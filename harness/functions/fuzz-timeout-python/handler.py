"""fuzz-timeout-python: a `coldsec fuzz` sample that hangs past its timeout (planted bug).

fuzz-clean-python's order handler plus one bug: a quantity that is not a
JSON integer but a float (1.5, the edge value 1e308) or a string ("1") is
sent to a "fractional stock" check that polls an inventory service which
never confirms it, for 5 s. The function's timeout is 1 s, so the lab cuts
the invocation (Sandbox.Timedout, "Task timed out after 1.00 seconds") and
the fuzzer's timeout oracle must fire. Every other input is answered as the
clean sample answers it (null, true, lists and objects as quantity: 400).

Trigger:  "quantity": 1.5 / 1e308 / "1" (any float or string)
Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200
"""
import re
import time

USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000
POLL_S = 0.05
POLL_FOR_S = 5.0   # well past the 1 s timeout of harness/fuzz-functions.yaml


def _bad(message):
    return {"statusCode": 400, "error": message}


def _wait_for_fractional_stock(quantity):
    # The planted bug: the loop waits for a confirmation that never comes
    # and has no deadline of its own. It sleeps in short steps so that the
    # process stays responsive to the lab's kill, as a real poll loop would.
    deadline = time.monotonic() + POLL_FOR_S
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
    return _bad(f"no stock confirmation for quantity {quantity!r}")


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
    if isinstance(quantity, (float, str)):
        return _wait_for_fractional_stock(quantity)
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS}}
