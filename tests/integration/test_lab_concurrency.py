"""coldsec-lab's Lambda Managed Instances functions (issue 14): with
max_concurrency N an environment runs up to N invocations at once, never
frozen; every slot busy answers 429; a timed-out invocation fails alone; the
configuration shows CapacityProviderConfig and JSON logs; the tail holds the
request's JSON platform.report; bad configurations name file:line:column.

The function (functions/mi-provided-python, a provided.al2023 bootstrap in
Python) runs AWS_LAMBDA_MAX_CONCURRENCY worker threads. Ordering is by the
test, not by time: an invocation with {"hold": PORT} connects back to a
socket of the test and waits for its byte, so the test knows it is running
and decides when it ends.
"""
import concurrent.futures
import json
import os
import socket
import unittest

import botocore.exceptions

import labfixture as lf
from labfixture import Lab, LabError, fn

MI_CODE = os.path.join(lf.FUNCTIONS, "mi-provided-python")
N = 4


def mi(name, **kw):
    kw.setdefault("timeout_s", 30)
    return fn(name, runtime="provided.al2023", handler=None, code=MI_CODE, network="host",
              max_concurrency=kw.pop("max_concurrency", N), **kw)


class Holder:
    """A listening socket the held invocations connect to."""

    def __init__(self, test):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(60)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        test.addCleanup(self.close)

    def accept(self, n):
        """Waits until n more invocations are running (connected)."""
        for _ in range(n):
            c, _ = self.sock.accept()
            self.conns.append(c)

    def release(self):
        for c in self.conns:
            try:
                c.sendall(b"x")
            finally:
                c.close()
        self.conns = []

    def close(self):
        self.release()
        self.sock.close()


def ok(tc, fut):
    r = fut.result(60)
    tc.assertNotIsInstance(r, Exception, repr(r))
    return lf.assert_ok(tc, r)


def tail_lines(r):
    return [json.loads(line) for line in (r.log or "").split("\n") if line.startswith("{")]


class LabConcurrencyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.info_marker = lf.unique("mi-info")
        cls.lab = Lab([
            mi("mi-pack", environments=2),
            mi("mi-one", environments=1),
            mi("mi-timeout", timeout_s=3),
            mi("mi-info", environment={"FN_MARKER": cls.info_marker}),
            mi("mi-crash"),
            mi("mi-update"),
            fn("classic-info"),
        ]).start()
        cls.pool = concurrent.futures.ThreadPoolExecutor(16)

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown(wait=True)
        cls.lab.stop()

    def submit(self, name, event):
        def one():
            try:
                return self.lab.invoke(name, event)
            except Exception as e:  # noqa: BLE001 - returned to the test
                return e
        return self.pool.submit(one)

    def test_overlapping_invocations_share_one_environment(self):
        h = Holder(self)
        futs = [self.submit("mi-pack", {"hold": h.port, "i": i}) for i in range(N)]
        h.accept(N)  # all N running at once
        h.release()
        answers = [ok(self, f) for f in futs]
        streams = {a["stream"] for a in answers}
        self.assertEqual(len(streams), 1, f"{N} overlapping invocations ran in {streams}")
        self.assertEqual(max(a["peak"] for a in answers), N, answers)
        self.assertGreaterEqual(min(a["peak"] for a in answers), 2, answers)
        self.assertEqual(sorted(a["event"]["i"] for a in answers), list(range(N)))

    def test_every_slot_busy_answers_429(self):
        h = Holder(self)
        futs = [self.submit("mi-one", {"hold": h.port}) for _ in range(N)]
        h.accept(N)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lab.invoke("mi-one", {})
        err = cm.exception.response
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 429)
        self.assertEqual(err["Error"]["Code"], "TooManyRequestsException")
        self.assertEqual(err.get("Reason"), "ExecutionEnvironmentConcurrencyLimitExceeded", err)
        h.release()
        answers = [ok(self, f) for f in futs]
        self.assertEqual(len({a["stream"] for a in answers}), 1)
        # a slot is free again: served by the same environment
        again = lf.assert_ok(self, self.lab.invoke("mi-one", {}))
        self.assertEqual(again["stream"], answers[0]["stream"])

    def test_timeout_fails_only_its_invocation(self):
        h = Holder(self)
        slow = self.submit("mi-timeout", {"hold": h.port, "who": "slow"})
        h.accept(1)
        other = self.submit("mi-timeout", {"hold": h.port, "who": "other"})
        h.accept(1)
        # release "other" (the second connection), keep "slow" held
        slow_conn, other_conn = h.conns
        other_conn.sendall(b"x")
        other_conn.close()
        h.conns = [slow_conn]
        o = ok(self, other)
        r = slow.result(60)
        self.assertNotIsInstance(r, Exception, repr(r))
        self.assertEqual(r.function_error, "Unhandled")
        self.assertEqual(r.payload["errorType"], "Sandbox.Timedout", r.payload)
        report = [l for l in tail_lines(r) if l.get("type") == "platform.report"
                  and l["record"]["requestId"] == r.request_id]
        self.assertEqual(len(report), 1, r.log)
        self.assertEqual(report[0]["record"]["status"], "timeout")
        # the environment lives on and answers the next request
        nxt = lf.assert_ok(self, self.lab.invoke("mi-timeout", {"who": "next"}))
        self.assertEqual(nxt["stream"], o["stream"])
        h.release()  # the timed-out code ends; its late /response is refused
        last = lf.assert_ok(self, self.lab.invoke("mi-timeout", {"who": "last"}))
        self.assertEqual(last["stream"], o["stream"])

    def test_crash_fails_every_invocation_of_the_environment(self):
        h = Holder(self)
        held = self.submit("mi-crash", {"hold": h.port})
        h.accept(1)
        first = held  # running in the environment when it dies
        r = self.lab.invoke("mi-crash", {"exit": 3})
        self.assertEqual(r.function_error, "Unhandled", r)
        self.assertEqual(r.payload["errorType"], "Runtime.ExitError", r.payload)
        r1 = first.result(60)
        self.assertNotIsInstance(r1, Exception, repr(r1))
        self.assertEqual(r1.function_error, "Unhandled", r1)
        self.assertEqual(r1.payload["errorType"], "Runtime.ExitError", r1.payload)
        rep = [l for l in tail_lines(r1) if l.get("type") == "platform.report"
               and l["record"]["requestId"] == r1.request_id]
        self.assertEqual([l["record"]["status"] for l in rep], ["error"], r1.log)
        # a new environment serves what comes next
        self.assertIsInstance(lf.assert_ok(self, self.lab.invoke("mi-crash", {}))["stream"], str)

    def test_configuration_change_retires_after_in_flight(self):
        h = Holder(self)
        held = self.submit("mi-update", {"hold": h.port})
        h.accept(1)
        c = self.lab.client()
        c.update_function_configuration(FunctionName="mi-update",
                                        Environment={"Variables": self.lab.env_of("mi-update", ROUND="2")})
        self.lab.wait_updated("mi-update")
        new = lf.assert_ok(self, self.lab.invoke("mi-update", {"env": ["ROUND"]}))
        self.assertEqual(new["env"], {"ROUND": "2"})
        h.release()
        old = ok(self, held)  # finished in its old environment, not cut short
        self.assertNotEqual(old["stream"], new["stream"])
        again = lf.assert_ok(self, self.lab.invoke("mi-update", {"env": ["ROUND"]}))
        self.assertEqual(again["stream"], new["stream"])

    def test_configuration_shows_capacity_provider_and_json_logs(self):
        def conf(name):
            r = self.lab.raw("GET", f"/2015-03-31/functions/{name}/configuration")
            self.assertEqual(r.status, 200, r)
            return r.json()

        c = conf("mi-info")
        cp = c["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"]
        self.assertEqual(cp["PerExecutionEnvironmentMaxConcurrency"], N)
        self.assertEqual(cp["CapacityProviderArn"],
                         f"arn:aws:lambda:{lf.REGION}:{lf.ACCOUNT}:capacity-provider:coldsec-lab")
        self.assertEqual(cp["ExecutionEnvironmentMemoryGiBPerVCpu"], 2.0)
        self.assertEqual(c["LoggingConfig"]["LogFormat"], "JSON")
        classic = conf("classic-info")
        self.assertNotIn("CapacityProviderConfig", classic)
        self.assertEqual(classic["LoggingConfig"]["LogFormat"], "Text")
        listed = {f["FunctionName"]: f for f in self.lab.raw("GET", "/2015-03-31/functions/").json()["Functions"]}
        self.assertIn("CapacityProviderConfig", listed["mi-info"])
        self.assertNotIn("CapacityProviderConfig", listed["classic-info"])

    def test_environment_variables_and_json_tail(self):
        r = self.lab.invoke("mi-info", {"env": ["AWS_LAMBDA_MAX_CONCURRENCY", "AWS_LAMBDA_LOG_FORMAT"]})
        p = lf.assert_ok(self, r)
        self.assertEqual(p["env"], {"AWS_LAMBDA_MAX_CONCURRENCY": str(N), "AWS_LAMBDA_LOG_FORMAT": "JSON"})
        lines = tail_lines(r)
        mine = [l for l in lines if l.get("record", {}).get("requestId") == r.request_id]
        self.assertEqual([l["type"] for l in mine], ["platform.start", "platform.report"], r.log)
        rep = mine[1]["record"]
        self.assertEqual(rep["status"], "success")
        self.assertEqual(rep["metrics"]["memorySizeMB"], 128)
        self.assertNotIn("initDurationMs", rep["metrics"])
        self.assertGreaterEqual(rep["metrics"]["maxMemoryUsedMB"], 1)
        # the function's own line carries the request id
        self.assertTrue(any(l.get("requestId") == r.request_id and l.get("message") == "handling"
                            for l in lines), r.log)
        self.assertNotIn("REPORT RequestId", r.log)
        # never frozen between invocations (a classic environment is)
        procs = lf.runtime_procs(self.info_marker)
        self.assertTrue(procs)
        self.assertEqual([p for p in procs if p.state == "T"], [], procs)
        self.assertTrue(r.log.endswith("\n") and json.loads(r.log.rstrip("\n").split("\n")[-1])
                        ["type"] == "platform.report")


class LabConcurrencyConfigTest(unittest.TestCase):
    def bad(self, extra, runtime="provided.al2023", handler=None):
        head = "functions:\n  - name: f\n    runtime: %s\n" % runtime
        if handler:
            head += "    handler: %s\n" % handler
        text = head + "    code: %s\n" % json.dumps(MI_CODE) + extra
        with self.assertRaises(LabError) as cm:
            Lab([], config_text=text).start()
        return str(cm.exception)

    def test_bad_max_concurrency_names_file_line_column(self):
        for value in ("0", "1601", "x"):
            msg = self.bad(f"    max_concurrency: {value}\n")
            self.assertRegex(msg, r"lab\.yaml:5:22: max_concurrency must be an integer from 1 to 1600")
        msg = self.bad("    max_concurrency: 2\n", runtime="python3.11", handler="h.handler")
        self.assertRegex(msg, r"lab\.yaml:6:22: function 'f': max_concurrency .* not supported on "
                              r"runtime python3\.11")
        msg = self.bad("    environments: 2\n")
        self.assertRegex(msg, r"lab\.yaml:5:5: function 'f': environments applies only")


if __name__ == "__main__":
    unittest.main()
