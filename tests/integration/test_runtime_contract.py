"""The runtime contract of the three bootstraps, tested without the lab.

A fake Runtime API (ThreadingHTTPServer on 127.0.0.1:0, HTTP/1.1 keep-alive)
serves queued events on /next and records every /response, /error and
/init/error post. Each bootstrap runs as a subprocess with a Lambda-like
environment: harness/runtimes/python/bootstrap.py under /usr/bin/python3,
harness/runtimes/node/bootstrap.js under node, and the `provided` sample
build/functions/hello-c/bootstrap (built with make). The subprocess's
stdout+stderr go to one pipe; when a result is posted the fake server first
drains that pipe, as the lab does, so "the log holds X when the response
arrived" is checked on exactly the bytes the lab would see.

Also a benchmark, not run as a test:
    python3 tests/integration/test_runtime_contract.py bench [N]
prints warm invokes/s of each bootstrap against a minimal single-connection
Runtime API and the runtime process's CPU time per invocation.
"""
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY_BOOTSTRAP = os.path.join(REPO, "harness", "runtimes", "python", "bootstrap.py")
NODE_BOOTSTRAP = os.path.join(REPO, "harness", "runtimes", "node", "bootstrap.js")
FUNCTIONS = os.path.join(REPO, "harness", "functions")
HELLO_C = os.path.join(REPO, "build", "functions", "hello-c", "bootstrap")
PYTHON = "/usr/bin/python3"  # the python3 on PATH may be a pyenv shim
NODE = shutil.which("node")
WAIT = 10.0  # seconds to wait for any one post; a pass takes milliseconds
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
POST_PATH = re.compile(r"^/2018-06-01/runtime/(?:invocation/([^/]+)/(response|error)|init/(error))$")


# --------------------------------------------------------------------------
# The runtime process, its output captured the way the lab does.


