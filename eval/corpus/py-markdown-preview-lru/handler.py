"""Document preview for the knowledge base editor: renders Markdown to HTML and returns an outline."""
import base64
import hashlib
import json
import re

import render
from lru import RenderCache

# Editors re-send the same draft on every keystroke pause; rendering large
# documents is the slow part, so keep the last few renders by content hash.
_renders = RenderCache(max_entries=8, max_bytes=8 * 1024 * 1024)
PREVIEW_CHARS = 2000
_WORD = re.compile(r"\S+")


def _reply(status, payload):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(payload)}


def handler(event, context):
    raw = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        doc = json.loads(raw)
    except ValueError:
        return _reply(400, {"error": "invalid JSON"})
    if not isinstance(doc, dict) or not isinstance(doc.get("content"), str):
        return _reply(400, {"error": "content (markdown string) is required"})

    content = doc["content"]
    key = hashlib.sha256(content.encode("utf-8")).hexdigest()
    cached = _renders.get(key)
    if cached is None:
        page_html, headings = render.to_html(content)
        _renders.put(key, (page_html, headings), len(page_html) + len(content))
    else:
        page_html, headings = cached[0]

    return _reply(200, {
        "owner": doc.get("owner"),
        "filename": doc.get("filename", "untitled.md"),
        "content_sha256": key,
        "words": sum(1 for _ in _WORD.finditer(content)),
        "outline": headings[:50],
        "html_preview": page_html[:PREVIEW_CHARS],
        "html_bytes": len(page_html),
        "cache_hit": cached is not None,
        "cache": _renders.stats(),
    })
