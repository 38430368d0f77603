"""HARDENED twin of tmp-residue-python-vulnerable.

Follows seed 000's "Secure Temporary Files" (a context manager removes the
file when the block ends) and seed 001 ("Filesystem": securely delete
temporary files as soon as they are no longer needed): each request works in
its own tempfile.TemporaryDirectory(), which is removed before the response
leaves, even on errors. Nothing is shared between requests, so the preview
shows this request's rows only and /tmp never fills up.

Event:    {"user_id": str, "report_name": str, "rows": str}
Response: {"report": name, "bytes": size of this request's export,
          "preview": its first 2048 bytes}
<name> is report_name with characters outside [A-Za-z0-9_-] replaced by
"_", cut at 64.
"""
import os
import re
import tempfile


def handler(event, context):
    rows = str(event["rows"])
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(event["report_name"]))[:64]
    with tempfile.TemporaryDirectory(prefix="report-") as work:
        export = os.path.join(work, f"export-{name}.csv")
        with open(export, "w") as f:
            f.write(rows + "\n")
        size = os.path.getsize(export)
        with open(export, "rb") as f:
            preview = f.read(2048)
    return {"report": name, "bytes": size, "preview": preview.decode("utf-8", "replace")}