class RuntimeProcess:
    """A bootstrap subprocess whose stdout+stderr pipe is drained continuously
    by a reader thread and on demand (drain()) by the fake server."""

    def __init__(self, argv, env, cwd):
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._eof = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _read_loop(self):
        while not self._eof:
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.05)
            except (OSError, ValueError):
                return
            if ready:
                self.drain()

    def drain(self):
        """Reads whatever the pipe holds now; returns all output so far."""
        with self._lock:
            while not self._eof:
                try:
                    chunk = os.read(self._fd, 1 << 16)
                except BlockingIOError:
                    break
                except OSError:
                    self._eof = True
                    break
                if not chunk:
                    self._eof = True
                    break
                self._buf += chunk
            return bytes(self._buf)

    def output(self):
        return self.drain().decode("utf-8", "replace")

    def wait(self, timeout=WAIT):
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(5)
        self._eof = True
        self._reader.join(2)
        self.proc.stdout.close()

    def cpu_seconds(self):
        """user+system CPU time of the process, from /proc."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# The fake Runtime API.


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        api = self.server.api
        api.peers.add(self.client_address[1])
        if self.path != NEXT_PATH:
            self._send(404, b'{"errorType":"NotFound"}')
            return
        if api.next_status != 200:
            self._send(api.next_status, b'{"errorMessage":"Internal Server Error","errorType":"InternalServerError"}')
            return
        while True:
            try:
                event = api.events.get(timeout=0.05)
                break
            except queue.Empty:
                if api.stopping or api.next_status != 200:
                    self.close_connection = True
                    if not api.stopping:
                        self._send(api.next_status, b'{"errorType":"InternalServerError"}')
                    return
        api.served[event["headers"]["Lambda-Runtime-Aws-Request-Id"]] = time.monotonic()
        self._send(200, event["body"], event["headers"])

    def do_POST(self):
        api = self.server.api
        api.peers.add(self.client_address[1])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        log = api.proc.drain() if api.proc is not None else b""
        m = POST_PATH.match(self.path)
        if not m:
            self._send(404, b'{"errorType":"NotFound"}')
            return
        kind = "init_error" if m.group(3) else m.group(2)
        api.posts.put(
            {
                "kind": kind,
                "id": m.group(1),
                "body": body,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "log": log.decode("utf-8", "replace"),
                "time": time.monotonic(),
            }
        )
        self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a runtime killed mid-request is expected, not news


class FakeRuntimeAPI:
    def __init__(self):
        self.events = queue.Queue()
        self.posts = queue.Queue()
        self.proc = None
        self.next_status = 200
        self.peers = set()
        self.served = {}  # request id -> when /next handed it out
        self.stopping = False
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.api = self
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def add(self, event=None, raw=None, request_id=None, deadline_ms=None, headers=None):
        """Queues an invocation; returns its request id."""
        request_id = request_id or str(uuid.uuid4())
        h = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms or int(time.time() * 1000) + 3000),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:fn-under-test",
            "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        }
        h.update(headers or {})
        body = raw if raw is not None else json.dumps(event if event is not None else {}).encode()
        self.events.put({"body": body, "headers": h})
        return request_id

    def wait_post(self, timeout=WAIT):
        try:
            return self.posts.get(timeout=timeout)
        except queue.Empty:
            out = self.proc.output() if self.proc else ""
            raise AssertionError("no post from the runtime within %.0f s; its output:\n%s" % (timeout, out[-3000:]))

    def close(self):
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(2)


def lambda_env(api, task_root, handler, extra=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "HOME": task_root,
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": os.path.dirname(PY_BOOTSTRAP),
        "_HANDLER": handler,
        "AWS_LAMBDA_FUNCTION_NAME": "fn-under-test",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn-under-test",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda; keep the repo clean too
    }
    env.update(extra or {})
    return env


def write_files(root, files):
    for name, text in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))


class RuntimeCase(unittest.TestCase):
    """Starts bootstraps against fresh fake Runtime APIs; cleans all up."""

    def setUp(self):
        self._rt_cleanups = []

    def tearDown(self):
        for fn in reversed(self._rt_cleanups):
            try:
                fn()
            except Exception:
                pass

    def task_root(self, files=None):
        root = tempfile.mkdtemp(prefix="coldsec-rt-")
        self._rt_cleanups.append(lambda: shutil.rmtree(root, ignore_errors=True))
        if files:
            write_files(root, files)
        return root

    def start(self, argv, task_root, handler, extra_env=None):
        api = FakeRuntimeAPI()
        proc = RuntimeProcess(argv, lambda_env(api, task_root, handler, extra_env), task_root)
        api.proc = proc
        self._rt_cleanups.append(api.close)
        self._rt_cleanups.append(proc.kill)
        return api, proc

    def invoke(self, api, event=None, **kw):
        rid = api.add(event, **kw)
        post = api.wait_post()
        self.assertEqual(post["id"], rid, post)
        return post

    def assertLogHas(self, text, log):
        if text not in log:
            self.fail("%r not in the log; its tail:\n%s" % (text, log[-1500:]))

    def assertLogMatches(self, log, pattern):
        if not re.search(pattern, log):
            self.fail("%r does not match the log; its tail:\n%s" % (pattern, log[-1500:]))

    def assertLogLacks(self, text, log):
        if text in log:
            self.fail("%r unexpectedly in the log" % (text,))

    def assert_exits(self, proc, code):
        try:
            rc = proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.fail("runtime did not exit; output:\n" + proc.output()[-2000:])
        self.assertEqual(rc, code, proc.output()[-2000:])


# --------------------------------------------------------------------------
# Python.


class PythonRuntimeContract(RuntimeCase):
    def py(self, task_root, handler, extra_env=None):
        return self.start([PYTHON, PY_BOOTSTRAP], task_root, handler, extra_env)

    def test_hello_state_persists_on_one_keepalive_connection(self):
        api, proc = self.py(os.path.join(FUNCTIONS, "hello-python"), "handler.handler", {"GREETING": "hi"})
        first = self.invoke(api, {"a": 1})
        second = self.invoke(api, {"a": 2})
        self.assertEqual(first["kind"], "response")
        self.assertEqual(first["headers"].get("content-type"), "application/json")
        a, b = json.loads(first["body"]), json.loads(second["body"])
        self.assertEqual(a["message"], "hi")
        self.assertEqual(a["runtime"], "python")
        self.assertEqual((a["invocation"], a["cold"]), (1, True))
        self.assertEqual((b["invocation"], b["cold"]), (2, False))
        self.assertEqual(a["env_id"], b["env_id"])
        self.assertRegex(a["env_id"], r"^[0-9a-f]{16}$")
        self.assertEqual(len(api.peers), 1, "every request must reuse one connection")

    def test_context_event_and_dotted_module(self):
        root = self.task_root(
            {
                "pkg/__init__.py": "",
                "pkg/mod.py": """
                import os, time
                def fn(event, context):
                    r1 = context.get_remaining_time_in_millis()
                    time.sleep(0.05)
                    r2 = context.get_remaining_time_in_millis()
                    cc = context.client_context
                    return {
                        "event": event,
                        "function_name": context.function_name,
                        "function_version": context.function_version,
                        "invoked_function_arn": context.invoked_function_arn,
                        "memory_limit_in_mb": context.memory_limit_in_mb,
                        "aws_request_id": context.aws_request_id,
                        "log_group_name": context.log_group_name,
                        "log_stream_name": context.log_stream_name,
                        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
                        "client_custom": cc.custom if cc else None,
                        "client_app": cc.client.app_title if cc else None,
                        "remaining": [r1, r2],
                        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                    }
                """,
            }
        )
        api, proc = self.py(root, "pkg.mod.fn")
        rid = api.add(
            {"k": "v\u00e9", "n": [1, 2.5, None]},
            deadline_ms=int(time.time() * 1000) + 60000,
            headers={
                "Lambda-Runtime-Client-Context": json.dumps({"custom": {"tenant": "t1"}, "client": {"app_title": "app"}, "env": {}}),
                "Lambda-Runtime-Cognito-Identity": json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}),
            },
        )
        post = api.wait_post()
        self.assertEqual(post["kind"], "response", post)
        r = json.loads(post["body"])
        self.assertEqual(r["event"], {"k": "v\u00e9", "n": [1, 2.5, None]})
        self.assertEqual(r["function_name"], "fn-under-test")
        self.assertEqual(r["function_version"], "$LATEST")
        self.assertEqual(r["invoked_function_arn"], "arn:aws:lambda:us-east-1:000000000000:function:fn-under-test")
        self.assertEqual(r["memory_limit_in_mb"], "256")  # a string, as awslambdaric gives it
        self.assertEqual(r["aws_request_id"], rid)
        self.assertEqual(r["log_group_name"], "/aws/lambda/fn-under-test")
        self.assertEqual(r["log_stream_name"], "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef")
        self.assertEqual(r["identity"], ["id-1", "pool-1"])
        self.assertEqual((r["client_custom"], r["client_app"]), ({"tenant": "t1"}, "app"))
        r1, r2 = r["remaining"]
        self.assertTrue(50000 < r1 <= 60000, r1)
        self.assertTrue(r2 <= r1 - 40, (r1, r2))
        self.assertEqual(r["trace"], "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")

        # an invocation without trace header removes the variable; past deadline gives 0
        rid = api.add({}, deadline_ms=int(time.time() * 1000) - 10, headers={"Lambda-Runtime-Trace-Id": ""})
        r = json.loads(api.wait_post()["body"])
        self.assertEqual(r["remaining"], [0, 0])
        self.assertIsNone(r["trace"])

    def test_none_bytes_and_marshal_errors(self):
        root = self.task_root(
            {
                "h.py": """
                def none(event, context):
                    return None
                def bad(event, context):
                    return {"s": {1, 2}}
                def dec(event, context):
                    import decimal
                    return {"f": decimal.Decimal("1.5"), "i": decimal.Decimal("2")}
                def raw(event, context):
                    return b"\\x00raw"
                """
            }
        )
        api, proc = self.py(root, "h.none")
        self.assertEqual(self.invoke(api, {})["body"], b"null")
        api, proc = self.py(root, "h.dec")
        self.assertEqual(json.loads(self.invoke(api, {})["body"]), {"f": 1.5, "i": 2})
        api, proc = self.py(root, "h.raw")
        post = self.invoke(api, {})
        self.assertEqual((post["body"], post["headers"]["content-type"]), (b"\x00raw", "application/unknown"))
        # an event that is not JSON
        post = self.invoke(api, raw=b"{not json")
        self.assertEqual(post["kind"], "error")
        err = json.loads(post["body"])
        self.assertEqual(err["errorType"], "Runtime.UnmarshalError")
        self.assertTrue(err["errorMessage"].startswith("Unable to unmarshal input: Expecting property name"), err)
        self.assertEqual(set(err), {"errorMessage", "errorType", "requestId", "stackTrace"})
        self.assertEqual(err["stackTrace"], [])

        api, proc = self.py(root, "h.bad")
        post = self.invoke(api, {})
        err = json.loads(post["body"])
        self.assertEqual(err["errorType"], "Runtime.MarshalError")
        self.assertEqual(err["errorMessage"], "Unable to marshal response: Object of type set is not JSON serializable")
        self.assertLogHas("[ERROR] Runtime.MarshalError: Unable to marshal response", post["log"])

    def test_unhandled_exception_shape_log_and_survival(self):
        root = self.task_root(
            {
                "app.py": """
                def helper(x):
                    raise ValueError("boom %s" % x)
                def handler(event, context):
                    if event.get("fail"):
                        helper(event["fail"])
                    return {"ok": True}
                """
            }
        )
        api, proc = self.py(root, "app.handler")
        post = self.invoke(api, {"fail": "now"})
        self.assertEqual(post["kind"], "error")
        self.assertEqual(post["headers"].get("lambda-runtime-function-error-type"), "Unhandled")
        err = json.loads(post["body"])
        self.assertEqual(list(err), ["errorMessage", "errorType", "requestId", "stackTrace"])
        self.assertEqual(err["errorMessage"], "boom now")
        self.assertEqual(err["errorType"], "ValueError")
        self.assertEqual(err["requestId"], post["id"])
        self.assertEqual(len(err["stackTrace"]), 2, err["stackTrace"])  # handler, helper: bootstrap frames stripped
        self.assertRegex(err["stackTrace"][0], r'^  File ".*/app\.py", line \d+, in handler\n    helper\(event\["fail"\]\)\n$')
        self.assertIn("in helper", err["stackTrace"][1])
        self.assertFalse(any("bootstrap.py" in f for f in err["stackTrace"]))
        log = post["log"]
        self.assertLogHas("[ERROR] ValueError: boom now\nTraceback (most recent call last):\n", log)
        self.assertLogHas('\u00a0\u00a0File "', log)  # awslambdaric's no-break-space indentation
        # the environment survives an unhandled exception
        ok = self.invoke(api, {})
        self.assertEqual(json.loads(ok["body"]), {"ok": True})

    def test_flush_logging_format_and_levels(self):
        root = self.task_root(
            {
                "chatty.py": """
                import logging, sys
                log = logging.getLogger("app")
                def handler(event, context):
                    for i in range(2000):
                        print("line %d %s" % (i, "x" * 100))
                    sys.stderr.write("stderr-marker\\n")
                    log.debug("debug-marker")
                    log.info("info-marker")
                    log.warning("warning-marker")
                    print("LAST-LINE")
                    # written below the Unbuffered wrappers: only the runtime's flush sends these
                    sys.stdout.buffer.write(b"raw-stdout-marker\\n")
                    sys.stderr.buffer.write(b"raw-stderr-marker\\n")
                    return "done"
                """
            }
        )
        api, proc = self.py(root, "chatty.handler")
        post = self.invoke(api, {})
        self.assertEqual(post["body"], b'"done"')
        log = post["log"]
        self.assertLogHas("line 1999 " + "x" * 100 + "\n", log)
        for marker in ("raw-stdout-marker\n", "raw-stderr-marker\n", "stderr-marker\n", "LAST-LINE\n"):
            self.assertLogHas(marker, log)
        self.assertLogMatches(log, r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\twarning-marker\n" % post["id"])
        # as on AWS, the root logger stays at WARNING unless AWS_LAMBDA_LOG_LEVEL says otherwise
        self.assertLogLacks("info-marker", log)

        api, proc = self.py(root, "chatty.handler", {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"})
        log = self.invoke(api, {})["log"]
        self.assertLogMatches(log, r"\[DEBUG\]\t\S+Z\t\S+\tdebug-marker\n")
        self.assertLogMatches(log, r"\[INFO\]\t\S+Z\t\S+\tinfo-marker\n")

    def test_init_errors(self):
        root = self.task_root(
            {
                "ok.py": "def handler(e, c):\n    return 1\n",
                "bad.py": "def handler(e, c)\n    return 1\n",
                "needs.py": "import no_such_dependency\n",
                "raises.py": "raise RuntimeError('init failed')\n",
            }
        )
        cases = [
            ("nosuch.handler", "Runtime.ImportModuleError", "Unable to import module 'nosuch': No module named 'nosuch'"),
            ("needs.handler", "Runtime.ImportModuleError", "Unable to import module 'needs': No module named 'no_such_dependency'"),
            ("ok.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'ok'"),
            ("bad.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'bad': "),
            ("nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values to unpack"),
            ("sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
            ("raises.handler", "RuntimeError", "init failed"),
        ]
        started = [(case, self.py(root, case[0])) for case in cases]  # all at once: quicker
        for (handler, etype, message), (api, proc) in started:
            with self.subTest(handler=handler):
                post = api.wait_post()
                self.assertEqual(post["kind"], "init_error")
                self.assertEqual(post["headers"].get("lambda-runtime-function-error-type"), etype)
                err = json.loads(post["body"])
                self.assertEqual(list(err), ["errorMessage", "errorType", "requestId", "stackTrace"])
                self.assertEqual(err["errorType"], etype)
                self.assertTrue(err["errorMessage"].startswith(message), err["errorMessage"])
                self.assertEqual(err["requestId"], "")
                log = post["log"]
                self.assertLogMatches(log, r"\[WARNING\]\t\S+Z\t\tLAMBDA_WARNING: Unhandled exception\. The most likely cause")
                self.assertLogHas("[ERROR] %s: %s" % (etype, message), log)
                self.assertLogHas("Traceback (most recent call last):", log)
                if etype == "Runtime.UserCodeSyntaxError":
                    self.assertRegex(err["stackTrace"][0], r'^  File ".*/bad\.py" Line 1\n')
                if etype == "RuntimeError":
                    self.assertIn("raises.py", err["stackTrace"][-1])
                self.assert_exits(proc, 1)

    def test_chunked_and_close_delimited_answers(self):
        """The Python runtime speaks HTTP itself: chunked bodies, bodies ended
        by closing, and servers that close after an answer must all work."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        self._rt_cleanups.append(srv.close)
        posts = queue.Queue()

        def serve():
            gets = 0
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                rfile = conn.makefile("rb")
                while True:
                    line = rfile.readline()
                    if not line:
                        break
                    length = 0
                    while True:
                        h = rfile.readline()
                        if h in (b"\r\n", b""):
                            break
                        if h.lower().startswith(b"content-length:"):
                            length = int(h.split(b":")[1])
                    body = rfile.read(length)
                    close = False
                    if line.startswith(b"GET"):
                        gets += 1
                        head = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: rid-%d\r\nLambda-Runtime-Deadline-Ms: %d\r\n" % (
                            gets,
                            int(time.time() * 1000) + 3000,
                        )
                        payload = json.dumps({"n": gets}).encode()
                        if gets == 1:  # chunked, in two chunks, with a trailer
                            half = len(payload) // 2
                            conn.sendall(
                                head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\nX-T: 1\r\n\r\n"
                                % (half, payload[:half], len(payload) - half, payload[half:])
                            )
                        elif gets == 2:  # no length: the body ends when the server closes
                            conn.sendall(head + b"Connection: close\r\n\r\n" + payload)
                            close = True
                        else:
                            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}")
                    else:
                        posts.put((line.split()[1].decode(), body))
                        conn.sendall(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}")
                        close = True
                    if close:
                        break
                rfile.close()
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
        root = self.task_root({"echo.py": "def handler(event, context):\n    return event\n"})

        class _Addr:
            address = "127.0.0.1:%d" % srv.getsockname()[1]

        proc = RuntimeProcess([PYTHON, PY_BOOTSTRAP], lambda_env(_Addr, root, "echo.handler"), root)
        self._rt_cleanups.append(proc.kill)
        for n in (1, 2):
            path, body = posts.get(timeout=WAIT)
            self.assertEqual(path, "/2018-06-01/runtime/invocation/rid-%d/response" % n)
            self.assertEqual(json.loads(body), {"n": n})
        self.assert_exits(proc, 1)

    def test_runtime_api_500_ends_the_runtime(self):
        api, proc = self.py(os.path.join(FUNCTIONS, "hello-python"), "handler.handler")
        self.invoke(api, {})
        api.next_status = 500
        self.assert_exits(proc, 1)


