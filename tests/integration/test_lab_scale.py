"""coldsec-lab under a burst (issue 13, "Scale"): environments are spawned in
parallel off the request path, and concurrency beyond the account's or a
function's limit is throttled as Lambda throttles it.

Everything here is order-based, not timed: the functions wait at gates
(tests/integration/functions/gate-python) that the test opens only after
what must not have been blocked has answered. 1,000 in flight is measured
in the bench (bench/lab_scale.py), not here.
"""
import concurrent.futures
import os
import shutil
import tempfile
import unittest

from botocore.exceptions import ClientError

import labfixture as lf
from labfixture import Lab, fn

GATE_CODE = os.path.join(lf.FUNCTIONS, "gate-python")
BURST = 40


def gate_code():
    """A private copy of gate-python: the test opens gates by creating files in it."""
    d = tempfile.mkdtemp(prefix="coldsec-gate-")
    shutil.copy(os.path.join(GATE_CODE, "handler.py"), d)
    os.chmod(d, 0o755)
    return d


def open_gate(code, name):
    with open(os.path.join(code, name), "w", encoding="ascii") as f:
        f.write("open\n")


class LabBurstTest(unittest.TestCase):
    """BURST invocations at once of a function whose init waits: they get
    BURST environments, and while their inits are held the Lambda API and a
    warm function still answer."""

    @classmethod
    def setUpClass(cls):
        cls.code = gate_code()
        cls.marker = lf.unique("burst")
        cls.lab = Lab([
            fn("burst-slow", code=cls.code, timeout_s=30,
               environment={"GATE_INIT": "init-open", "FN_MARKER": cls.marker}),
            fn("burst-warm", code=cls.code, timeout_s=30),
        ]).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lab.stop()
        finally:
            shutil.rmtree(cls.code, ignore_errors=True)

    def test_burst_spawns_in_parallel_while_the_api_answers(self):
        lab = self.lab
        warm = lf.assert_ok(self, lab.invoke("burst-warm", {}))
        pool = concurrent.futures.ThreadPoolExecutor(BURST)
        client = lab.client()
        event = {"gate": "release", "max_s": 25}
        try:
            futures = [pool.submit(lab.invoke, "burst-slow", event, None, False, "RequestResponse", None, client)
                       for _ in range(BURST)]
            # Spawns are under way once a runtime exists; none can finish its
            # init until the init gate opens.
            self.assertTrue(lf.wait_for(lambda: lf.runtime_procs(self.marker), 60),
                            f"no environment of burst-slow started; stderr:\n{lab.stderr_tail()}")
            got = lab.client().get_function(FunctionName="burst-slow")
            self.assertEqual(got["Configuration"]["FunctionName"], "burst-slow")
            again = lf.assert_ok(self, lab.invoke("burst-warm", {}))
            self.assertEqual(again["env_id"], warm["env_id"], "the warm function was not served warm")
            ended = [f.result() if f.exception() is None else f.exception() for f in futures if f.done()]
            self.assertFalse(ended, "an invocation of burst-slow ended before its init gate opened")
            open_gate(self.code, "init-open")
            # Every invocation holds its environment until "release": BURST
            # in flight need BURST environments.
            self.assertTrue(lf.wait_for(lambda: len(lf.runtime_procs(self.marker)) >= BURST, 60),
                            f"{len(lf.runtime_procs(self.marker))} of {BURST} environments started; "
                            f"stderr:\n{lab.stderr_tail()}")
            self.assertFalse([f for f in futures if f.done()], "an invocation ended before its gate opened")
            open_gate(self.code, "release")
            results = [f.result() for f in futures]
        finally:
            open_gate(self.code, "init-open")
            open_gate(self.code, "release")
            pool.shutdown(wait=True)
        payloads = [lf.assert_ok(self, r) for r in results]
        for p in payloads:
            self.assertIs(p["init_gate_open"], True, f"an init gave up waiting for its gate: {p}")
            self.assertIs(p["gate_open"], True, f"an invocation gave up waiting for its gate: {p}")
        envs = {p["env_id"] for p in payloads}
        self.assertEqual(len(envs), BURST, f"{BURST} concurrent invocations ran in {len(envs)} environments")


ACCOUNT_LIMIT = 3


class LabAccountThrottleTest(unittest.TestCase):
    """Lambda's concurrency pools with an account limit of 3: a function
    with reserved concurrency 1 keeps it, the unreserved functions share the
    other 2, and beyond that Invoke answers 429 TooManyRequestsException with
    Reason ConcurrentInvocationLimitExceeded."""

    @classmethod
    def setUpClass(cls):
        cls.code = gate_code()
        cls.marker = lf.unique("acct")
        cls.lab = Lab([
            fn("acct-hold", code=cls.code, timeout_s=30, environment={"FN_MARKER": cls.marker}),
            fn("acct-other", code=cls.code, timeout_s=30),
            fn("acct-reserved", code=cls.code, timeout_s=30, reserved_concurrency=1),
        ], account_concurrency=ACCOUNT_LIMIT).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.lab.stop()
        finally:
            shutil.rmtree(cls.code, ignore_errors=True)

    def test_unreserved_pool_is_throttled_reserved_concurrency_is_kept(self):
        lab = self.lab
        unreserved = ACCOUNT_LIMIT - 1
        pool = concurrent.futures.ThreadPoolExecutor(unreserved)
        client = lab.client()
        try:
            holders = [pool.submit(lab.invoke, "acct-hold", {"gate": "release"}, None, False,
                                   "RequestResponse", None, client) for _ in range(unreserved)]
            # Each holder has its own environment once it is in flight.
            self.assertTrue(lf.wait_for(lambda: len(lf.runtime_procs(self.marker)) >= unreserved, 60),
                            f"the holders did not start; stderr:\n{lab.stderr_tail()}")
            with self.assertRaises(ClientError) as cm:
                lab.invoke("acct-other", {}, tail=False)
            err = lf.assert_client_error(self, cm, "TooManyRequestsException", 429)
            self.assertEqual(err.get("Reason"), "ConcurrentInvocationLimitExceeded", err)
            self.assertEqual(err.get("message"), "Rate Exceeded.", err)
            raw = lab.raw("POST", lab.invocations_path("acct-other"), b"{}")
            self.assertEqual(raw.status, 429, raw)
            self.assertEqual(raw.error_type, "TooManyRequestsException", raw)
            self.assertEqual(raw.json().get("Reason"), "ConcurrentInvocationLimitExceeded", raw)
            # The reservation is not part of the shared pool.
            lf.assert_ok(self, lab.invoke("acct-reserved", {}, tail=False))
            self.assertFalse([h for h in holders if h.done()], "a holder ended before its gate opened")
            open_gate(self.code, "release")
            held = [lf.assert_ok(self, h.result()) for h in holders]
        finally:
            open_gate(self.code, "release")
            pool.shutdown(wait=True)
        for p in held:
            self.assertIs(p["gate_open"], True, p)
        lf.assert_ok(self, lab.invoke("acct-other", {}, tail=False))

    def test_reservation_must_leave_100_unreserved(self):
        c = self.lab.client()
        with self.assertRaises(ClientError) as cm:
            c.put_function_concurrency(FunctionName="acct-other", ReservedConcurrentExecutions=1)
        err = lf.assert_client_error(self, cm, "InvalidParameterValueException", 400)
        self.assertIn("UnreservedConcurrentExecution below its minimum value", err["Error"]["Message"])
        self.assertNotIn("ReservedConcurrentExecutions",
                         c.get_function_concurrency(FunctionName="acct-other"))


if __name__ == "__main__":
    unittest.main()
