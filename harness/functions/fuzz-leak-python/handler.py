"""fuzz-leak-python: a `coldsec fuzz` sample that leaks secrets in errors (planted bugs).

fuzz-clean-python's order handler plus two bugs, one per leak oracle:
- a quantity that is a float (1.5, the edge value 1e308) or a string ("1")
  goes to a "pricing service" call whose failure is raised as an unhandled
  ValueError with the API key in its message: os.environ['API_KEY'] reaches
  the caller's errorMessage and the log tail ([ERROR] line). The fuzzer knows
  the variable's literal value: its "variable value leaked" oracle fires.
- a user_id that is present but not a string (a number, null, true, a list,
  an object) is raised as an unhandled RuntimeError carrying the whole
  environment dict, so every variable leaks, the fuzzer's planted
  COLDSEC_FUZZ_CANARY included: its canary oracle fires.
Every other input is answered as the clean sample answers it (a missing
user_id is a 400, so generic Lambda events without one do not leak).

Trigger:  "quantity": 1.5 -> API_KEY in the error; "user_id": 7 -> whole env
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


def _price_fractional(quantity):
    # The first planted bug: the error names the credential it used, the
    # "helpful" debugging message the seed articles warn about.
    raise ValueError(f"pricing service rejected quantity {quantity!r} "
                     f"(request signed with api key {os.environ['API_KEY']})")


def _lookup_user(user_id):
    # The second planted bug: a debugging dump of the whole environment in
    # an unhandled error (every variable, planted canaries included).
    raise RuntimeError(f"user lookup failed for {user_id!r}; "
                       f"environment: {dict(os.environ)!r}")


def handler(event, context):
    if not isinstance(event, dict):
        return _bad("the event must be a JSON object")
    for key in ("user_id", "item", "quantity"):
        if key not in event:
            return _bad(f"{key} is required")
    user_id, item, quantity = event["user_id"], event["item"], event["quantity"]
    if not isinstance(user_id, str):
        _lookup_user(user_id)
    if not USER_RE.fullmatch(user_id):
        return _bad("user_id must be 1-64 letters, digits, '_' or '-'")
    if not isinstance(item, str) or not ITEM_RE.fullmatch(item):
        return _bad("item must be 1-64 letters, digits, spaces, '_' or '-'")
    if isinstance(quantity, (float, str)):
        _price_fractional(quantity)
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return _bad("quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        return _bad(f"quantity must be between 1 and {MAX_QUANTITY}")
    return {"statusCode": 200,
            "order": {"user_id": user_id, "item": item, "quantity": quantity,
                      "total_cents": quantity * PRICE_CENTS}}
