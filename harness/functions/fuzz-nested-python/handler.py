"""fuzz-nested-python: the `coldsec fuzz` benchmark target, a crash behind four conditions.

fuzz-clean-python's validation plus an "admin override" path with a planted
crash at its end. The crash (os._exit(3): the environment dies, the lab
reports Runtime.ExitError "exit status 3") needs four conditions at once,
each on a different field and each needing its own specific value:
  1. item == "admin"
  2. quantity > 1000            (e.g. 1001, or the edge value 4294967296)
  3. user_id starts with "root" (e.g. "root", "rootu-1")
  4. a "note" key whose value is a string containing "!!"
Each satisfied condition executes lines the previous ones did not (and
level 4 has a step of its own: "note" present as a string), so a fuzzer
with coverage feedback climbs one level per mutation given dictionary
material ("admin", "root", "note", "!!"); blind mutation rarely does.
Three of the four are answered normally (200 or 400). fuzz-nested-node is
the same logic in Node, for the Jazzer.js comparison (bench/jazzer/).

Trigger:  {"user_id": "root", "item": "admin", "quantity": 1001, "note": "!!"}
Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200
"""
import os
import re

USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000
MAX_SAFE = 2 ** 53   # as Node's Number.isSafeInteger, so both samples agree


def _bad(message):
    return {"statusCode": 400, "error": message}


def _admin_order(event, user_id, quantity):
    # Levels 2-4. One statement per step, so that every satisfied
    # condition shows as new lines to a line-coverage fuzzer.
    level = 1
    if quantity > MAX_QUANTITY:
        level = 2
        if user_id.startswith("root"):
            level = 3
            note = event.get("note")
            if isinstance(note, str):
                level = 3.5
                if "!!" in note:
                    # The planted crash: the "emergency restock" path ends
                    # the runtime process, as a native abort would.
                    os._exit(3)
    return {"statusCode": 200, "admin": True, "level": level}


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
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    if not 1 <= quantity <= MAX_SAFE:
        return _bad("quantity must be a positive safe integer")
    if item == "admin":
        return _admin_order(event, user_id, quantity)
    if quantity > MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS}}
