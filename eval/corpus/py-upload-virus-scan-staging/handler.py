"""Stages an uploaded attachment for the virus scanner and answers with its
checksum and the scan ticket. The scanner picks staged files up by path."""
import base64
import hashlib
import json
import os
import tempfile
import uuid

STAGING_DIR = os.path.join(tempfile.gettempdir(), "scan-staging")


def _stage(content: bytes, filename: str) -> str:
    os.makedirs(STAGING_DIR, exist_ok=True)
    # keep the extension: the scanner picks its engine by it
    _, ext = os.path.splitext(filename)
    with tempfile.NamedTemporaryFile(dir=STAGING_DIR, suffix=ext[:10], delete=False) as f:
        f.write(content)
        return f.name


def handler(event, context):
    body = event.get("body") or "{}"
    try:
        upload = json.loads(body) if isinstance(body, str) else body
        filename = str(upload.get("filename", "upload.bin"))
        content = upload.get("content", "")
        data = base64.b64decode(content) if upload.get("encoding") == "base64" else str(content).encode()
    except (ValueError, AttributeError) as exc:
        return {"statusCode": 400, "body": json.dumps({"error": f"bad upload: {type(exc).__name__}"})}
    path = _stage(data, filename)
    ticket = str(uuid.uuid4())
    return {
        "statusCode": 202,
        "body": json.dumps({
            "ticket": ticket,
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "staged_as": os.path.basename(path),
        }),
    }
