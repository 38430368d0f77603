"""fuzz-growth-python: a `coldsec fuzz` sample whose memory grows without bound (planted bug).

fuzz-clean-python's order handler plus one bug: every request whose item is
a string longer than 8 characters is "kept for the audit" in a module-level
list as a 1 MB record that is never released. Module state survives between
invocations of a warm environment, so each such request adds 1 MB to the
environment's memory (the REPORT line's Max Memory Used rises by about 1 MB
per call) until the lab kills it at memory_mb (Runtime.OutOfMemory). The
fuzzer's memory-growth oracle must fire. The answer itself is the clean
sample's (so the state-pollution oracle stays silent: the probe's answer
does not change).

Trigger:  "item": "bookshelf" (any string of 9+ characters), repeated
Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200, no growth
"""
import re

USER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ITEM_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
PRICE_CENTS = 1299
MAX_QUANTITY = 1000
LONG_ITEM = 8
RECORD_BYTES = 1024 * 1024

_audit = []   # the planted bug: appended to, never trimmed


def _bad(message):
    return {"statusCode": 400, "error": message}


def _audit_long_item(item):
    # ljust writes every byte of the padding, so the 1 MB is resident
    # memory (a calloc'd bytearray would not be, and would not show in
    # Max Memory Used).
    _audit.append(item.encode("utf-8", "replace").ljust(RECORD_BYTES, b"."))


def handler(event, context):
    if not isinstance(event, dict):
        return _bad("the event must be a JSON object")
    for key in ("user_id", "item", "quantity"):
        if key not in event:
            return _bad(f"{key} is required")
    user_id, item, quantity = event["user_id"], event["item"], event["quantity"]
    # Audited before validation: "suspiciously long" names are exactly what
    # the audit wants, whatever characters they hold.
    if isinstance(item, str) and len(item) > LONG_ITEM:
        _audit_long_item(item)
    if not isinstance(user_id, str) or not USER_RE.fullmatch(user_id):
        return _bad("user_id must be 1-64 letters, digits, '_' or '-'")
    if not isinstance(item, str) or not ITEM_RE.fullmatch(item):
        return _bad("item must be 1-64 letters, digits, spaces, '_' or '-'")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS}}
