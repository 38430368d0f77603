"""avatar-thumbnail: makes a small text "thumbnail" card for a user's
avatar upload and returns it. Managed Instances (python3.13).

The card is composed in a fixed work file in /tmp (the imaging tool it
replaced wanted one path), so the whole write-process-read is done under
an exclusive lock on that file: the processes of the environment share
/tmp."""
import fcntl
import json
import os
import random
import time

WORK = "/tmp/avatar-work.txt"
LOCK = WORK + ".lock"


def _compose(f, user, caption):
    f.write("+------------------+\n")
    f.write("| %-16s |\n" % user[:16])
    f.write("| %-16s |\n" % caption[:16])
    f.write("+------------------+\n")


def handler(event, context):
    body = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    user = str(body.get("user") or "")
    caption = str(body.get("caption") or "")
    if not user:
        return {"statusCode": 400, "body": json.dumps({"message": "user is required"})}
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(WORK, "w") as f:
                _compose(f, user, caption)
            time.sleep(0.02 + random.random() * 0.03)  # the resize step
            with open(WORK) as f:
                card = f.read()
            os.unlink(WORK)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return {"statusCode": 200, "body": json.dumps({"user": user, "card": card})}
