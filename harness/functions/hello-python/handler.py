"""hello-python: the lab's sample Python function (handler `handler.handler`).

Shows warm-environment reuse: ENV_ID is drawn once per execution environment
(at import, i.e. cold start) and the invocation counter lives in module
state, so a warm environment answers with the same env_id and a growing
count. Kept minimal: it is the Python function of the lab's benchmarks.
"""
import os

ENV_ID = os.urandom(8).hex()
_count = 0


def handler(event, context):
    global _count
    _count += 1
    return {
        "message": os.environ.get("GREETING", "hello"),
        "runtime": "python",
        "env_id": ENV_ID,
        "invocation": _count,
        "cold": _count == 1,
    }
