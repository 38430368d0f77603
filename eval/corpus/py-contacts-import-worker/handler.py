"""Contacts import worker: consumes import-chunk messages from SQS and upserts a batch of CSV rows per message."""
import hashlib
import json
import logging

import checkpoint

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CHUNK_ROWS = 250
TOTAL_ROWS_HINT = 1200


def _rows(source, offset, limit):
    # Stand-in for a ranged read of the uploaded CSV.
    for i in range(offset, min(offset + limit, TOTAL_ROWS_HINT)):
        digest = hashlib.md5(f"{source}:{i}".encode()).hexdigest()
        yield {"email": f"contact{i}@example.org", "name": f"Contact {i}", "valid": digest[0] != "0"}


def _process(job):
    state = checkpoint.load(job.get("checkpoint"))
    for row in _rows(job["source"], state["offset"], CHUNK_ROWS):
        if row["valid"]:
            state["imported"] += 1
        else:
            state["skipped"] += 1
        state["offset"] += 1
    done = state["offset"] >= TOTAL_ROWS_HINT
    logger.info("job %s (%s) by %s: offset=%d imported=%d done=%s", job["job_id"], job["tenant"],
                job.get("requested_by"), state["offset"], state["imported"], done)
    return {
        "job_id": job["job_id"],
        "offset": state["offset"],
        "imported": state["imported"],
        "skipped": state["skipped"],
        "done": done,
        "next_checkpoint": None if done else checkpoint.dump(state),
    }


def handler(event, context):
    failures, jobs = [], []
    for record in event.get("Records", []):
        message_id = record.get("messageId")
        try:
            job = json.loads(record["body"])
            jobs.append(_process(job))
        except Exception as exc:  # one bad message must not fail the whole batch
            logger.warning("message %s failed: %s", message_id, type(exc).__name__)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures, "jobs": jobs}
