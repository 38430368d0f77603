"""VULNERABLE on purpose: a fixed file name in /tmp shared by concurrent
requests.

A report export API. Each request stages its CSV in /tmp/export.csv, hands
the file to the upload (an S3 PUT of a few tens of ms, simulated here) and
answers a summary read back from the staged file. The name is fixed because
"the file is overwritten on every request, so nothing piles up in /tmp". On
classic Lambda an environment serves one request at a time, so this works.
On Lambda Managed Instances the Python runtime serves concurrent requests in
separate processes that share nothing in memory, but "the /tmp directory is
shared across all concurrent requests in the execution environment", and
concurrent writes to the same file can corrupt it
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html).
While one request waits for its upload, another process overwrites
export.csv, and the first answers with the second user's rows and user id.

Fix (concurrent-state-python-hardened): a file name of the request's own
(tempfile.NamedTemporaryFile or mkstemp), removed when the request is done;
or a lock around the whole write-upload-read.

Event:    {"user_id": str, "report_name": str, "rows": str}
Response: {"user_id": str, "report": name, "rows": number of data rows,
          "bytes": size of the staged file, "preview": its first 2048 bytes}
<name> is report_name with characters outside [A-Za-z0-9_-] replaced by
"_", cut at 64. The path is under tempfile.gettempdir(): /tmp in the
sandbox, the environment's private TMPDIR in the lab's unsandboxed fallback.
"""
import os
import re
import tempfile
import time

EXPORT_PATH = os.path.join(tempfile.gettempdir(), "export.csv")
UPLOAD_LATENCY_S = 0.04
PREVIEW_BYTES = 2048


def _upload(path):
    """Stands for s3.upload_file(path, bucket, key): network time."""
    time.sleep(UPLOAD_LATENCY_S)


def handler(event, context):
    user_id = str(event.get("user_id", ""))
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(event.get("report_name", "export")))[:64]
    rows = str(event.get("rows", ""))
    with open(EXPORT_PATH, "w", encoding="utf-8", errors="replace") as f:
        f.write(f"# {name} for {user_id}\n")
        f.write(rows if rows.endswith("\n") else rows + "\n")
    _upload(EXPORT_PATH)
    with open(EXPORT_PATH, "rb") as f:
        staged = f.read()
    data_rows = [line for line in staged.splitlines()[1:] if line.strip()]
    return {
        "user_id": user_id,
        "report": name,
        "rows": max(len(data_rows) - 1, 0),
        "bytes": len(staged),
        "preview": staged[:PREVIEW_BYTES].decode("utf-8", "replace"),
    }
