"""gate-python — a test function that waits at gates the test opens.

A test copies this folder to a temporary one, which is the function's code,
and opens a gate by creating a file of that name there: the runtime sees it
at $LAMBDA_TASK_ROOT/NAME through its read-only bind of the folder.

  GATE_INIT=NAME (variable)  the module's import, Lambda's init phase, waits
                             for gate NAME
  {"gate": NAME, "max_s": S}  the invocation waits for gate NAME

A wait gives up after GATE_MAX_S seconds (default 8, inside Lambda's 10 s
init budget), or the event's max_s, so that a failing test cannot hang; the answer says whether
each gate was open when its wait ended, which is what the tests assert:
an order, not a duration.
"""
import os
import secrets
import time

ROOT = os.environ.get("LAMBDA_TASK_ROOT") or os.path.dirname(os.path.abspath(__file__))
MAX_S = float(os.environ.get("GATE_MAX_S", "8"))
ENV_ID = secrets.token_hex(8)


def _wait(name, max_s=MAX_S):
    path = os.path.join(ROOT, name)
    deadline = time.monotonic() + max_s
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


INIT_GATE = os.environ.get("GATE_INIT")
INIT_OPEN = _wait(INIT_GATE) if INIT_GATE else None


def handler(event, context):
    event = event if isinstance(event, dict) else {}
    gate = event.get("gate")
    opened = _wait(gate, float(event.get("max_s", MAX_S))) if gate else None
    return {"env_id": ENV_ID, "init_gate_open": INIT_OPEN, "gate_open": opened}
