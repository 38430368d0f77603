"""SigV4 on every request (issue 2, "The lab" and the first "Done means"
bullet: wrong keys are refused with the right error code): bad signature,
unknown key, clock skew, tampering, wrong scope; the configured pairs and,
when a config names none, the documented default pair.
"""
import datetime
import unittest

from botocore.exceptions import ClientError

import labfixture as lf
from labfixture import Lab, fn

PRIMARY = ("AKIDTESTPRIMARY", "primary-secret")
SECOND = ("AKIDTESTSECOND", "second-secret")
UNRECOGNIZED_MSG = "The security token included in the request is invalid."


class LabAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([fn("auth-probe")], credentials=[PRIMARY, SECOND]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def _calls(self, client):
        return [
            ("invoke", lambda: client.invoke(FunctionName="auth-probe", Payload=b"{}")),
            ("invoke by arn", lambda: client.invoke(FunctionName=self.lab.arn("auth-probe"), Payload=b"{}")),
            ("get_function_configuration", lambda: client.get_function_configuration(FunctionName="auth-probe")),
            ("list_functions", lambda: client.list_functions()),
            ("update_function_configuration",
             lambda: client.update_function_configuration(FunctionName="auth-probe", Description="x")),
        ]

    def test_configured_key_pairs_are_accepted(self):
        lab = self.lab
        for ak, sk in (PRIMARY, SECOND):
            with self.subTest(key=ak):
                inv = lab.invoke("auth-probe", {"action": "info"}, client=lab.client(ak, sk))
                lf.assert_ok(self, inv)
                c = lab.client(ak, sk).get_function_configuration(FunctionName=lab.arn("auth-probe"))
                self.assertEqual(c["FunctionName"], "auth-probe")

    def test_wrong_secret_is_403_invalid_signature(self):
        client = self.lab.client(PRIMARY[0], "not-the-secret")
        for what, call in self._calls(client):
            with self.subTest(call=what):
                with self.assertRaises(ClientError) as cm:
                    call()
                lf.assert_client_error(self, cm, "InvalidSignatureException", 403)
        # nothing was changed by the refused update
        c = self.lab.client().get_function_configuration(FunctionName="auth-probe")
        self.assertNotEqual(c.get("Description"), "x")

    def test_unknown_key_is_403_unrecognized_client(self):
        for ak in ("AKIDNOSUCHKEY", lf.DEFAULT_KEY):  # the default pair is not accepted when keys are configured
            client = self.lab.client(ak, "whatever")
            for what, call in self._calls(client):
                with self.subTest(key=ak, call=what):
                    with self.assertRaises(ClientError) as cm:
                        call()
                    err = lf.assert_client_error(self, cm, "UnrecognizedClientException", 403)
                    self.assertEqual(err["Error"]["Message"], UNRECOGNIZED_MSG)
        raw = self.lab.raw("POST", self.lab.invocations_path("auth-probe"), b"{}",
                           access_key="AKIDNOSUCHKEY", secret="x")
        self.assertEqual(raw.status, 403)
        self.assertEqual(raw.error_type, "UnrecognizedClientException")
        self.assertTrue(raw.header("content-type").startswith("application/json"), raw)

    def test_clock_skew_over_5_minutes_is_signature_expired(self):
        lab = self.lab
        now = lf.now_utc()
        path = lab.invocations_path("auth-probe")
        past = lab.raw("POST", path, b"{}", when=now - datetime.timedelta(minutes=10))
        self.assertEqual(past.status, 403, past)
        self.assertEqual(past.error_type, "InvalidSignatureException", past)
        self.assertRegex(past.message or "",
                         r"^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z "
                         r"\(\d{8}T\d{6}Z - 5 min\.\)$")
        future = lab.raw("POST", path, b"{}", when=now + datetime.timedelta(minutes=10))
        self.assertEqual(future.status, 403, future)
        self.assertEqual(future.error_type, "InvalidSignatureException", future)
        self.assertRegex(future.message or "", r"^Signature (expired|not yet current)")
        # within the window: accepted
        for minutes in (-4, 4):
            with self.subTest(skew_minutes=minutes):
                ok = lab.raw("POST", path, b"{}", when=now + datetime.timedelta(minutes=minutes))
                self.assertEqual(ok.status, 200, ok)

    def test_tampered_requests_are_403_invalid_signature(self):
        lab = self.lab
        path = lab.invocations_path("auth-probe")
        cases = {
            "body": dict(body=b'{"action":"info"}', tamper_body=b'{"action":"xnfo"}'),
            "signed header": dict(body=b"{}", headers={"X-Amz-Invocation-Type": "RequestResponse"},
                                  tamper_headers={"X-Amz-Invocation-Type": "Event"}),
            "path": dict(body=b"{}", tamper_path=lab.invocations_path(lab.arn("auth-probe"))),
        }
        for what, kw in cases.items():
            with self.subTest(tamper=what):
                raw = lab.raw("POST", path, **kw)
                self.assertEqual(raw.status, 403, raw)
                self.assertEqual(raw.error_type, "InvalidSignatureException", raw)
        with self.subTest(tamper="signature"):
            raw = self._flipped_signature(path)
            self.assertEqual(raw.status, 403, raw)
            self.assertEqual(raw.error_type, "InvalidSignatureException", raw)

    def _flipped_signature(self, path):
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        lab = self.lab
        req = botocore.awsrequest.AWSRequest(method="POST", url=lab.url + path, data=b"{}")
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(*PRIMARY), "lambda", lab.region).add_auth(req)
        headers = dict(req.headers.items())
        auth = headers["Authorization"]
        headers["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")
        return lab.raw("POST", path, b"{}", headers=headers, sign=False)

    def test_wrong_scope_is_403(self):
        lab = self.lab
        path = lab.invocations_path("auth-probe")
        for kw in (dict(region="eu-west-1"), dict(service="s3")):
            with self.subTest(**kw):
                raw = lab.raw("POST", path, b"{}", **kw)
                self.assertEqual(raw.status, 403, f"a signature scoped to {kw} was accepted: {raw!r}")
                # AWS: InvalidSignatureException "Credential should be scoped to a valid
                # region"; for the service scope some AWS front ends answer IncompleteSignature
                self.assertIn(raw.error_type, ("InvalidSignatureException", "IncompleteSignatureException"), raw)
                self.assertIn("Credential should be scoped to", raw.message or "", raw)

    def test_arn_paths_with_raw_and_encoded_colons(self):
        lab = self.lab
        arn = lab.arn("auth-probe")
        for path in (f"/2015-03-31/functions/{arn}/invocations",
                     "/2015-03-31/functions/" + arn.replace(":", "%3A") + "/invocations"):
            with self.subTest(path=path):
                raw = lab.raw("POST", path, b'{"action":"info"}', query="Qualifier=%24LATEST")
                self.assertEqual(raw.status, 200, raw)
                self.assertIn("env_id", raw.json())


class LabDefaultCredentialsTest(unittest.TestCase):
    """A config without credentials accepts the documented default pair only."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([fn("auth-default")]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def test_default_pair_is_accepted(self):
        lab = self.lab
        inv = lab.invoke("auth-default", {"action": "info"},
                         client=lab.client(lf.DEFAULT_KEY, lf.DEFAULT_SECRET))
        lf.assert_ok(self, inv)

    def test_other_pairs_are_refused(self):
        lab = self.lab
        with self.assertRaises(ClientError) as cm:
            lab.client(lf.DEFAULT_KEY, "wrong").invoke(FunctionName="auth-default", Payload=b"{}")
        lf.assert_client_error(self, cm, "InvalidSignatureException", 403)
        with self.assertRaises(ClientError) as cm:
            lab.client(*PRIMARY).invoke(FunctionName="auth-default", Payload=b"{}")
        lf.assert_client_error(self, cm, "UnrecognizedClientException", 403)


if __name__ == "__main__":
    unittest.main()
