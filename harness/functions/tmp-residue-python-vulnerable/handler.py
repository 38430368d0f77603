"""VULNERABLE on purpose: /tmp residue shared across invocations.

Seed 000 (cold-start security article, "Temp files not cleaned up":
NamedTemporaryFile(delete=False)) and seed 001 ("Filesystem": /tmp is not
encrypted and is shared across invocations in the same execution
environment). Every upload is left behind in /tmp, and the export file is
named after the report alone, so a later caller's preview shows earlier
callers' rows. Nothing is ever removed, so the function's ephemeral storage
fills up; write errors are not handled, and ENOSPC reaches the caller as
"[Errno 28] No space left on device".

Event:    {"user_id": str, "report_name": str, "rows": str}
Response: {"report": name, "bytes": size of /tmp/export-<name>.csv,
          "preview": its first 2048 bytes}
<name> is report_name with characters outside [A-Za-z0-9_-] replaced by
"_", cut at 64. Paths are under tempfile.gettempdir(): /tmp in the sandbox,
the environment's private TMPDIR in the lab's unsandboxed fallback.
"""
import os
import re
import tempfile


def handler(event, context):
    rows = str(event["rows"])
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(event["report_name"]))[:64]
    with tempfile.NamedTemporaryFile(mode="w", prefix="upload-", delete=False) as upload:
        upload.write(rows)
    export = os.path.join(tempfile.gettempdir(), f"export-{name}.csv")
    with open(export, "a") as f:
        f.write(rows + "\n")
    with open(export, "rb") as f:
        preview = f.read(2048)
    return {
        "report": name,
        "bytes": os.path.getsize(export),
        "preview": preview.decode("utf-8", "replace"),
    }
