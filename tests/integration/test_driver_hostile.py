"""The coldsec driver against hostile or broken endpoints: a small HTTP
server in this file (raw sockets, 127.0.0.1, ephemeral port) answers what
each test tells it to, and coldsec is pointed at it with
AWS_ENDPOINT_URL_LAMBDA. Every case checks the exit status, that stderr
names the operation and the function with a sensible code, and that the
harm stays bounded: memory (peak RSS of the coldsec process, from GNU time),
time (--timeout honoured, retries counted) and the terminal (no escape
sequence or invalid byte from the server reaches stderr).

The server routes by the function name in the request path, so a test can
run several coldsec processes against it at once, each with its own
behaviour.
"""
import base64
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import traceback
import types
import unittest
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from driverfixture import coldsec_binary, coldsec_env
from labfixture import build_dir

FAKE_KEY = "AKIDHOSTILETEST0001"
FAKE_SECRET = "hostile/secret+key/0123456789abcdefghij"
FAKE_TOKEN = "hostile-session-token/+=0123456789"
REGION = "eu-west-3"
MB = 1024 * 1024
HUGE = 200 * MB
INVOKE_CAP = 6 * MB + 1024
API_CAP = 1 * MB
# Peak RSS allowed to coldsec while it refuses a 200 MB answer. Sanitizer
# builds carry shadow memory and quarantine: give them room.
RSS_LIMIT_KB = (512 if "asan" in build_dir() else 64) * 1024

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}
AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)"
                     r"/lambda/aws4_request, SignedHeaders=(?P<signed>[a-z0-9-]+(?:;[a-z0-9-]+)*), "
                     r"Signature=(?P<sig>[0-9a-f]{64})$")


# ---------------------------------------------------------------------------
# The server


class Request:
    """One request as the server read it off the wire."""

    def __init__(self, method, target, headers, body, conn_no):
        self.method, self.target, self.headers, self.body = method, target, headers, body
        self.conn_no = conn_no
        self.t = time.monotonic()
        self.path, _, self.query = target.partition("?")
        m = re.match(r"^/\d{4}-\d{2}-\d{2}/functions/([^/]+)(/.*)?$", self.path)
        self.function = urllib.parse.unquote(m.group(1)) if m else None
        self.suffix = (m.group(2) or "") if m else None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def __repr__(self):
        return f"<Request {self.method} {self.target} {len(self.body)} bytes>"


def read_request(conn, limit=256 * 1024):
    """Reads one HTTP/1.1 request (Content-Length bodies); None when the peer
    closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            raise ValueError("request head too large")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    length = 0
    for k, v in headers:
        if k.lower() == "content-length":
            length = int(v)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return method, target, headers, rest[:length]


def head_bytes(status, headers, reason=None):
    """A status line and headers; header values may be bytes (raw, hostile)."""
    out = f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Whatever')}\r\n".encode()
    for k, v in headers:
        v = v if isinstance(v, bytes) else str(v).encode("latin-1")
        out += k.encode() + b": " + v + b"\r\n"
    return out + b"\r\n"


def finish_close(conn, wait=2.0):
    """Closes gracefully: FIN, then waits for the client's own close so that
    no unread byte turns our close into a reset."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(wait)
        while conn.recv(65536):
            pass
    except OSError:
        pass


def reply(conn, status, body=b"", headers=(), content_type="application/json", reason=None):
    if isinstance(body, str):
        body = body.encode()
    hdrs = [("Content-Type", content_type), ("Content-Length", len(body)), ("Connection", "close"),
            ("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")] + list(headers)
    conn.sendall(head_bytes(status, hdrs, reason) + body)
    finish_close(conn)


def reply_json(conn, status, obj, headers=()):
    reply(conn, status, json.dumps(obj).encode(), headers)


