"""csv-export: turns a user's transactions into a CSV download and returns
a preview of it. Runs on Lambda Managed Instances (python3.13).

The CSV is staged under /tmp because the upload helper streams from a
file; the name carries the date so the nightly cleanup can find it."""
import csv
import datetime
import json
import os

import uploader

STAGING_DIR = "/tmp"


def _staging_path():
    return os.path.join(STAGING_DIR, "export-%s.csv" % datetime.date.today().isoformat())


def handler(event, context):
    body = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    user = str(body.get("user") or "")
    rows = body.get("rows") or []
    if not user:
        return {"statusCode": 400, "body": json.dumps({"message": "user is required"})}

    path = _staging_path()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account", "date", "description", "amount"])
        for r in rows:
            w.writerow([user, r.get("date", ""), r.get("description", ""), r.get("amount", "")])

    key = uploader.upload(path, "exports/%s.csv" % user)

    with open(path, newline="") as f:
        preview = list(csv.reader(f))[:6]
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"user": user, "object": key, "preview": preview}),
    }
