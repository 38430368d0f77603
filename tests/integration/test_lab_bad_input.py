"""Malformed and oversized requests (issue 2, "Bad input"): each gets the
Lambda error AWS would give, or at least a clean HTTP error, never a crash;
after each one the lab is still up and serving.
"""
import json
import socket
import time
import unittest

from botocore.exceptions import ClientError

import labfixture as lf
from labfixture import MB, Lab, fn

SIX_MB = 6291456


class LabBadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([fn("bad-probe", timeout_s=10)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def tearDown(self):
        lf.assert_lab_healthy(self, self.lab, "bad-probe")

    def assertHttpError(self, data, allowed=range(400, 500), extra=(505,)):
        """data: what came back on a raw connection. Either nothing (the lab
        closed it) or an HTTP/1.x status line with an allowed status."""
        if data == b"":
            return None
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        self.assertRegex(line, r"^HTTP/1\.[01] \d{3}", f"not an HTTP answer: {data[:200]!r}")
        status = int(line.split()[1])
        self.assertTrue(status in allowed or status in extra, f"unexpected answer {line!r}")
        return status

    # -- payloads -----------------------------------------------------------------

    def test_non_json_payload_is_400_invalid_request_content(self):
        lab = self.lab
        for payload in (b"{not json", b"\xff\xfe\x00garbage", b'{"a": 1'):
            with self.subTest(payload=payload):
                with self.assertRaises(ClientError) as cm:
                    lab.invoke("bad-probe", payload=payload)
                err = lf.assert_client_error(self, cm, "InvalidRequestContentException", 400)
                self.assertTrue(err["Error"]["Message"].startswith("Could not parse request body into json"), err)
        raw = lab.raw("POST", lab.invocations_path("bad-probe"), b"{not json")
        self.assertEqual(raw.status, 400)
        self.assertEqual(raw.error_type, "InvalidRequestContentException")
        self.assertTrue(raw.header("content-type").startswith("application/json"), raw)
        self.assertEqual(raw.json().get("Type"), "User", raw)

    def test_payload_over_6_mb_is_413(self):
        lab = self.lab
        pad = "x" * (SIX_MB + 1024)
        body = json.dumps({"action": "echo_len", "pad": pad}).encode()
        with self.assertRaises(ClientError) as cm:
            lab.invoke("bad-probe", payload=body, tail=False)
        err = lf.assert_client_error(self, cm, None, 413,
                                     codes=("RequestEntityTooLargeException", "RequestTooLargeException"))
        self.assertIn("6291456", err["Error"]["Message"])
        raw = lab.raw("POST", lab.invocations_path("bad-probe"), body)
        self.assertEqual(raw.status, 413, raw)
        self.assertIn(raw.error_type, ("RequestEntityTooLargeException", "RequestTooLargeException"))
        # control: a large payload within the limit goes through whole
        ok = lab.invoke("bad-probe", {"action": "echo_len", "pad": "y" * (1 * MB)}, tail=False)
        self.assertEqual(lf.assert_ok(self, ok)["len"], 1 * MB)

    def test_declared_huge_body_is_refused_without_reading_it_all(self):
        """A request that declares 10 GB and sends more than the 6 MB limit
        gets its 413 then, without the lab reading (or holding) the rest."""
        lab = self.lab
        rss0 = lab.rss_kb()
        req = (f"POST {lab.invocations_path('bad-probe')} HTTP/1.1\r\nHost: 127.0.0.1:{lab.port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n").encode()
        t0 = time.monotonic()
        data = lab.send_bytes(req + b"[" * (SIX_MB + MB), timeout=10, shutdown=False)
        status = self.assertHttpError(data, allowed=(413, 400, 403))
        self.assertIsNotNone(status, "no answer within 10 s to a request declaring a 10 GB body "
                                     "after 7 MB of it was sent")
        self.assertLess(time.monotonic() - t0, 9)
        self.assertLess((lab.rss_kb() - rss0) / 1024, 64, "the lab grew while refusing a huge body")

    def test_truncated_body(self):
        lab = self.lab
        req = (f"POST {lab.invocations_path('bad-probe')} HTTP/1.1\r\nHost: 127.0.0.1:{lab.port}\r\n"
               f"Content-Length: 1000\r\n\r\n").encode() + b'{"action":'
        data = lab.send_bytes(req, timeout=5)
        self.assertHttpError(data)

    # -- HTTP ----------------------------------------------------------------------

    def test_garbage_and_malformed_requests(self):
        lab = self.lab
        samples = [
            b"\x00\x01\x02\x03garbage\r\n\r\n",
            b"GARBAGE\r\n\r\n",
            b"GET\r\n\r\n",
            b"POST /2015-03-31/functions/bad-probe/invocations HTTP/9.9\r\n\r\n",
            b"POST /2015-03-31/functions/bad-probe/invocations HTTP/1.1\r\nNo-Colon-Header\r\n\r\n",
            b"POST /2015-03-31/functions/bad-probe/invocations HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST /2015-03-31/functions/bad-probe/invocations HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
            b"POST /2015-03-31/functions/bad-probe/invocations HTTP/1.1\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\nxx\r\n",
            b"POST /2015-03-31/functions/%00%ff/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
            b"\r\n" * 1000,
            b"GET /" + b"A" * 100000 + b" HTTP/1.1\r\n\r\n",
        ]
        for s in samples:
            with self.subTest(sample=s[:60]):
                data = lab.send_bytes(s, timeout=5)
                self.assertHttpError(data)
                self.assertTrue(lab.alive(), f"the lab died on {s[:60]!r}; stderr:\n{lab.stderr_tail()}")

    def test_huge_and_many_headers(self):
        lab = self.lab
        path = lab.invocations_path("bad-probe")
        big = (f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Big: " + "b" * (256 * 1024) +
               "\r\nContent-Length: 2\r\n\r\n{}").encode()
        self.assertHttpError(lab.send_bytes(big, timeout=10))
        many = (f"POST {path} HTTP/1.1\r\nHost: x\r\n" + "".join(f"X-H{i}: v\r\n" for i in range(5000)) +
                "Content-Length: 2\r\n\r\n{}").encode()
        self.assertHttpError(lab.send_bytes(many, timeout=10))
        # signed, with more headers than any Lambda request carries
        headers = {f"X-Amz-Meta-{i}": "v" for i in range(100)}
        raw = lab.raw("POST", path, b"{}", headers=headers)
        self.assertGreaterEqual(raw.status, 200)
        self.assertLess(raw.status, 500, raw)
        # a signed request whose one header is huge
        raw = lab.raw("POST", path, b"{}", headers={"X-Amz-Meta-Big": "z" * (64 * 1024)})
        self.assertGreaterEqual(raw.status, 200)
        self.assertLess(raw.status, 500, raw)

    def test_idle_and_partial_connections_do_not_block_others(self):
        lab = self.lab
        socks = []
        try:
            for i in range(32):
                s = socket.create_connection(("127.0.0.1", lab.port), timeout=5)
                if i % 2:
                    s.sendall(f"POST {lab.invocations_path('bad-probe')} HTTP/1.1\r\nHost: x\r\n".encode())
                socks.append(s)
            t0 = time.monotonic()
            inv = lab.invoke("bad-probe", {"action": "info"}, tail=False)
            lf.assert_ok(self, inv)
            self.assertLess(time.monotonic() - t0, 5, "idle connections held up a real request")
        finally:
            for s in socks:
                s.close()

    def test_missing_authorization_is_403(self):
        lab = self.lab
        raw = lab.raw("POST", lab.invocations_path("bad-probe"), b"{}", sign=False,
                      headers={"Content-Type": "application/json"})
        self.assertEqual(raw.status, 403, raw)
        self.assertEqual(raw.error_type, "MissingAuthenticationTokenException", raw)
        self.assertEqual(raw.message, "Missing Authentication Token")
        raw = lab.raw("GET", "/2015-03-31/functions/", sign=False)
        self.assertEqual(raw.status, 403, raw)

    def test_malformed_authorization_is_403(self):
        lab = self.lab
        for auth in ("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=garbage",
                     "AWS4-HMAC-SHA256 Credential=AKIDCOLDSECLAB/20240101/us-east-1/lambda/aws4_request, "
                     "SignedHeaders=host;x-amz-date, Signature=zz",
                     "Basic dXNlcjpwYXNz", "A" * 5000):
            with self.subTest(auth=auth[:60]):
                raw = lab.raw("POST", lab.invocations_path("bad-probe"), b"{}", sign=False,
                              headers={"Authorization": auth, "X-Amz-Date": "20240101T000000Z"})
                self.assertEqual(raw.status, 403, raw)
                self.assertIn(raw.error_type, ("IncompleteSignatureException", "InvalidSignatureException",
                                               "UnrecognizedClientException",
                                               "MissingAuthenticationTokenException"), raw)

    def test_unknown_routes_and_methods(self):
        lab = self.lab
        for method, path in (("GET", "/"), ("GET", "/2015-03-31/nothing"),
                             ("GET", lab.invocations_path("bad-probe")),
                             ("DELETE", lab.invocations_path("bad-probe")),
                             ("POST", "/2015-03-31/functions/../../etc/passwd/invocations"),
                             ("POST", "/2015-03-31/functions/" + "n" * 300 + "/invocations"),
                             ("PATCH", "/2015-03-31/functions/bad-probe/configuration")):
            with self.subTest(method=method, path=path[:60]):
                raw = lab.raw(method, path, b"")
                self.assertGreaterEqual(raw.status, 400, raw)
                self.assertLess(raw.status, 500, raw)

    def test_invalid_invocation_type_is_400(self):
        lab = self.lab
        raw = lab.raw("POST", lab.invocations_path("bad-probe"), b"{}",
                      headers={"X-Amz-Invocation-Type": "Bogus"})
        self.assertEqual(raw.status, 400, raw)
        self.assertIsNotNone(raw.error_type, raw)


if __name__ == "__main__":
    unittest.main()