# --------------------------------------------------------------------------
# Node.


@unittest.skipIf(NODE is None, "node is not installed")
class NodeRuntimeContract(RuntimeCase):
    def node(self, task_root, handler, extra_env=None):
        return self.start([NODE, NODE_BOOTSTRAP], task_root, handler, extra_env)

    def test_hello_cjs_and_esm_state_persists(self):
        for folder in ("hello-node", "hello-node-esm"):
            with self.subTest(folder=folder):
                api, proc = self.node(os.path.join(FUNCTIONS, folder), "index.handler", {"GREETING": "hey"})
                a = json.loads(self.invoke(api, {})["body"])
                b = json.loads(self.invoke(api, {})["body"])
                self.assertEqual((a["message"], a["runtime"]), ("hey", "node"))
                self.assertEqual((a["invocation"], a["cold"], b["invocation"], b["cold"]), (1, True, 2, False))
                self.assertEqual(a["env_id"], b["env_id"])
                self.assertEqual(len(api.peers), 1, "every request must reuse one connection")

    def test_context_nested_handler_and_module_kinds(self):
        root = self.task_root(
            {
                "src/app.js": """
                exports.obj = { fn: async (event, context) => {
                  const r1 = context.getRemainingTimeInMillis();
                  await new Promise((r) => setTimeout(r, 50));
                  return {
                    event,
                    functionName: context.functionName,
                    functionVersion: context.functionVersion,
                    invokedFunctionArn: context.invokedFunctionArn,
                    memoryLimitInMB: context.memoryLimitInMB,
                    awsRequestId: context.awsRequestId,
                    logGroupName: context.logGroupName,
                    logStreamName: context.logStreamName,
                    clientContext: context.clientContext,
                    identity: context.identity,
                    waits: context.callbackWaitsForEmptyEventLoop,
                    remaining: [r1, context.getRemainingTimeInMillis()],
                    trace: process.env._X_AMZN_TRACE_ID,
                  };
                } };
                """,
                "esm/package.json": '{"type": "module"}',
                "esm/mod.js": "export const handler = async (e) => ({ kind: 'esm-js', typeofRequire: typeof require });\n",
                "cjs.cjs": "module.exports.handler = async () => ({ kind: 'cjs' });\n",
            }
        )
        api, proc = self.node(root, "src/app.obj.fn")
        rid = api.add(
            {"k": "v\u00e9"},
            deadline_ms=int(time.time() * 1000) + 60000,
            headers={
                "Lambda-Runtime-Client-Context": json.dumps({"custom": {"tenant": "t1"}}),
                "Lambda-Runtime-Cognito-Identity": json.dumps({"cognitoIdentityId": "id-1"}),
            },
        )
        post = api.wait_post()
        self.assertEqual(post["kind"], "response", post)
        r = json.loads(post["body"])
        self.assertEqual(r["event"], {"k": "v\u00e9"})
        self.assertEqual(r["functionName"], "fn-under-test")
        self.assertEqual(r["functionVersion"], "$LATEST")
        self.assertEqual(r["invokedFunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:fn-under-test")
        self.assertEqual(r["memoryLimitInMB"], "256")  # a string, as on AWS
        self.assertEqual(r["awsRequestId"], rid)
        self.assertEqual(r["logGroupName"], "/aws/lambda/fn-under-test")
        self.assertEqual(r["logStreamName"], "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef")
        self.assertEqual(r["clientContext"], {"custom": {"tenant": "t1"}})
        self.assertEqual(r["identity"], {"cognitoIdentityId": "id-1"})
        self.assertIs(r["waits"], True)
        r1, r2 = r["remaining"]
        self.assertTrue(50000 < r1 <= 60000, r1)
        self.assertTrue(r2 <= r1 - 40, (r1, r2))
        self.assertTrue(r["trace"].startswith("Root=1-"))

        for handler, expected in (("esm/mod.handler", {"kind": "esm-js", "typeofRequire": "undefined"}), ("cjs.handler", {"kind": "cjs"})):
            with self.subTest(handler=handler):
                api, proc = self.node(root, handler)
                self.assertEqual(json.loads(self.invoke(api, {})["body"]), expected)

    def test_callback_handlers_and_empty_event_loop(self):
        root = self.task_root(
            {
                "cb.js": """
                exports.wait = (event, context, callback) => {
                  setTimeout(() => console.log('timer-fired'), 300);
                  callback(null, { via: 'callback' });
                };
                exports.nowait = (event, context, callback) => {
                  context.callbackWaitsForEmptyEventLoop = false;
                  setTimeout(() => console.log('late-timer'), 300);
                  callback(null, { via: 'nowait' });
                };
                exports.succeed = (event, context) => { context.succeed({ via: 'succeed' }); };
                exports.done = (event, context) => { context.done(new Error('done-error')); };
                exports.sync = (event) => ({ ignored: true });
                exports.never = async () => new Promise(() => {});
                exports.twice = (event, context, callback) => { callback(null, 1); callback(null, 2); };
                """
            }
        )
        api, proc = self.node(root, "cb.wait")
        post = self.invoke(api, {})
        self.assertEqual(json.loads(post["body"]), {"via": "callback"})
        self.assertGreaterEqual(post["time"] - api.served[post["id"]], 0.28, "the result must wait for the empty event loop")
        self.assertLogHas("\tINFO\ttimer-fired\n", post["log"])

        api, proc = self.node(root, "cb.nowait")
        post = self.invoke(api, {})
        self.assertEqual(json.loads(post["body"]), {"via": "nowait"})
        self.assertLess(post["time"] - api.served[post["id"]], 0.25)
        self.assertLogLacks("late-timer", post["log"])

        expectations = {
            "cb.succeed": ("response", {"via": "succeed"}),
            "cb.done": ("error", "done-error"),
            "cb.sync": ("response", None),  # a sync handler's return value is ignored, as on AWS
            "cb.never": ("error", "Runtime.NodeJsExit"),
            "cb.twice": ("response", 1),
        }
        for handler, (kind, expected) in expectations.items():
            with self.subTest(handler=handler):
                api, proc = self.node(root, handler)
                post = self.invoke(api, {})
                self.assertEqual(post["kind"], kind, post)
                body = json.loads(post["body"])
                if kind == "response":
                    self.assertEqual(body, expected)
                else:
                    self.assertIn(expected, (body["errorType"], body["errorMessage"]))
                # the environment keeps serving
                api.add({})
                self.assertEqual(api.wait_post()["kind"], kind)

    def test_invocation_errors(self):
        root = self.task_root(
            {
                "e.js": """
                function inner() { throw new TypeError('bad thing'); }
                exports.asyncThrow = async () => { inner(); };
                exports.syncThrow = () => { inner(); };
                exports.cbError = (e, c, cb) => { cb(new Error('cb failed')); };
                exports.cbString = (e, c, cb) => { cb('plain string'); };
                exports.circular = async () => { const o = {}; o.o = o; return o; };
                """
            }
        )
        cases = {
            "e.asyncThrow": ("TypeError", "bad thing"),
            "e.syncThrow": ("TypeError", "bad thing"),
            "e.cbError": ("Error", "cb failed"),
            "e.cbString": ("string", "plain string"),
            "e.circular": ("Error", "Unable to stringify response body"),
        }
        for handler, (etype, message) in cases.items():
            with self.subTest(handler=handler):
                api, proc = self.node(root, handler)
                post = self.invoke(api, {})
                self.assertEqual(post["kind"], "error")
                self.assertEqual(post["headers"].get("lambda-runtime-function-error-type"), "Unhandled")
                err = json.loads(post["body"])
                self.assertEqual(list(err), ["errorType", "errorMessage", "trace"])
                self.assertEqual((err["errorType"], err["errorMessage"]), (etype, message))
                if etype == "TypeError":
                    self.assertEqual(err["trace"][0], "TypeError: bad thing")
                    self.assertIn("e.js", err["trace"][1])
                self.assertLogMatches(
                    post["log"],
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tERROR\tInvoke Error \t\{\"errorType\":\"%s\"" % (post["id"], etype if etype != "string" else "Error"),
                )
                self.assertEqual(json.loads(self.invoke(api, {})["body"])["errorType"], etype)  # survives

    def test_uncaught_exception_and_unhandled_rejection_end_the_environment(self):
        root = self.task_root(
            {
                "u.js": """
                exports.rejects = async () => { Promise.reject(new Error('nobody catches')); await new Promise((r) => setTimeout(r, 100)); return 1; };
                exports.throwsLater = (e, c, cb) => { setTimeout(() => { throw new RangeError('from a timer'); }, 10); };
                """
            }
        )
        for handler, etype, message, code in (
            ("u.rejects", "Runtime.UnhandledPromiseRejection", "Error: nobody catches", 128),
            ("u.throwsLater", "RangeError", "from a timer", 129),
        ):
            with self.subTest(handler=handler):
                api, proc = self.node(root, handler)
                post = self.invoke(api, {})
                self.assertEqual(post["kind"], "error")
                err = json.loads(post["body"])
                self.assertEqual((err["errorType"], err["errorMessage"]), (etype, message))
                self.assert_exits(proc, code)

    def test_console_format_levels_and_flush(self):
        root = self.task_root(
            {
                "log.js": """
                exports.handler = async () => {
                  const chunk = 'y'.repeat(1000);
                  for (let i = 0; i < 1000; i++) console.log('line %d %s', i, chunk);
                  process.stdout.write('raw-stdout-marker\\n');
                  process.stderr.write('x'.repeat(200000) + 'raw-stderr-marker\\n');
                  console.info('info-marker');
                  console.warn('warn-marker');
                  console.error('error-marker', { a: 1 });
                  console.debug('debug-marker');
                  console.log('LAST-LINE');
                  return 'done';
                };
                """
            }
        )
        api, proc = self.node(root, "log.handler")
        post = self.invoke(api, {})
        self.assertEqual(post["body"], b'"done"')
        log, rid = post["log"], post["id"]
        ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
        self.assertLogMatches(log, r"(?m)^%s\t%s\tINFO\tline 999 y{1000}$" % (ts, rid))
        self.assertLogHas("raw-stdout-marker\n", log)
        self.assertLogHas("raw-stderr-marker\n", log)
        # stdout and stderr are two streams on one pipe: when the 200 KB
        # stderr write is only partly taken by a busy reader, Node finishes it
        # asynchronously and the (small, atomic) console lines that follow may
        # land inside the x's. Each line must be whole, not at a line start.
        after = r"(?m)(?:^|x)%s\t%s\t"
        self.assertLogMatches(log, after % (ts, rid) + r"INFO\tinfo-marker$")
        self.assertLogMatches(log, after % (ts, rid) + r"WARN\twarn-marker$")
        self.assertLogMatches(log, after % (ts, rid) + r"ERROR\terror-marker \{ a: 1 \}$")
        self.assertLogMatches(log, after % (ts, rid) + r"DEBUG\tdebug-marker$")
        self.assertLogMatches(log, after % (ts, rid) + r"INFO\tLAST-LINE$")

        api, proc = self.node(root, "log.handler", {"AWS_LAMBDA_LOG_LEVEL": "WARN"})
        log = self.invoke(api, {})["log"]
        self.assertLogLacks("info-marker", log)
        self.assertLogLacks("LAST-LINE", log)
        self.assertLogHas("\tWARN\twarn-marker", log)

    def test_init_errors(self):
        root = self.task_root(
            {
                "ok.js": "exports.handler = async () => 1;\nexports.notfn = 42;\n",
                "bad.js": "exports.handler = async () => {{ 1;\n",
                "badesm.mjs": "export const handler = async () => {{ 1;\n",
                "needs.js": "require('no-such-dependency');\n",
                "throws.js": "throw new RangeError('init failed');\n",
            }
        )
        cases = [
            ("nosuch.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'nosuch'"),
            ("needs.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'no-such-dependency'"),
            ("ok.nope", "Runtime.HandlerNotFound", "ok.nope is undefined or not exported"),
            ("ok.notfn", "Runtime.HandlerNotFound", "ok.notfn is not a function"),
            ("bad.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: "),
            ("badesm.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: "),
            ("nodot", "Runtime.MalformedHandlerName", "Bad handler"),
            ("../etc.handler", "Runtime.MalformedHandlerName", "'../etc.handler' is not a valid handler name."),
            ("throws.handler", "RangeError", "init failed"),
        ]
        started = [(case, self.node(root, case[0])) for case in cases]
        for (handler, etype, message), (api, proc) in started:
            with self.subTest(handler=handler):
                post = api.wait_post()
                self.assertEqual(post["kind"], "init_error")
                self.assertEqual(post["headers"].get("lambda-runtime-function-error-type"), etype)
                err = json.loads(post["body"])
                self.assertEqual(list(err), ["errorType", "errorMessage", "trace"])
                self.assertEqual(err["errorType"], etype)
                self.assertTrue(err["errorMessage"].startswith(message), err["errorMessage"])
                self.assertTrue(err["trace"][0].startswith(etype), err["trace"][:2])
                self.assertLogMatches(post["log"], r"\S+Z\tundefined\tERROR\tUncaught Exception \t\{\"errorType\":\"%s\"" % re.escape(etype))
                self.assert_exits(proc, 129)

    def test_runtime_api_500_ends_the_runtime(self):
        api, proc = self.node(os.path.join(FUNCTIONS, "hello-node"), "index.handler")
        self.invoke(api, {})
        api.next_status = 500
        self.assert_exits(proc, 1)


# --------------------------------------------------------------------------
# provided: the C sample.


def build_hello_c():
    """Builds build/functions/hello-c/bootstrap; returns an error text or None."""
    if not shutil.which("make"):
        return "make is not installed"
    r = subprocess.run(
        ["make", "--no-print-directory", "build/functions/hello-c/bootstrap"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=120,
    )
    if r.returncode != 0:
        return r.stdout.decode("utf-8", "replace")
    return None


class ProvidedCRuntimeContract(RuntimeCase):
    @classmethod
    def setUpClass(cls):
        cls.build_error = build_hello_c()

    def c(self):
        if self.build_error:
            self.fail("make build/functions/hello-c/bootstrap failed:\n" + self.build_error)
        root = self.task_root()
        return self.start([HELLO_C], root, "unused")

    def test_hello_c_keepalive_and_counter(self):
        api, proc = self.c()
        for n in (1, 2, 3):
            post = self.invoke(api, {"n": n})
            self.assertEqual(post["kind"], "response")
            self.assertEqual(json.loads(post["body"]), {"message": "hello", "runtime": "c", "invocation": n})
        self.assertEqual(len(api.peers), 1, "every request must reuse one connection")

    def test_hello_c_exits_on_500(self):
        api, proc = self.c()
        self.invoke(api, {})
        api.next_status = 500
        self.assert_exits(proc, 1)
        self.assertIn("answered 500", proc.output())


# --------------------------------------------------------------------------
# Benchmark (not a test): python3 tests/integration/test_runtime_contract.py bench [N]


def _bench_server(sock, n, stop):
    """Serves n invocations on one accepted connection as fast as Python can."""
    conn, _ = sock.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rfile = conn.makefile("rb")
    body = b'{"bench":true}'
    served = 0
    t_first = None
    deadline = str(int(time.time() * 1000) + 3_600_000).encode()
    while served < n:
        line = rfile.readline()
        if not line:
            break
        length = 0
        while True:
            h = rfile.readline()
            if h in (b"\r\n", b""):
                break
            if h[:15].lower() == b"content-length:":
                length = int(h[15:])
        if length:
            rfile.read(length)
        if line.startswith(b"GET"):
            rid = b"00000000-0000-4000-8000-%012d" % served
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
                b"Lambda-Runtime-Deadline-Ms: %s\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:0:function:b\r\n"
                b"Lambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: %d\r\n\r\n%s" % (rid, deadline, len(body), body)
            )
        else:
            conn.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}")
            served += 1
            if served == 100:
                t_first = time.monotonic()
                stop["cpu0"] = stop["proc"].cpu_seconds()
    stop["elapsed"] = time.monotonic() - t_first
    stop["cpu1"] = stop["proc"].cpu_seconds()
    stop["served"] = served - 100
    conn.close()


def bench(n=5000):
    if build_hello_c():
        print("hello-c did not build")
    runs = [
        ("python", [PYTHON, PY_BOOTSTRAP], os.path.join(FUNCTIONS, "hello-python"), "handler.handler"),
        ("node", [NODE, NODE_BOOTSTRAP], os.path.join(FUNCTIONS, "hello-node"), "index.handler"),
        ("node-esm", [NODE, NODE_BOOTSTRAP], os.path.join(FUNCTIONS, "hello-node-esm"), "index.handler"),
        ("c", [HELLO_C], FUNCTIONS, "unused"),
    ]
    for name, argv, root, handler in runs:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)

        class _Addr:
            address = "127.0.0.1:%d" % sock.getsockname()[1]

        proc = RuntimeProcess(argv, lambda_env(_Addr, root, handler), root)
        state = {"proc": proc}
        try:
            _bench_server(sock, n + 100, state)
            per = state["elapsed"] / state["served"]
            cpu = (state["cpu1"] - state["cpu0"]) / state["served"]
            print(
                "%-9s %6d invokes in %.2f s: %7.0f invokes/s, %6.1f us wall and %6.1f us runtime CPU per invoke"
                % (name, state["served"], state["elapsed"], 1 / per, per * 1e6, cpu * 1e6)
            )
        finally:
            proc.kill()
            sock.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "bench":
        bench(int(sys.argv[2]) if len(sys.argv) > 2 else 5000)
    else:
        unittest.main()