def reset(conn):
    """Closes with a TCP RST (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class HostileServer:
    """A loopback HTTP server whose answers the test chooses per function:
    routes[function] = handler(server, conn, request, n) where n counts that
    function's requests from 1. Records every request."""

    def __init__(self, tls=None):
        self.tls = tls  # an ssl.SSLContext: serve HTTPS
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.routes = {}
        self.requests = []
        self.connections = 0
        self.problems = []
        self.streamed = {}   # function -> bytes of body written before the client left
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self.acceptor.start()

    def _accept_loop(self):
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            with self.lock:
                self.threads.append(t)

    def _serve(self, conn):
        with self.lock:
            self.connections += 1
            conn_no = self.connections
        try:
            conn.settimeout(10)
            if self.tls:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    with self.lock:
                        self.tls_refused = getattr(self, "tls_refused", 0) + 1
                    return
            got = read_request(conn)
            if got is None:
                return
            req = Request(*got, conn_no=conn_no)
            with self.lock:
                self.requests.append(req)
                n = sum(1 for r in self.requests if r.function == req.function)
                handler = self.routes.get(req.function)
            if handler is None:
                reply_json(conn, 400, {"message": f"no route for {req.function!r}"},
                           [("x-amzn-ErrorType", "NoRouteInTestServer")])
            else:
                handler(self, conn, req, n)
        except (ConnectionError, BrokenPipeError, socket.timeout):
            pass  # the client went away: often the point of the test
        except Exception:  # noqa: BLE001 - surfaced by the test's tearDown
            with self.lock:
                self.problems.append(traceback.format_exc())
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def requests_for(self, function, method=None):
        with self.lock:
            return [r for r in self.requests if r.function == function and (method is None or r.method == method)]

    def close(self):
        self.stop.set()
        self.sock.close()
        self.acceptor.join(5)
        for t in list(self.threads):
            t.join(5)


# ---------------------------------------------------------------------------
# Behaviours


def ok_payload(body, headers=()):
    def h(_srv, conn, _req, _n):
        reply(conn, 200, body, [("X-Amz-Executed-Version", "$LATEST")] + list(headers))
    return h


def stream_huge(total=HUGE, chunked=False, status=200, headers=()):
    """A head, then `total` bytes as fast as the client takes them."""
    def h(srv, conn, req, _n):
        hdrs = [("Content-Type", "application/json"), ("Connection", "close")] + list(headers)
        hdrs.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", total))
        conn.sendall(head_bytes(status, hdrs))
        block = b"A" * 65536
        sent = 0
        try:
            while sent < total and not srv.stop.is_set():
                if chunked:
                    conn.sendall(b"10000\r\n" + block + b"\r\n")
                else:
                    conn.sendall(block)
                sent += len(block)
        finally:
            with srv.lock:
                srv.streamed[req.function] = srv.streamed.get(req.function, 0) + sent
    return h


def drip(headers_first=True):
    """Headers, then one body byte a second for ever; or, with
    headers_first False, the status line and one header byte a second."""
    def h(srv, conn, _req, _n):
        if headers_first:
            conn.sendall(head_bytes(200, [("Content-Type", "application/json"), ("Content-Length", 100000)]))
            piece = b"x"
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            piece = b"y"
        while not srv.stop.wait(1.0):
            conn.sendall(piece)
    return h


def endless_headers(srv, conn, _req, _n):
    """A status line, then header lines for ever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    block = (b"X-Filler: " + b"v" * 50 + b"\r\n") * 1000
    while not srv.stop.is_set():
        conn.sendall(block)


def endless_header_line(srv, conn, _req, _n):
    """One header whose value never ends."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Long: ")
    block = b"v" * 65536
    while not srv.stop.is_set():
        conn.sendall(block)


def silent(srv, _conn, _req, _n):
    """Reads the request and never answers."""
    srv.stop.wait(30)


def sequence(*handlers):
    """The n-th request gets handlers[n-1] (the last one repeats)."""
    def h(srv, conn, req, n):
        handlers[min(n, len(handlers)) - 1](srv, conn, req, n)
    return h


def status_json(status, obj, error_type=None, headers=()):
    def h(_srv, conn, _req, _n):
        hdrs = list(headers)
        if error_type:
            hdrs.append(("x-amzn-ErrorType", error_type))
        reply(conn, status, json.dumps(obj).encode() if not isinstance(obj, bytes) else obj, hdrs)
    return h


def rst_after_request(_srv, conn, _req, _n):
    reset(conn)


def close_without_answer(_srv, conn, _req, _n):
    finish_close(conn, wait=0.5)


# ---------------------------------------------------------------------------
# Running coldsec


class Result:
    def __init__(self, args, rc, out, err, elapsed, maxrss_kb, killed):
        self.args, self.returncode, self.stdout, self.stderr = args, rc, out, err
        self.elapsed, self.maxrss_kb, self.killed = elapsed, maxrss_kb, killed

    def __repr__(self):
        return (f"<coldsec {' '.join(self.args)}: exit {self.returncode} in {self.elapsed:.2f}s, "
                f"maxrss {self.maxrss_kb} KB, stderr={self.stderr[-1500:]!r}, stdout={self.stdout[:300]!r}>")


TIME = "/usr/bin/time"


