"""url-probe-python: echoes the function URL event it got, or answers as the
request's JSON body tells it (tests/integration/test_lab_function_url.py).

The body (when it is a JSON object; base64 bodies are decoded first) picks
what the handler returns:
  {}                               {"event", "env_id", "count", "request_id"}
                                   (an object without statusCode)
  {"respond": R}                   R itself: a statusCode response, a string,
                                   a number, a list, null...
  {"raise": "message"}             raises ProbeError(message)
  {"sleep": seconds}               sleeps, then echoes
  {"big": n}                       returns a string of n bytes
env_id is drawn at import (one per execution environment) and count is
module state, so two answers tell whether they came from the same one.
"""
import base64
import json
import time
import uuid

ENV_ID = uuid.uuid4().hex
_count = 0


class ProbeError(Exception):
    """What the `raise` instruction throws."""


def _instructions(event):
    body = event.get("body")
    if not body:
        return {}
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return {}
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def handler(event, context):
    global _count
    _count += 1
    todo = _instructions(event)
    if "raise" in todo:
        raise ProbeError(todo["raise"])
    if "sleep" in todo:
        time.sleep(float(todo["sleep"]))
    if "big" in todo:
        return "x" * int(todo["big"])
    if "respond" in todo:
        return todo["respond"]
    return {"event": event, "env_id": ENV_ID, "count": _count,
            "request_id": context.aws_request_id}
