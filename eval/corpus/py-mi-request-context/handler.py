"""order-status: answers a customer's order status. Managed Instances
(python3.13).

A module-level dict holds the current request's context for the logging
filter and the helpers. On Managed Instances each concurrent request runs
in its own process, one request at a time, so the module state is never
shared between requests that run at once, and it is reset at the start of
every request."""
import json
import logging
import random
import time

CURRENT = {"customer": None, "request_id": None}
logger = logging.getLogger("order-status")
logger.setLevel(logging.INFO)


def _lookup(order_id):
    time.sleep(0.02 + random.random() * 0.03)  # DynamoDB GetItem round trip
    return {"order_id": order_id, "state": "shipped", "carrier": "DPD"}


def _summary(order):
    return "Order %s for %s is %s" % (order["order_id"], CURRENT["customer"], order["state"])


def handler(event, context):
    body = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    CURRENT["customer"] = str(body.get("customer") or "")
    CURRENT["request_id"] = context.aws_request_id
    if not CURRENT["customer"]:
        return {"statusCode": 400, "body": json.dumps({"message": "customer is required"})}
    order = _lookup(str(body.get("order_id") or ""))
    logger.info("status served for %s", CURRENT["customer"])
    return {"statusCode": 200, "body": json.dumps({"customer": CURRENT["customer"], "summary": _summary(order),
                                                   "note": body.get("note", "")})}
