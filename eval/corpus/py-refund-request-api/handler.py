"""Refund requests from the support console: validates the amount against the order and submits the refund."""
import logging
import os
import uuid
from decimal import Decimal, InvalidOperation

from stores import OrderStore, PaymentsGateway

logger = logging.getLogger()
logger.setLevel(logging.INFO)

orders = OrderStore(os.environ["ARCHIVE_DATABASE_URL"])
payments = PaymentsGateway(os.environ["PAYMENTS_API_KEY"])
REASONS = {"damaged", "not_received", "duplicate", "goodwill"}


class BadRequest(Exception):
    pass


def _refund(event):
    if not isinstance(event, dict):
        raise BadRequest("expected a JSON object")
    order_id = event.get("order_id")
    customer_id = event.get("customer_id")
    reason = event.get("reason")
    if not order_id or not customer_id:
        raise BadRequest("order_id and customer_id are required")
    if reason not in REASONS:
        raise BadRequest("reason must be one of " + ", ".join(sorted(REASONS)))
    try:
        amount = Decimal(str(event.get("amount")))
    except InvalidOperation:
        raise BadRequest("amount must be a decimal string")
    if not amount.is_finite() or amount <= 0:
        raise BadRequest("amount must be positive")

    order = orders.get(order_id)
    if order is None:
        raise BadRequest("unknown order")
    if amount > order["paid"] - order["refunded"]:
        raise BadRequest("amount exceeds the refundable balance")

    result = payments.refund(order_id, amount, event.get("idempotency_key") or str(uuid.uuid4()))
    return {"order_id": order_id, "customer_id": customer_id, "amount": str(amount), "reason": reason, **result}


def handler(event, context):
    request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    try:
        return {"statusCode": 200, "refund": _refund(event)}
    except BadRequest as err:
        return {"statusCode": 400, "error": str(err), "request_id": request_id}
    except Exception as exc:
        # Details stay in our logs under the request id; support quotes the id to us.
        logger.error("refund failed request_id=%s error_type=%s", request_id, type(exc).__name__)
        return {"statusCode": 500, "error": "internal error, please retry", "request_id": request_id}
