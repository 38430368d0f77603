"""HARDENED twin of concurrent-state-python-vulnerable.

The same report export API, safe when several requests run at once in one
environment, as on Lambda Managed Instances: their Python runtime serves
concurrent requests in separate processes, "the /tmp directory is shared
across all concurrent requests", and AWS's advice is file locking or unique
file names per process or per request
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html).
Each request stages its CSV in a file of its own
(tempfile.NamedTemporaryFile), removed when the block ends, even on errors.

What is shared stays safe to share: the export settings are fetched once per
process at init into a fixed name in /tmp (written to a private temporary
file and renamed into place, so a concurrent init never sees half of it;
read-only, and the same for every process and every user), and a
module-level quota cache is keyed by the caller's user id (processes do not
share memory, and each process serves one request at a time).

Event:    {"user_id": str, "report_name": str, "rows": str}
Response: {"user_id": str, "report": name, "rows": number of data rows,
          "bytes": size of the staged file, "preview": its first 2048 bytes,
          "exports_left": the caller's remaining exports today}
<name> is report_name with characters outside [A-Za-z0-9_-] replaced by
"_", cut at 64.
"""
import hashlib
import json
import os
import re
import tempfile
import time

SETTINGS_PATH = os.path.join(tempfile.gettempdir(), "export-settings.json")
UPLOAD_LATENCY_S = 0.04
DAILY_EXPORTS = 50


def _install_settings():
    """Stands for downloading the export settings from S3 once per process."""
    settings = {"encoding": "utf-8", "preview_bytes": 2048, "header": True}
    if not os.path.exists(SETTINGS_PATH):
        fd, staging = tempfile.mkstemp(prefix="export-settings-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(settings, f)
            os.chmod(staging, 0o444)
            os.replace(staging, SETTINGS_PATH)
        except BaseException:
            os.unlink(staging)
            raise
    with open(SETTINGS_PATH) as f:
        return json.load(f)


SETTINGS = _install_settings()

# user id -> exports used today (stands for a lookup in the quota table).
_quota_cache = {}


def _exports_left(user_id):
    if user_id not in _quota_cache:
        _quota_cache[user_id] = hashlib.sha256(user_id.encode()).digest()[0] % 10
    _quota_cache[user_id] += 1
    return max(DAILY_EXPORTS - _quota_cache[user_id], 0)


def _upload(path):
    """Stands for s3.upload_file(path, bucket, key): network time."""
    time.sleep(UPLOAD_LATENCY_S)


def handler(event, context):
    user_id = str(event.get("user_id", ""))
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(event.get("report_name", "export")))[:64]
    rows = str(event.get("rows", ""))
    with tempfile.NamedTemporaryFile("w+b", prefix="export-", suffix=".csv") as f:
        f.write(f"# {name} for {user_id}\n".encode(SETTINGS["encoding"]))
        f.write((rows if rows.endswith("\n") else rows + "\n").encode(SETTINGS["encoding"], "replace"))
        f.flush()
        _upload(f.name)
        f.seek(0)
        staged = f.read()
    data_rows = [line for line in staged.splitlines()[1:] if line.strip()]
    return {
        "user_id": user_id,
        "report": name,
        "rows": max(len(data_rows) - 1, 0),
        "bytes": len(staged),
        "preview": staged[:SETTINGS["preview_bytes"]].decode(SETTINGS["encoding"], "replace"),
        "exports_left": _exports_left(user_id),
    }
