"""A Managed Instances test function for test_lab_managed_runtimes (Python).

INIT is made once per worker process's import; in_flight/peak count the
requests of this process that overlap (one at a time: peak stays 1). With
"dir" a request writes its own file in that folder under /tmp and, after its
hold, lists the folder (every process's files are there: /tmp is shared).
{"hold": PORT} connects back to the test's socket and waits for a byte, so
the test decides when the request ends. "marker" goes to the logging module
before and after the hold, and once to print().
"""
import logging
import os
import shutil
import socket
import uuid

log = logging.getLogger("mi")
log.setLevel(logging.INFO)
INIT = "%d-%s" % (os.getpid(), uuid.uuid4().hex)
in_flight = 0
peak = 0
log.info("init %s", INIT)


def _hold(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.recv(1)


def handler(event, context):
    global in_flight, peak
    if event.get("cleanup"):
        shutil.rmtree(os.path.join("/tmp", event["cleanup"]), ignore_errors=True)
        return {"removed": event["cleanup"]}
    in_flight += 1
    peak = max(peak, in_flight)
    try:
        marker = event.get("marker")
        folder = os.path.join("/tmp", event["dir"]) if event.get("dir") else None
        if folder:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, context.aws_request_id), "w") as f:
                f.write(str(os.getpid()))
        if marker:
            log.info("before %s", marker)
            print("raw %s" % marker)
        if event.get("hold"):
            _hold(event["hold"])
        seen = sorted(os.listdir(folder)) if folder else None
        if marker:
            log.info("after %s", marker)
        return {"pid": os.getpid(), "init": INIT, "peak": peak, "seen": seen,
                "stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")}
    finally:
        in_flight -= 1
