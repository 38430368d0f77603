"""Order events consumer: SNS order topic -> SQS -> this function, which updates loyalty points per order."""
import json
import logging
from decimal import Decimal, InvalidOperation

import dedupe

logger = logging.getLogger()
logger.setLevel(logging.INFO)

POINTS_PER_EUR = 10


def _handle(order_event):
    kind = order_event.get("type")
    if kind not in ("order.placed", "order.cancelled"):
        return {"status": "ignored", "type": kind}
    total = Decimal(str(order_event["total"]))
    points = int(total * POINTS_PER_EUR) * (1 if kind == "order.placed" else -1)
    return {"status": "processed", "order_id": order_event["order_id"], "customer_id": order_event["customer_id"],
            "points_delta": points}


def handler(event, context):
    failures, results = [], []
    for record in event.get("Records", []):
        sqs_id = record.get("messageId")
        try:
            envelope = json.loads(record["body"])
            sns_id = envelope["MessageId"]
            if dedupe.seen_before(sns_id):
                logger.info("skipping redelivered SNS message %s", sns_id)
                results.append({"messageId": sqs_id, "status": "duplicate"})
                continue
            outcome = _handle(json.loads(envelope["Message"]))
            results.append({"messageId": sqs_id, **outcome})
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            logger.warning("record %s rejected: %s", sqs_id, type(exc).__name__)
            failures.append({"itemIdentifier": sqs_id})
    return {"batchItemFailures": failures, "results": results, "dedupe_window": dedupe.size()}