def run_measured(args, env, timeout=30, cwd=None):
    """Runs coldsec with stdout and stderr to files, under GNU time for its
    peak RSS (maxrss_kb; None without /usr/bin/time). Not os.wait4 on our own
    child: Python starts it with vfork, so its ru_maxrss would be this
    Python's. Kills the process group (time and coldsec) after timeout."""
    args = [str(a) for a in args]
    timed = os.access(TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="coldsec-rss-") as rss:
        argv = [coldsec_binary()] + args
        if timed:
            argv = [TIME, "-f", "%M", "-o", rss.name] + argv
        t0 = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=cwd,
                             start_new_session=True)
        killed = False
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            killed = True
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        elapsed = time.monotonic() - t0
        maxrss = None
        if timed:
            lines = rss.read().decode(errors="replace").strip().split("\n")
            maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else None
        out.seek(0)
        err.seek(0)
        return Result(args, p.returncode, out.read(), err.read(), elapsed, maxrss, killed)


def assert_terminal_safe(tc, data, what="stderr"):
    """Only printable ASCII, tab and newline: nothing a terminal interprets."""
    bad = [(i, b) for i, b in enumerate(data) if not (0x20 <= b < 0x7f or b in (0x0a, 0x09))]
    tc.assertFalse(bad, f"{what} holds {len(bad)} non-printable bytes, first at {bad[:5]}: {data[-800:]!r}")


# ---------------------------------------------------------------------------


class DriverHostileEndpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(coldsec_binary(), os.X_OK):
            raise unittest.SkipTest(f"{coldsec_binary()} is not built")

    def setUp(self):
        self.srv = HostileServer()
        self.env = coldsec_env(types.SimpleNamespace(key=FAKE_KEY, secret=FAKE_SECRET, region=REGION,
                                                     url=self.srv.url))
        self.addCleanup(shutil.rmtree, self.env["HOME"], True)

    def tearDown(self):
        self.srv.close()
        self.assertEqual(self.srv.problems, [], "the test server itself failed")

    def out_dir(self):
        d = tempfile.mkdtemp(prefix="coldsec-out-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def coldsec(self, *args, env=None, timeout=30, cwd=None):
        return run_measured(args, env or self.env, timeout=timeout, cwd=cwd)

    def parallel(self, runs):
        """runs: list of arg tuples; runs them at once."""
        with concurrent.futures.ThreadPoolExecutor(len(runs)) as ex:
            return list(ex.map(lambda a: self.coldsec(*a), runs))

    def assertFailed(self, r, op, function, code, status=None, exit_code=3):
        """Exit status, and the error line `coldsec: OP FUNCTION: [HTTP N ]CODE: ...`."""
        self.assertFalse(r.killed, f"coldsec had to be killed: {r!r}")
        self.assertEqual(r.returncode, exit_code, repr(r))
        err = r.stderr.decode("latin-1")
        codes = code if isinstance(code, tuple) else (code,)
        prefixes = [f"coldsec: {op} {function}: " + (f"HTTP {status} " if status else "") + f"{c}: " for c in codes]
        lines = [ln for ln in err.split("\n") if any(ln.startswith(p) for p in prefixes)]
        self.assertTrue(lines, f"no line starting {' or '.join(map(repr, prefixes))} in stderr:\n{err}")
        assert_terminal_safe(self, r.stderr)
        return lines[0]

    def assertRSS(self, r):
        if r.maxrss_kb is None:
            self.skipTest(f"{TIME} is missing: peak RSS not measured")
        self.assertGreater(r.maxrss_kb, 0, repr(r))
        self.assertLess(r.maxrss_kb, RSS_LIMIT_KB, f"peak RSS {r.maxrss_kb} KB: {r!r}")

    # -- size and time ----------------------------------------------------------------

    def test_huge_invoke_answer_is_refused_quickly_with_bounded_memory(self):
        cases = {"huge-length": stream_huge(), "huge-chunked": stream_huge(chunked=True),
                 "huge-error": stream_huge(status=500, headers=[("x-amzn-ErrorType", "ServiceException")])}
        self.srv.routes.update(cases)
        results = self.parallel([("invoke", name) for name in cases])
        for name, r in zip(cases, results):
            with self.subTest(case=name):
                line = self.assertFailed(r, "Invoke", name, "ResponseTooLarge")
                self.assertIn(str(INVOKE_CAP), line)
                self.assertLess(r.elapsed, 10, repr(r))
                self.assertEqual(r.stdout, b"", "a refused answer must not reach stdout")
                # The transfer was aborted, not read to the end; never retried.
                self.assertLess(self.srv.streamed.get(name, 0), 64 * MB, name)
                self.assertEqual(len(self.srv.requests_for(name)), 1, name)
                self.assertRSS(r)

    def test_endless_headers_are_refused_with_bounded_memory(self):
        cases = {"many-headers": endless_headers, "long-header": endless_header_line}
        self.srv.routes.update(cases)
        results = self.parallel([("invoke", name, "--max-attempts", "2") for name in cases])
        for name, r in zip(cases, results):
            with self.subTest(case=name):
                self.assertFailed(r, "Invoke", name, ("NetworkError", "ResponseTooLarge"))
                self.assertLess(r.elapsed, 10, repr(r))
                self.assertLessEqual(len(self.srv.requests_for(name)), 2, name)
                self.assertRSS(r)

    def test_huge_configuration_answer_is_refused_and_nothing_is_changed(self):
        self.srv.routes["huge-config"] = stream_huge()
        out = self.out_dir()
        r = self.coldsec("cold-start", "huge-config", "--allow-mutation", "--out", out)
        line = self.assertFailed(r, "GetFunctionConfiguration", "huge-config", "ResponseTooLarge")
        self.assertIn(str(API_CAP), line)
        self.assertEqual(self.srv.requests_for("huge-config", "PUT"), [])
        self.assertEqual(os.listdir(out), [])
        self.assertRSS(r)

    def test_slow_drip_and_silence_honour_the_timeout(self):
        cases = {"drip-body": drip(True), "drip-headers": drip(False), "silent": silent}
        self.srv.routes.update(cases)
        results = self.parallel([("invoke", name, "--timeout", "2") for name in cases])
        for name, r in zip(cases, results):
            with self.subTest(case=name):
                line = self.assertFailed(r, "Invoke", name, "Timeout")
                self.assertGreaterEqual(r.elapsed, 1.8, repr(r))
                self.assertLessEqual(r.elapsed, 6, repr(r))
                self.assertIn("2000 ms", line)
                # A timeout is final: retrying would multiply the user's limit.
                self.assertEqual(len(self.srv.requests_for(name)), 1, name)
        r = self.coldsec("cold-start", "silent", "--allow-mutation", "--timeout", "2",
                         "--out", self.out_dir())
        self.assertFailed(r, "GetFunctionConfiguration", "silent", "Timeout")
        self.assertLessEqual(r.elapsed, 6, repr(r))

    # -- bytes from the server ------------------------------------------------------

    def test_binary_invoke_payload_reaches_stdout_byte_for_byte(self):
        payload = (b"\x00\xff\xfe\x1b[2J\x1b]0;pwned\x07 \xc3\x28 \xed\xa0\x80 \x9b31m\r\n"
                   + bytes(range(256)) + b"\x00" * 10 + b"tail\xff")
        self.srv.routes["binary"] = ok_payload(payload, [("Content-Type", "application/octet-stream")])
        r = self.coldsec("invoke", "binary")
        self.assertEqual(r.returncode, 0, repr(r))
        self.assertEqual(r.stdout, payload)
        assert_terminal_safe(self, r.stderr)
        # A function error whose type carries escapes: exit 1, payload intact, stderr clean.
        self.srv.routes["binary-error"] = ok_payload(payload, [("X-Amz-Function-Error", b"Unhandled\x1b[31m\xff")])
        r = self.coldsec("invoke", "binary-error")
        self.assertEqual(r.returncode, 1, repr(r))
        self.assertEqual(r.stdout, payload)
        self.assertIn(b"binary-error returned a function error", r.stderr)
        self.assertNotIn(b"\x1b", r.stderr)
        self.assertNotIn(b"\xff", r.stderr)

    def test_escape_sequences_and_invalid_utf8_never_reach_stderr(self):
        evil = {
            "raw-bytes": (400, b'{"message":"\x1b[2Jevil\xff\x07\x9b1m\r\x08done"}', "InvalidRequestContentException"),
            "json-escapes": (400, b'{"message":"\\u001b[2Jevil\\u00ff\\u009b1m\\u0007\\u202edone"}',
                             "InvalidRequestContentException"),
            "code-in-body": (400, b'{"__type":"\\u001b]0;title\\u0007Bad","message":"evil\\u001b[31m"}', None),
            "error-type-header": (404, b'{"message":"evil"}', b"Resource\x1b[2JNotFound\xff"),
            "non-json": (400, b"evil\x1b[2J\xff\x00\x9b<html>", None),
        }
        for name, (status, body, etype) in evil.items():
            self.srv.routes[name] = (lambda st, b, et: lambda _s, conn, _r, _n: reply(
                conn, st, b, [("x-amzn-ErrorType", et)] if et else []))(status, body, etype)
        results = self.parallel([("invoke", name) for name in evil])
        for name, r in zip(evil, results):
            with self.subTest(case=name):
                self.assertEqual(r.returncode, 3, repr(r))
                err = r.stderr.decode("latin-1")
                self.assertIn(f"coldsec: Invoke {name}: HTTP {evil[name][0]} ", err)
                self.assertIn("evil", err)
                self.assertNotIn(b"\x1b", r.stderr)
                self.assertNotIn(b"\xff", r.stderr)
                assert_terminal_safe(self, r.stderr)
        # The log tail is the function's text: valid UTF-8 stays, controls do not.
        log = ("START RequestId: x\n\x1b[2Jcleared \x1b]0;title\x07 bidi\u202e \x9b ok é\nEND\n").encode() + b"\xff\xfe\n"
        self.srv.routes["evil-log"] = ok_payload(b"{}", [("X-Amz-Log-Result", base64.b64encode(log))])
        r = self.coldsec("invoke", "evil-log", "--log")
        self.assertEqual(r.returncode, 0, repr(r))
        self.assertIn(b"cleared", r.stderr)
        self.assertNotIn(b"\x1b", r.stderr)
        text = r.stderr.decode("utf-8")   # raises on invalid UTF-8
        self.assertFalse([c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f
                          or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"], repr(text))

    def test_bad_json_configuration_is_invalid_response_and_nothing_is_changed(self):
        good = {"FunctionName": "x", "FunctionArn": "arn:aws:lambda:eu-west-3:123456789012:function:x",
                "RevisionId": "11111111-2222-3333-4444-555555555555", "LastUpdateStatus": "Successful",
                "State": "Active", "Environment": {"Variables": {"A": "1"}}}
        bodies = {
            "cfg-garbage": b"{not json",
            "cfg-truncated": json.dumps(good).encode()[:-10],
            "cfg-array": b"[1,2,3]",
            "cfg-null": b"null",
            "cfg-string": b'"FunctionName"',
            "cfg-html": b"<html><body>200 OK</body></html>",
            "cfg-trailing-garbage": json.dumps(good).encode() + b"<html>oops</html>",
            "cfg-two-objects": json.dumps(good).encode() + json.dumps(good).encode(),
            "cfg-empty": b"",
        }
        for name, body in bodies.items():
            self.srv.routes[name] = ok_payload(body)
        outs = {name: self.out_dir() for name in bodies}
        results = self.parallel([("cold-start", name, "--allow-mutation", "--out", outs[name]) for name in bodies])
        for name, r in zip(bodies, results):
            with self.subTest(case=name):
                self.assertEqual(self.srv.requests_for(name, "PUT"), [],
                                 f"{name}: an UpdateFunctionConfiguration was sent after a bad answer: {r!r}")
                self.assertEqual([m for m in {q.method for q in self.srv.requests_for(name)}], ["GET"])
                self.assertEqual(os.listdir(outs[name]), [], f"{name}: a run folder or journal was written")
                self.assertFailed(r, "GetFunctionConfiguration", name, "InvalidResponse", status=200)

    def test_unreadable_environment_or_foreign_answer_is_refused_and_nothing_is_changed(self):
        def cfg(name, **over):
            c = {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
                 "RevisionId": "11111111-2222-3333-4444-555555555555", "LastUpdateStatus": "Successful",
                 "State": "Active", "Environment": {"Variables": {"A": "1"}}}
            c.update(over)
            return json.dumps(c).encode()
        cases = {
            # What GetFunctionConfiguration shows when the caller may not kms:Decrypt.
            "kms-error": (cfg("kms-error", KMSKeyArn="arn:aws:kms:eu-west-3:123456789012:key/k1",
                              Environment={"Error": {"ErrorCode": "AccessDeniedException",
                                                     "Message": "Lambda was unable to decrypt the environment "
                                                                "variables because KMS access was denied."}}),
                          2, "AccessDeniedException"),
            "other-fn": (cfg("someone-else"), 3, "answered for another function"),
            "failed-state": (cfg("failed-state", State="Failed", StateReason="The role is gone"), 2,
                             "State is Failed (The role is gone)"),
        }
        for name, (body, _code, _text) in cases.items():
            self.srv.routes[name] = ok_payload(body)
        outs = {name: self.out_dir() for name in cases}
        results = self.parallel([("cold-start", name, "--allow-mutation", "--out", outs[name]) for name in cases])
        for (name, (_body, code, text)), r in zip(cases.items(), results):
            with self.subTest(case=name):
                self.assertEqual(r.returncode, code, repr(r))
                self.assertIn(text.encode(), r.stderr)
                self.assertEqual(self.srv.requests_for(name, "PUT"), [], f"{name}: a PUT was sent: {r!r}")
                self.assertEqual(os.listdir(outs[name]), [], f"{name}: a run folder or journal was written")
                assert_terminal_safe(self, r.stderr)

    def test_update_that_fails_is_reported_with_awss_reason_and_restored(self):
        name = "upd-failed"
        base = {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
                "State": "Active", "Environment": {"Variables": {"A": "1"}}}
        original = dict(base, RevisionId="rev-1", LastUpdateStatus="Successful")
        state = {"cfg": original}

        def handler(_srv, conn, req, _n):
            if req.method == "PUT":
                body = json.loads(req.body)
                updated = dict(base, RevisionId="rev-%d" % (int(state["cfg"]["RevisionId"][4:]) + 1),
                               Environment=body["Environment"])
                if "COLDSEC_COLD_START_NONCE" in body["Environment"]["Variables"]:
                    state["cfg"] = dict(updated, LastUpdateStatus="Failed",
                                        LastUpdateStatusReason="The function could not be updated: EniLimitExceeded",
                                        LastUpdateStatusReasonCode="EniLimitExceeded")
                else:
                    state["cfg"] = dict(updated, LastUpdateStatus="Successful")
            reply_json(conn, 200, state["cfg"])
        self.srv.routes[name] = handler
        out = self.out_dir()
        r = self.coldsec("cold-start", name, "--allow-mutation", "--out", out)
        self.assertEqual(r.returncode, 3, repr(r))
        err = r.stderr.decode()
        self.assertIn("LastUpdateStatus Failed: The function could not be updated: EniLimitExceeded (EniLimitExceeded)",
                      err)
        self.assertIn("original variables restored", err)
        self.assertEqual(state["cfg"]["Environment"], {"Variables": {"A": "1"}})
        puts = self.srv.requests_for(name, "PUT")
        self.assertEqual(len(puts), 2)
        self.assertEqual(json.loads(puts[0].body)["RevisionId"], "rev-1")
        self.assertEqual(json.loads(puts[1].body)["RevisionId"], "rev-2")

    def test_https_is_verified_by_default_and_a_ca_bundle_is_honoured(self):
        d = self.out_dir()
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv = HostileServer(tls=ctx)
        self.addCleanup(srv.close)
        srv.routes["tls-fn"] = ok_payload(b'{"over":"tls"}')
        env = dict(self.env, AWS_ENDPOINT_URL_LAMBDA=srv.url)
        r = self.coldsec("invoke", "tls-fn", env=env)
        line = self.assertFailed(r, "Invoke", "tls-fn", "NetworkError")
        self.assertIn("certificate", line)
        self.assertEqual(srv.requests_for("tls-fn"), [], "a request went over an unverified connection")
        self.assertGreaterEqual(getattr(srv, "tls_refused", 0), 1)
        r = self.coldsec("invoke", "tls-fn", "--ca-bundle", cert, env=env)
        self.assertEqual((r.returncode, r.stdout), (0, b'{"over":"tls"}'), repr(r))
        r = self.coldsec("invoke", "tls-fn", env=dict(env, AWS_CA_BUNDLE=cert))
        self.assertEqual((r.returncode, r.stdout), (0, b'{"over":"tls"}'), repr(r))

    # -- retries -------------------------------------------------------------------------

    def test_connection_resets_are_retried_max_attempts_times(self):
        cases = {"rst": rst_after_request, "eof": close_without_answer}
        self.srv.routes.update(cases)
        results = self.parallel([("invoke", name, "--max-attempts", "3") for name in cases])
        for name, r in zip(cases, results):
            with self.subTest(case=name):
                self.assertFailed(r, "Invoke", name, "NetworkError")
                self.assertEqual(len(self.srv.requests_for(name)), 3, name)
                self.assertLess(r.elapsed, 8, repr(r))
        # (The default of 8 attempts is not run here: its backoff alone
        # averages about 8 s.)

    def test_server_errors_then_success_succeeds_after_three_attempts(self):
        svc = status_json(500, {"Type": "Service", "message": "Internal failure"}, "ServiceException")
        conflict = status_json(409, {"Type": "User", "message": "The operation cannot be performed at this time. "
                                     "An update is in progress for resource"}, "ResourceConflictException")
        body = b'{"ok": true}'
        self.srv.routes["flaky"] = sequence(svc, svc, ok_payload(body))
        self.srv.routes["conflicted"] = sequence(conflict, conflict, ok_payload(body))
        self.srv.routes["bad-request"] = sequence(
            status_json(400, {"message": "nope"}, "InvalidParameterValueException"), ok_payload(body))
        results = self.parallel([("invoke", "flaky", "--verbose"), ("invoke", "conflicted"),
                                 ("invoke", "bad-request")])
        for name, r in zip(("flaky", "conflicted"), results):
            with self.subTest(case=name):
                self.assertEqual(r.returncode, 0, repr(r))
                self.assertEqual(r.stdout, body)
                reqs = self.srv.requests_for(name)
                self.assertEqual(len(reqs), 3)
                self.assertEqual({q.body for q in reqs}, {b"{}"})
                # Each attempt is signed afresh and on its own.
                for q in reqs:
                    self.check_sigv4(q)
        self.assertIn(b"HTTP 500 ServiceException: Internal failure (attempt 1); retrying in", results[0].stderr)
        # A 4xx other than 409/429 is final.
        self.assertFailed(results[2], "Invoke", "bad-request", "InvalidParameterValueException", 400)
        self.assertEqual(len(self.srv.requests_for("bad-request")), 1)

    def test_throttling_honours_retry_after(self):
        throttle = status_json(429, {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User",
                                     "message": "Rate Exceeded."}, "TooManyRequestsException",
                               [("Retry-After", "1")])
        self.srv.routes["throttled"] = sequence(throttle, ok_payload(b'"done"'))
        r = self.coldsec("invoke", "throttled", "--verbose")
        self.assertEqual(r.returncode, 0, repr(r))
        self.assertEqual(r.stdout, b'"done"')
        self.assertGreaterEqual(r.elapsed, 1.0, repr(r))
        reqs = self.srv.requests_for("throttled")
        self.assertEqual(len(reqs), 2)
        self.assertGreaterEqual(reqs[1].t - reqs[0].t, 0.95, "Retry-After: 1 was not honoured")
        self.assertIn(b"Invoke throttled: HTTP 429 TooManyRequestsException: Rate Exceeded. "
                      b"(Reason: ConcurrentInvocationLimitExceeded) (attempt 1); retrying in", r.stderr)
        # Throttling is not bounded by --max-attempts, only by the backoff budget.
        self.srv.routes["throttled-2"] = sequence(throttle, throttle, ok_payload(b'"done"'))
        r = self.coldsec("invoke", "throttled-2", "--max-attempts", "1")
        self.assertEqual(r.returncode, 0, repr(r))
        self.assertEqual(len(self.srv.requests_for("throttled-2")), 3)
        self.assertGreaterEqual(r.elapsed, 2.0, repr(r))

    # -- error text ------------------------------------------------------------------------

    def test_error_type_header_is_trimmed_and_message_shown(self):
        self.srv.routes["missing-fn"] = status_json(
            404, {"Type": "User", "message": "Function not found: arn:aws:lambda:eu-west-3:123456789012:function:missing-fn"},
            "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/")
        self.srv.routes["ns-type"] = status_json(
            400, {"message": "bad value"}, "com.amazonaws.lambda#InvalidParameterValueException:http://x/")
        r = self.coldsec("invoke", "missing-fn")
        line = self.assertFailed(r, "Invoke", "missing-fn", "ResourceNotFoundException", 404)
        self.assertEqual(line, "coldsec: Invoke missing-fn: HTTP 404 ResourceNotFoundException: Function not found: "
                               "arn:aws:lambda:eu-west-3:123456789012:function:missing-fn")
        self.assertNotIn(b"internal.amazon.com", r.stderr)
        self.assertEqual(len(self.srv.requests_for("missing-fn")), 1, "a 404 is final")
        r = self.coldsec("invoke", "ns-type")
        self.assertFailed(r, "Invoke", "ns-type", "InvalidParameterValueException", 400)
        r = self.coldsec("cold-start", "missing-fn", "--allow-mutation", "--out", self.out_dir())
        self.assertFailed(r, "GetFunctionConfiguration", "missing-fn", "ResourceNotFoundException", 404)

    def test_html_error_page_is_named_and_shown_short_and_printable(self):
        page = (b"<!DOCTYPE html>\r\n<html><head><title>502 Bad Gateway</title></head>\r\n<body>\x1b[2J"
                b"<h1>502 Bad Gateway</h1>\xff\xfe" + b"<p>upstream went away</p>" * 400 + b"</body></html>\r\n")
        self.srv.routes["gateway"] = lambda _s, conn, _r, _n: reply(conn, 502, page, content_type="text/html")
        r = self.coldsec("invoke", "gateway", "--max-attempts", "2")
        line = self.assertFailed(r, "Invoke", "gateway", "HTTP502", 502)
        self.assertIn("502 Bad Gateway", line)
        self.assertIn(str(len(page)), line, "the size of the page")
        self.assertLess(len(line), 400, f"the excerpt is not short: {line!r}")
        self.assertEqual(len(self.srv.requests_for("gateway")), 2, "502 is retried up to --max-attempts")

    # -- the request itself ------------------------------------------------------------------

    def check_sigv4(self, req, key=FAKE_KEY, secret=FAKE_SECRET, token=None):
        auth = req.header("Authorization")
        self.assertIsNotNone(auth, f"no Authorization header in {req!r}")
        m = AUTH_RE.match(auth)
        self.assertIsNotNone(m, f"malformed Authorization header: {auth!r}")
        amz_date = req.header("X-Amz-Date")
        self.assertRegex(amz_date or "", AMZ_DATE_RE)
        self.assertEqual(m.group("key"), key)
        self.assertEqual(m.group("region"), REGION)
        self.assertEqual(m.group("date"), amz_date[:8])
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        skew = abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds())
        self.assertLess(skew, 300, f"X-Amz-Date {amz_date} is {skew:.0f}s off")
        signed = m.group("signed").split(";")
        self.assertEqual(signed, sorted(set(signed)), "SignedHeaders must be sorted and unique")
        for h in ("host", "x-amz-date") + (("x-amz-security-token",) if token else ()):
            self.assertIn(h, signed)
        if token:
            self.assertEqual(req.header("X-Amz-Security-Token"), token)
        self.assertEqual(req.header("Host"), f"127.0.0.1:{self.srv.port}")
        # Recompute the signature with botocore from what arrived.
        headers = {}
        for h in signed:
            v = req.header(h)
            self.assertIsNotNone(v, f"signed header {h} is not in the request")
            headers[h] = v
        areq = botocore.awsrequest.AWSRequest(method=req.method, url=self.srv.url + req.target, data=req.body,
                                              headers=headers)
        areq.context["timestamp"] = amz_date
        signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret, token), "lambda", REGION)
        canonical = signer.canonical_request(areq)
        expected = signer.signature(signer.string_to_sign(areq, canonical), areq)
        self.assertEqual(m.group("sig"), expected, f"signature does not verify; canonical request:\n{canonical}")

    def test_requests_are_signed_sigv4_and_arns_percent_encoded(self):
        arn = "arn:aws:lambda:eu-west-3:123456789012:function:signed-fn"
        self.srv.routes[arn] = ok_payload(b"{}")
        self.srv.routes["signed-fn"] = ok_payload(b"{}")
        r = self.coldsec("invoke", arn, "--payload", '{"k": "v w"}')
        self.assertEqual(r.returncode, 0, repr(r))
        (req,) = self.srv.requests_for(arn)
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.target, "/2015-03-31/functions/"
                                     "arn%3Aaws%3Alambda%3Aeu-west-3%3A123456789012%3Afunction%3Asigned-fn/invocations")
        self.assertEqual(req.body, b'{"k": "v w"}')
        self.assertEqual(req.header("X-Amz-Invocation-Type"), "RequestResponse")
        self.check_sigv4(req)
        # Qualifier in the query, session token signed, log tail asked for.
        env = dict(self.env, AWS_SESSION_TOKEN=FAKE_TOKEN)
        r = self.coldsec("invoke", "signed-fn", "--qualifier", "$LATEST", "--log", env=env)
        self.assertEqual(r.returncode, 0, repr(r))
        (req,) = self.srv.requests_for("signed-fn")
        self.assertEqual(req.target, "/2015-03-31/functions/signed-fn/invocations?Qualifier=%24LATEST")
        self.assertEqual(req.header("X-Amz-Log-Type"), "Tail")
        self.check_sigv4(req, token=FAKE_TOKEN)
        # The control plane too.
        self.srv.routes["signed-cfg"] = status_json(404, {"message": "Function not found"}, "ResourceNotFoundException")
        r = self.coldsec("cold-start", "signed-cfg", "--allow-mutation", "--out", self.out_dir(),
                         env=env)
        self.assertEqual(r.returncode, 3, repr(r))
        (req,) = self.srv.requests_for("signed-cfg")
        self.assertEqual((req.method, req.target), ("GET", "/2015-03-31/functions/signed-cfg/configuration"))
        self.assertEqual(req.body, b"")
        self.check_sigv4(req, token=FAKE_TOKEN)


if __name__ == "__main__":
    unittest.main()
