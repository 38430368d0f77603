"""VULNERABLE on purpose: secrets in global scope, leaked by error handling.

Seed 000 (cold-start security article, "Credentials in global scope" and
"Environment Variable Leakage": plain-text variables, no KMS) and seed 001
("Error handling": revealing too much in error messages). The password is
read at import and baked into a DSN; any failure logs the whole environment
and raises an unhandled error whose message carries the DSN, so the
password reaches the caller's errorMessage and the log (the runtime's
[ERROR] line and the printed environment, with API_KEY and the
environment's AWS credentials).

Event:    {"order_id": str, "quantity": int, "items": [{"sku": str, "qty": int}]}
Response: {"status": "accepted", "order_id": order_id upper-cased,
          "quantity": int, "units": sum of qty}; any bad input is an unhandled
          RuntimeError "order <order_id!r> failed using <DSN>: <exception!r>"
"""
import os

DB_PASSWORD = os.environ["DB_PASSWORD"]
API_KEY = os.environ["API_KEY"]
DSN = f"postgresql://orders:{DB_PASSWORD}@db.internal:5432/orders"


def handler(event, context):
    try:
        order_id = event["order_id"].upper()
        quantity = int(event["quantity"])
        units = 0
        for item in event["items"]:
            units += item["qty"] + 0
        return {"status": "accepted", "order_id": order_id, "quantity": quantity, "units": units}
    except Exception as e:
        print("order failed; environment:", dict(os.environ))
        order_ref = event.get("order_id") if isinstance(event, dict) else None
        raise RuntimeError(f"order {order_ref!r} failed using {DSN}: {e!r}")
