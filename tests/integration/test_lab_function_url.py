"""Function URLs in coldsec-lab: a function with `function_url: true` answers
plain HTTP at /lambda-url/NAME[/path][?query] on the lab's own listener, with
no signature (auth type NONE).

What is checked, against AWS's "Lambda function URL request payload format
2.0" and "response payload format" and answers recorded against AWS: the
event field by field (Python and Node probes echo it), query strings,
repeated headers and cookies, text and base64 bodies; every response
mapping (statusCode responses with headers, cookies and base64 bodies; a
plain object, string, number, list or null as 200 application/json, a string
unquoted); 502 "Internal Server Error" on an unhandled error, a timeout, an
oversize answer or an answer that cannot be mapped; 403 {"Message":null}
for a function without a URL; 429 past reserved concurrency; 413 past 6 MB;
warm reuse with REPORT lines in the log stream; Invoke unchanged; the
listener still on loopback only; malformed requests that do not hurt the lab.
"""
import base64
import calendar
import concurrent.futures
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest

import labfixture as lf
from labfixture import MB, Lab, fn

URL_PROBE_PY = os.path.join(lf.FUNCTIONS, "url-probe-python")
URL_PROBE_NODE = os.path.join(lf.FUNCTIONS, "url-probe-node")
URL_ID_RE = re.compile(r"^[0-9a-z]{32}$")
UUID_FULL_RE = re.compile("^" + lf.UUID_RE + "$")
BAD_GATEWAY = b"Internal Server Error"


def url_config(lab, with_url):
    """lab's config as labfixture renders it, plus `function_url: true` for
    the functions named in with_url (fn() does not know the key). Code
    folders are written absolute: the config is rendered before the lab's
    folder exists."""
    out = []
    for line in lf.render_config(lab.functions.values(), os.sep, lab.region,
                                 lab.account_id).splitlines():
        if line.startswith("    code: "):
            line = "    code: " + lf._q(os.sep + json.loads(line[len("    code: "):]))
        out.append(line)
        if line.startswith("  - name: ") and json.loads(line[len("  - name: "):]) in with_url:
            out.append("    function_url: true")
    return "\n".join(out) + "\n"


def start_lab(functions, with_url):
    lab = Lab(functions)
    lab.config_text = url_config(lab, with_url)
    return lab.start()


class Answer:
    """One HTTP answer: status, headers as sent (repeats kept), body."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name):
        vals = self.all(name)
        return vals[0] if vals else None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Answer {self.status} {self.headers} {self.body[:300]!r}>"


def request(lab, method, target, body=None, headers=(), timeout=30):
    """Sends one request on a fresh connection; headers is a list of
    (name, value) pairs, repeats allowed, values str or bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", lab.port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Answer(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def tell(lab, name, instructions, path="", method="POST", timeout=30):
    """Sends the probe its instructions as a JSON body."""
    return request(lab, method, f"/lambda-url/{name}{path}", json.dumps(instructions).encode(),
                   [("Content-Type", "application/json")], timeout=timeout)


def echo(tc, lab, name, target_suffix="", method="POST", body=b"{}", headers=None):
    """The event the probe got, checking the answer was a plain 200 echo."""
    hdrs = [("Content-Type", "application/json")] if headers is None else headers
    a = request(lab, method, f"/lambda-url/{name}{target_suffix}", body, hdrs)
    tc.assertEqual(a.status, 200, a)
    tc.assertEqual(a.header("Content-Type"), "application/json", a)
    p = a.json()
    tc.assertEqual(p["request_id"], a.header("x-amzn-RequestId"), a)
    return p["event"], p, a


def stream_text(lab, name):
    """Every log stream of a function, concatenated."""
    text = ""
    for path in lab.find_log_files(name).values():
        if path:
            with open(path, encoding="utf-8", errors="replace") as f:
                text += f.read()
    return text


def report_for(lab, name, request_id, timeout=5):
    """The REPORT line of request_id in the function's log streams."""
    return lf.wait_for(lambda: lf.parse_report(stream_text(lab, name), request_id), timeout)


class LabFunctionUrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = start_lab([
            fn("url-py", code=URL_PROBE_PY),
            fn("url-node", runtime="nodejs20.x", handler="index.handler", code=URL_PROBE_NODE),
            fn("url-warm", code=URL_PROBE_PY),
            fn("url-timeout", code=URL_PROBE_PY, timeout_s=1),
            fn("url-rc1", code=URL_PROBE_PY, reserved_concurrency=1, timeout_s=10),
            fn("url-big", code=URL_PROBE_PY, timeout_s=10),
            fn("no-url", code=URL_PROBE_PY),
        ], {"url-py", "url-node", "url-warm", "url-timeout", "url-rc1", "url-big"})

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    # -- the event -----------------------------------------------------------

    def test_event_shape_python(self):
        lab = self.lab
        t0 = time.time()
        ev, p, a = echo(self, lab, "url-py", "/some/Path%20x/?b=2&a=1&a=3", body=b'{"k": "v"}',
                        headers=[("Content-Type", "application/json"), ("User-Agent", "url-test/1.0"),
                                 ("X-Dup", "one"), ("X-Dup", "two"), ("X-MiXeD-Case", "Keep Value"),
                                 ("Cookie", "c1=v1; c2=v2"), ("Cookie", "c3=v3")])
        t1 = time.time()
        self.assertEqual(ev["version"], "2.0")
        self.assertEqual(ev["routeKey"], "$default")
        self.assertEqual(ev["rawPath"], "/some/Path%20x/", "rawPath must be the path as sent")
        self.assertEqual(ev["rawQueryString"], "b=2&a=1&a=3")
        self.assertEqual(ev["cookies"], ["c1=v1", "c2=v2", "c3=v3"])
        h = ev["headers"]
        self.assertNotIn("cookie", h, "cookies belong in `cookies`, not in the headers")
        self.assertEqual([k for k in h if k != k.lower()], [], f"header names not lower-case: {h}")
        self.assertEqual(h["x-dup"], "one,two")
        self.assertEqual(h["x-mixed-case"], "Keep Value")
        self.assertEqual(h["user-agent"], "url-test/1.0")
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(h["content-length"], "10")
        self.assertEqual(h["host"], f"127.0.0.1:{lab.port}")
        self.assertEqual(h["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(h["x-forwarded-proto"], "http")
        self.assertEqual(h["x-forwarded-port"], str(lab.port))
        self.assertRegex(h["x-amzn-trace-id"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        self.assertEqual(ev["queryStringParameters"], {"a": "1,3", "b": "2"})
        self.assertEqual(ev["body"], '{"k": "v"}')
        self.assertIs(ev["isBase64Encoded"], False)
        self.assertIn("pathParameters", ev)
        self.assertIsNone(ev["pathParameters"])
        self.assertIsNone(ev.get("stageVariables"))

        rc = ev["requestContext"]
        self.assertEqual(rc["accountId"], "anonymous")
        self.assertRegex(rc["apiId"], URL_ID_RE)
        self.assertIn("authentication", rc)
        self.assertIsNone(rc["authentication"])
        self.assertNotIn("authorizer", rc, "auth type NONE has no authorizer")
        self.assertEqual(rc["domainName"], f"{rc['apiId']}.lambda-url.{lf.REGION}.on.aws")
        self.assertEqual(rc["domainPrefix"], rc["apiId"])
        self.assertEqual(rc["http"], {"method": "POST", "path": "/some/Path%20x/", "protocol": "HTTP/1.1",
                                      "sourceIp": "127.0.0.1", "userAgent": "url-test/1.0"})
        self.assertRegex(rc["requestId"], UUID_FULL_RE)
        self.assertEqual(rc["requestId"], p["request_id"], "requestId differs from the invocation's")
        self.assertEqual(rc["requestId"], a.header("x-amzn-RequestId"))
        self.assertEqual(rc["routeKey"], "$default")
        self.assertEqual(rc["stage"], "$default")
        self.assertIsInstance(rc["timeEpoch"], int)
        self.assertGreaterEqual(rc["timeEpoch"], int(t0 * 1000) - 1000)
        self.assertLessEqual(rc["timeEpoch"], int(t1 * 1000) + 1000)
        parsed = time.strptime(rc["time"], "%d/%b/%Y:%H:%M:%S +0000")
        self.assertLessEqual(abs(calendar.timegm(parsed) - rc["timeEpoch"] // 1000), 1, rc)

        # The id is the URL's: the same on every request, different per function.
        ev2, _, _ = echo(self, lab, "url-py")
        self.assertEqual(ev2["requestContext"]["apiId"], rc["apiId"])
        self.assertNotEqual(ev2["requestContext"]["requestId"], rc["requestId"])
        node_ev, _, _ = echo(self, lab, "url-node")
        self.assertRegex(node_ev["requestContext"]["apiId"], URL_ID_RE)
        self.assertNotEqual(node_ev["requestContext"]["apiId"], rc["apiId"])

    def test_event_shape_node(self):
        ev, p, a = echo(self, self.lab, "url-node", "/n/p?q=1",
                        headers=[("Content-Type", "application/json"), ("X-Dup", "a"), ("x-dup", "b")])
        self.assertEqual(ev["version"], "2.0")
        self.assertEqual(ev["rawPath"], "/n/p")
        self.assertEqual(ev["rawQueryString"], "q=1")
        self.assertEqual(ev["queryStringParameters"], {"q": "1"})
        self.assertEqual(ev["headers"]["x-dup"], "a,b")
        self.assertEqual(ev["body"], "{}")
        self.assertIs(ev["isBase64Encoded"], False)
        self.assertEqual(ev["requestContext"]["requestId"], p["request_id"])
        self.assertEqual(ev["requestContext"]["http"]["method"], "POST")

    def test_empty_path_query_and_body(self):
        for suffix, path in (("", "/"), ("/", "/"), ("?x=1", "/"), ("/a//b/", "/a//b/")):
            ev, _, _ = echo(self, self.lab, "url-py", suffix, method="GET", body=None, headers=[])
            self.assertEqual(ev["rawPath"], path, suffix)
            self.assertEqual(ev["requestContext"]["http"]["path"], path, suffix)
            self.assertNotIn("body", ev, "a request without a body has no body field")
            self.assertIs(ev["isBase64Encoded"], False)
            self.assertNotIn("cookies", ev)
            self.assertEqual(ev["requestContext"]["http"]["userAgent"], "")
            if "?" not in suffix:
                self.assertEqual(ev["rawQueryString"], "")
                self.assertNotIn("queryStringParameters", ev)

    def test_query_strings(self):
        raw = "a=1&a=2&b=x%20y&c&=z&d=%zz&e=%41%42&f=a=b&&g=1+2&%68=h"
        ev, _, _ = echo(self, self.lab, "url-py", "/?" + raw, method="GET", body=None, headers=[])
        self.assertEqual(ev["rawQueryString"], raw, "rawQueryString must be byte for byte")
        self.assertEqual(ev["queryStringParameters"], {
            "a": "1,2", "b": "x y", "c": "", "d": "%zz", "e": "AB", "f": "a=b", "g": "1+2", "h": "h"})

    def test_methods(self):
        for m in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
            ev, _, _ = echo(self, self.lab, "url-py", method=m)
            self.assertEqual(ev["requestContext"]["http"]["method"], m)
        a = request(self.lab, "HEAD", "/lambda-url/url-py")
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.body, b"")

    def test_bodies_text_or_base64(self):
        lab = self.lab
        binary = bytes(range(256))
        cases = [
            ("application/octet-stream", binary, True),
            ("text/plain", "héllo wörld".encode(), False),
            ("text/plain; charset=utf-8", "ünïcode ✓".encode(), False),
            ("text/html", b"<p>x</p>", False),
            ("application/xml", b"<a/>", False),
            ("application/vnd.api+json", b'{"a":1}', False),
            ("application/problem+xml", b"<p/>", False),
            ("text/plain", b"h\xe9llo", True),          # not UTF-8
            ("text/plain", b"nul\x00inside", True),     # NUL
            ("application/x-www-form-urlencoded", b"a=1&b=2", True),
            ("multipart/form-data; boundary=x", b"--x--", True),
            ("image/png", b"\x89PNG\r\n", True),
            (None, b"no type at all", True),
        ]
        for ctype, body, b64 in cases:
            with self.subTest(ctype=ctype, body=body[:16]):
                hdrs = [("Content-Type", ctype)] if ctype else []
                ev, _, _ = echo(self, lab, "url-py", body=body, headers=hdrs)
                self.assertIs(ev["isBase64Encoded"], b64)
                got = base64.b64decode(ev["body"]) if b64 else ev["body"].encode()
                self.assertEqual(got, body)

    def test_odd_bytes_reach_the_function_as_text(self):
        """Header values and paths that are not UTF-8 still give the runtime
        a valid event (each bad byte as U+FFFD)."""
        got = self.lab.send_bytes(b"GET /lambda-url/url-py/p\xff\xc3?k\xff=v\xfe HTTP/1.1\r\nHost: x\r\n"
                                  b"X-Bin: a\xffb\xe2\x9c\x93\r\n\r\n", timeout=10)
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:300])
        ev = json.loads(got.split(b"\r\n\r\n", 1)[1])["event"]
        self.assertEqual(ev["headers"]["x-bin"], "a\ufffdb\u2713")
        self.assertEqual(ev["rawPath"], "/p\ufffd\ufffd")
        self.assertEqual(ev["rawQueryString"], "k\ufffd=v\ufffd")
        self.assertEqual(ev["queryStringParameters"], {"k\ufffd": "v\ufffd"})

    # -- the answer ----------------------------------------------------------

    def test_status_code_response(self):
        a = tell(self.lab, "url-py", {"respond": {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Custom": "Custom Value", "X-Num": 7, "X-Flag": True},
            "cookies": ["c1=v1; Max-Age=60", "c2=v2; Path=/"],
            "body": "created"}})
        self.assertEqual(a.status, 201, a)
        self.assertEqual(a.body, b"created")
        self.assertEqual(a.header("Content-Type"), "text/plain")
        self.assertEqual(a.header("X-Custom"), "Custom Value")
        self.assertEqual(a.header("X-Num"), "7")
        self.assertEqual(a.header("X-Flag"), "true")
        self.assertEqual(a.all("Set-Cookie"), ["c1=v1; Max-Age=60", "c2=v2; Path=/"])
        self.assertRegex(a.header("x-amzn-RequestId"), UUID_FULL_RE)

    def test_status_code_forms(self):
        for sc, want in ((200, 200), ("418", 418), (404, 404), (500, 500), (302, 302), (599, 599)):
            with self.subTest(statusCode=sc):
                a = tell(self.lab, "url-py", {"respond": {"statusCode": sc, "body": "b"}})
                self.assertEqual(a.status, want, a)
                self.assertEqual(a.body, b"b")
                # AWS sends application/json when the function names no type.
                self.assertEqual(a.header("Content-Type"), "application/json")

    def test_base64_and_odd_bodies(self):
        data = bytes(range(256)) * 4
        a = tell(self.lab, "url-py", {"respond": {
            "statusCode": 200, "headers": {"content-type": "application/octet-stream"},
            "body": base64.b64encode(data).decode(), "isBase64Encoded": True}})
        self.assertEqual((a.status, a.body), (200, data), a)
        a = tell(self.lab, "url-py", {"respond": {"statusCode": 200}})
        self.assertEqual((a.status, a.body), (200, b""), a)
        a = tell(self.lab, "url-py", {"respond": {"statusCode": 200, "body": {"nested": [1, 2]}}})
        self.assertEqual(a.status, 200, a)
        self.assertEqual(a.json(), {"nested": [1, 2]})
        a = tell(self.lab, "url-py", {"respond": {"statusCode": 200, "body": "not base64",
                                                  "isBase64Encoded": False}})
        self.assertEqual(a.body, b"not base64")
        # The server frames the answer: a function's Content-Length does not.
        a = tell(self.lab, "url-py", {"respond": {"statusCode": 200, "headers": {"Content-Length": "999"},
                                                  "body": "abc"}})
        self.assertEqual((a.status, a.body, a.header("Content-Length")), (200, b"abc", "3"), a)

    def test_inferred_responses(self):
        """No statusCode: 200, application/json, the answer as body, a string unquoted."""
        cases = [
            ({"hello": "world"}, None),
            ({"body": "x", "headers": {"X-A": "b"}}, None),
            ([1, "two", True], None),
            (3, b"3"),
            (3.5, b"3.5"),
            (True, b"true"),
            (None, b"null"),
            ("hello", b"hello"),
            ('quoted "inside"', b'quoted "inside"'),
        ]
        for value, raw in cases:
            with self.subTest(value=value):
                a = tell(self.lab, "url-py", {"respond": value})
                self.assertEqual(a.status, 200, a)
                self.assertEqual(a.header("Content-Type"), "application/json", a)
                self.assertIsNone(a.header("X-A"), "headers of an answer without statusCode are not headers")
                if raw is None:
                    self.assertEqual(a.json(), value)
                else:
                    self.assertEqual(a.body, raw)
        a = tell(self.lab, "url-node", {"respond": "from node"})
        self.assertEqual((a.status, a.body), (200, b"from node"), a)
        a = tell(self.lab, "url-node", {"respond": {"statusCode": 202, "body": "ok"}})
        self.assertEqual((a.status, a.body), (202, b"ok"), a)

    def test_answers_that_cannot_be_mapped_are_502(self):
        bad = [
            {"statusCode": "abc"}, {"statusCode": 99}, {"statusCode": 600}, {"statusCode": 200.5},
            {"statusCode": True}, {"statusCode": None}, {"statusCode": "20"},
            {"statusCode": 200, "headers": ["X-A", "b"]},
            {"statusCode": 200, "headers": {"X-A": "b\r\nX-Injected: 1"}},
            {"statusCode": 200, "headers": {"X A": "b"}},
            {"statusCode": 200, "headers": {"X-A": {"nested": 1}}},
            {"statusCode": 200, "cookies": "c=1"},
            {"statusCode": 200, "cookies": ["c=1\r\nX-Injected: 1"]},
            {"statusCode": 200, "body": "!!not base64!!", "isBase64Encoded": True},
        ]
        for r in bad:
            with self.subTest(respond=r):
                a = tell(self.lab, "url-py", {"respond": r})
                self.assertEqual((a.status, a.body), (502, BAD_GATEWAY), a)
                self.assertIsNone(a.header("X-Injected"))

    def test_unhandled_error_is_502_and_logged(self):
        for name in ("url-py", "url-node"):
            with self.subTest(name=name):
                a = tell(self.lab, name, {"raise": "url-probe-boom"})
                self.assertEqual((a.status, a.body), (502, BAD_GATEWAY), a)
                rid = a.header("x-amzn-RequestId")
                self.assertRegex(rid, UUID_FULL_RE)
                self.assertIsNotNone(report_for(self.lab, name, rid), "no REPORT for the failed request")
                log = stream_text(self.lab, name)
                self.assertIn("url-probe-boom", log)
                self.assertIn("ProbeError", log)
                # The environment is kept, as after an Invoke that raised.
                ev, _, _ = echo(self, self.lab, name)
                self.assertEqual(ev["version"], "2.0")

    def test_timeout_is_502(self):
        t0 = time.monotonic()
        a = tell(self.lab, "url-timeout", {"sleep": 5})
        self.assertEqual((a.status, a.body), (502, BAD_GATEWAY), a)
        self.assertLess(time.monotonic() - t0, 4.5, "the timeout did not cut the request short")
        rid = a.header("x-amzn-RequestId")
        self.assertIsNotNone(report_for(self.lab, "url-timeout", rid))
        self.assertTrue(lf.wait_for(lambda: re.search(re.escape(rid) + r" Task timed out after 1\.\d\d seconds",
                                                      stream_text(self.lab, "url-timeout")), 5),
                        "the log stream lacks the timeout line")

    def test_oversize_answer_is_502(self):
        a = tell(self.lab, "url-big", {"big": 7 * 1000 * 1000})
        self.assertEqual((a.status, a.body), (502, BAD_GATEWAY), a)
        self.assertTrue(lf.wait_for(lambda: "Function.ResponseSizeTooLarge" in stream_text(self.lab, "url-big"), 5),
                        "the log stream does not name the oversize answer")
        # Just under the limit is fine.
        a = tell(self.lab, "url-big", {"big": 6 * MB - 100})
        self.assertEqual(a.status, 200)
        self.assertEqual(len(a.body), 6 * MB - 100)

    # -- refusals ------------------------------------------------------------

    def _assert_unknown(self, a):
        self.assertEqual(a.status, 403, a)
        self.assertEqual(a.json(), {"Message": None})
        self.assertEqual(a.header("x-amzn-ErrorType"), "AccessDeniedException")
        self.assertEqual(a.header("Content-Type"), "application/json")

    def test_function_without_url_or_unknown(self):
        for target in ("/lambda-url/no-url", "/lambda-url/no-url/x?y=1", "/lambda-url/nope",
                       "/lambda-url", "/lambda-url/", "/lambda-url//url-py", "/lambda-url/URL-PY",
                       "/lambda-url/url-py%2Fx", "/lambda-url/url%2Dpy"):
            with self.subTest(target=target):
                self._assert_unknown(request(self.lab, "GET", target))
        self._assert_unknown(tell(self.lab, "no-url", {"respond": "x"}))
        # The function itself is there for Invoke.
        inv = self.lab.invoke("no-url", {"plain": "event"}, tail=False)
        self.assertEqual(lf.assert_ok(self, inv)["event"], {"plain": "event"})

    def test_reserved_concurrency_throttles(self):
        lab = self.lab
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            slow = ex.submit(tell, lab, "url-rc1", {"sleep": 2})
            time.sleep(0.5)
            a = tell(lab, "url-rc1", {"respond": "second"})
            self.assertEqual(a.status, 429, a)
            body = a.json()
            self.assertEqual(body.get("Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded", body)
            self.assertEqual(body.get("message"), "Rate Exceeded.", body)
            self.assertEqual(a.header("x-amzn-ErrorType"), "TooManyRequestsException")
            self.assertIsNotNone(a.header("Retry-After"))
            first = slow.result(30)
        self.assertEqual(first.status, 200, first)
        a = tell(lab, "url-rc1", {"respond": "after"})
        self.assertEqual((a.status, a.body), (200, b"after"), a)

    def test_request_bodies_over_6_mb_are_413(self):
        lab = self.lab
        over = b"a" * (6 * 1024 * 1024 + 1)
        a = request(lab, "POST", "/lambda-url/url-py", over, [("Content-Type", "text/plain")], timeout=60)
        self.assertEqual(a.status, 413, a)
        self.assertEqual(a.header("x-amzn-ErrorType"), "RequestEntityTooLargeException")
        self.assertIn("6291456", a.json()["Message"])
        # Under 6 MB on the wire but over it once base64 in the event.
        a = request(lab, "POST", "/lambda-url/url-py", b"\xff" * (5 * MB),
                    [("Content-Type", "application/octet-stream")], timeout=60)
        self.assertEqual(a.status, 413, a)
        # A declared length far past the limit is refused before it is read.
        got = lab.send_bytes(b"POST /lambda-url/url-py HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 99999999999\r\n\r\n", timeout=5)
        self.assertTrue(got.startswith(b"HTTP/1.1 413"), got[:200])
        # A text body that fits is delivered whole.
        fits = b"b" * (4 * MB)
        a = request(lab, "POST", "/lambda-url/url-py", fits, [("Content-Type", "text/plain")], timeout=60)
        self.assertEqual(a.status, 200, a.status)
        self.assertEqual(len(a.json()["event"]["body"]), 4 * MB)

    # -- the same environments as Invoke --------------------------------------

    def test_warm_reuse_and_log_stream(self):
        lab = self.lab
        first = tell(lab, "url-warm", {})
        second = tell(lab, "url-warm", {})
        self.assertEqual((first.status, second.status), (200, 200))
        p1, p2 = first.json(), second.json()
        self.assertEqual(p2["env_id"], p1["env_id"], "the second request got a new environment")
        self.assertEqual((p1["count"], p2["count"]), (1, 2))
        r1 = report_for(lab, "url-warm", first.header("x-amzn-RequestId"))
        r2 = report_for(lab, "url-warm", second.header("x-amzn-RequestId"))
        self.assertIsNotNone(r1, stream_text(lab, "url-warm"))
        self.assertIsNotNone(r2, stream_text(lab, "url-warm"))
        self.assertIn("Init Duration", r1, "the first request was not a cold start")
        self.assertNotIn("Init Duration", r2, "the second request was not warm")
        streams = [k for k, v in lab.find_log_files("url-warm").items() if v]
        self.assertEqual(len(streams), 1, streams)
        # An Invoke lands in the same warm environment and sees its module state.
        inv = lab.invoke("url-warm", {"plain": True})
        p3 = lf.assert_ok(self, inv)
        self.assertEqual((p3["env_id"], p3["count"]), (p1["env_id"], 3))
        self.assertEqual(p3["event"], {"plain": True}, "Invoke's payload must reach the function unchanged")
        lf.assert_log_shape(self, inv, cold=False)

    def test_invoke_still_signed_and_unchanged(self):
        lab = self.lab
        inv = lab.invoke("url-py", {"a": [1, 2]})
        p = lf.assert_ok(self, inv)
        self.assertEqual(p["event"], {"a": [1, 2]})
        lf.assert_log_shape(self, inv)
        r = lab.raw("POST", lab.invocations_path("url-py"), b"{}", sign=False)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.error_type, "MissingAuthenticationTokenException")
        # A SigV4 header on a function URL is simply another header.
        ev, _, _ = echo(self, lab, "url-py", headers=[("Content-Type", "application/json"),
                                                    ("Authorization", "AWS4-HMAC-SHA256 garbage")])
        self.assertEqual(ev["headers"]["authorization"], "AWS4-HMAC-SHA256 garbage")

    def test_parallel_requests(self):
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            answers = list(ex.map(lambda i: tell(self.lab, "url-node", {"respond": f"n{i}"}), range(16)))
        self.assertEqual(sorted(a.body for a in answers), sorted(f"n{i}".encode() for i in range(16)))
        self.assertTrue(all(a.status == 200 for a in answers), answers)

    # -- the listener ------------------------------------------------------------

    def test_listener_is_loopback_only(self):
        port = self.lab.port
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    rows = f.read().splitlines()[1:]
            except OSError:
                continue
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                addr, p = local.rsplit(":", 1)
                if state == "0A" and int(p, 16) == port:
                    listening.append((table, addr))
        self.assertEqual(listening, [("/proc/net/tcp", "0100007F")],
                         "the lab must listen on 127.0.0.1 only")
        proc = subprocess.run([lf.lab_binary(), "--config", self.lab.config_path, "--listen", "0.0.0.0:0"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"loopback", proc.stderr)
        self.assertEqual(proc.stdout, b"")

    def test_malformed_requests_do_not_hurt_the_lab(self):
        lab = self.lab
        raw = [
            b"GET /lambda-url/url-py/%ZZ%00?%00=%ZZ&%=x HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nX-Odd: \x80\xff\xfe\r\n\r\n",
            b"GET /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nCookie: ;;; ; =;\r\nCookie:\r\n\r\n",
            b"GET /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nX-\xff\xfe: v\r\n\r\n",
            b"GET /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nContent-Type: " + b"a" * 4000 + b"\r\n\r\n",
            b"GET /lambda-url/url-py/" + b"p" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /lambda-url/url-py?" + b"a=1&" * 1500 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: text/plain\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"POST /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort",
            b"GET http://127.0.0.1/lambda-url/url-py HTTP/1.1\r\nHost: x\r\n\r\n",
            b"BREW /lambda-url/url-py HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /lambda-url/url-py HTTP/1.0\r\n\r\n",
            b"\x00\x01\x02 garbage\r\n\r\n",
        ]
        for data in raw:
            with self.subTest(data=data[:60]):
                got = lab.send_bytes(data, timeout=5)
                self.assertTrue(lab.alive(), f"the lab died on {data[:80]!r}")
                if got:
                    self.assertRegex(got[:12], rb"^HTTP/1\.[01] \d\d\d")
        got = lab.send_bytes(raw[0], timeout=5)
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:300])
        ev = json.loads(got.split(b"\r\n\r\n", 1)[1])["event"]
        self.assertEqual(ev["rawPath"], "/%ZZ%00")
        self.assertEqual(ev["queryStringParameters"], {"%00": "%ZZ", "%": "x"})
        got = lab.send_bytes(raw[7], timeout=5)
        ev = json.loads(got.split(b"\r\n\r\n", 1)[1])["event"]
        self.assertEqual((ev["body"], ev["isBase64Encoded"]), ("hello", False))
        # Requests cut off half way.
        for cut in (b"GET /lambda-url/url-py HTTP/1.1\r\nHo",
                    b"POST /lambda-url/url-py HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"):
            lab.send_bytes(cut, timeout=2)
        ev, _, _ = echo(self, lab, "url-py")
        self.assertEqual(ev["version"], "2.0")
        lf.assert_lab_healthy(self, lab, "no-url")


if __name__ == "__main__":
    unittest.main()
