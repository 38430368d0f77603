"""Handlers that fail (issue 2, fourth "Done means" bullet and "Bad input"):
timeout, crash, signal and memory limit give Lambda's error shapes and
replace the environment; an unhandled exception is reported and the
environment kept; a handler that crashes, hangs, floods its output or
exhausts memory costs only its own environment while a neighbour's
invocations go on.
"""
import concurrent.futures
import re
import time
import unittest

import labfixture as lf
from labfixture import MB, Lab, fn


class LabFailuresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([
            fn("fail-timeout", timeout_s=1),
            fn("fail-crash"),
            fn("fail-kill"),
            fn("fail-oom", memory_mb=128, timeout_s=15),
            fn("fail-raise"),
            fn("fail-hang", timeout_s=2),
            fn("fail-flood", timeout_s=60),
            fn("fail-crash2"),
            fn("fail-oom2", memory_mb=128, timeout_s=15),
            fn("neighbour", timeout_s=10),
        ]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def _fresh_env(self, name):
        r = self.lab.invoke(name, {"action": "info"})
        p = lf.assert_ok(self, r)
        return p["env_id"]

    def _assert_replaced(self, name, old_env):
        r = self.lab.invoke(name, {"action": "info"})
        p = lf.assert_ok(self, r)
        lf.assert_log_shape(self, r, cold=True)
        self.assertNotEqual(p["env_id"], old_env, "the failed environment was reused")
        self.assertEqual(p["count"], 1)

    def _assert_error(self, inv, error_type, message_re):
        self.assertEqual(inv.status, 200, repr(inv))
        self.assertEqual(inv.function_error, "Unhandled", repr(inv))
        body = inv.payload
        self.assertEqual(set(body), {"errorType", "errorMessage"}, body)
        self.assertEqual(body["errorType"], error_type, body)
        rid = inv.start_id
        self.assertIsNotNone(rid, f"no START line in the tail: {inv!r}")
        m = re.fullmatch(r"RequestId: " + re.escape(rid) + r" Error: " + message_re, body["errorMessage"])
        self.assertIsNotNone(m, f"errorMessage {body['errorMessage']!r} is not "
                                f"'RequestId: {rid} Error: {message_re}'")
        return m

    # -- shapes and replacement --------------------------------------------------

    def test_timeout_gives_sandbox_timedout_and_replaces_the_environment(self):
        old = self._fresh_env("fail-timeout")
        inv = self.lab.invoke("fail-timeout", {"action": "sleep", "seconds": 5})
        m = self._assert_error(inv, "Sandbox.Timedout", r"Task timed out after (\d+\.\d{2}) seconds")
        self.assertGreaterEqual(float(m.group(1)), 1.0)
        self.assertLess(float(m.group(1)), 1.5)
        self.assertLess(inv.elapsed, 4.0, "the timed-out invocation was not cut at its timeout")
        self._assert_replaced("fail-timeout", old)

    def test_exit_gives_runtime_exiterror_and_replaces_the_environment(self):
        old = self._fresh_env("fail-crash")
        inv = self.lab.invoke("fail-crash", {"action": "exit", "code": 7})
        self._assert_error(inv, "Runtime.ExitError", r"Runtime exited with error: exit status 7")
        self._assert_replaced("fail-crash", old)

    def test_killed_runtime_gives_signal_killed_and_replaces_the_environment(self):
        old = self._fresh_env("fail-kill")
        inv = self.lab.invoke("fail-kill", {"action": "kill_self", "signal": 9})
        self._assert_error(inv, "Runtime.ExitError", r"Runtime exited with error: signal: killed")
        self._assert_replaced("fail-kill", old)

    def test_memory_over_memory_size_gives_out_of_memory_and_replaces_the_environment(self):
        lab = self.lab
        # control: within the limit it works, and Max Memory Used shows it
        ok = lab.invoke("fail-oom", {"action": "alloc", "mb": 48, "hold_s": 0.2})
        p = lf.assert_ok(self, ok)
        self.assertEqual(p["allocated_mb"], 48)
        lf.assert_log_shape(self, ok, memory_mb=128)
        used = int(ok.report["Max Memory Used"].split()[0])
        self.assertGreaterEqual(used, 48, f"Max Memory Used {used} MB below the 48 MB the handler held")
        old = p["env_id"]
        inv = lab.invoke("fail-oom", {"action": "alloc", "mb": 512, "hold_s": 3})
        self._assert_error(inv, "Runtime.OutOfMemory", r"Runtime exited with error: signal: killed")
        self._assert_replaced("fail-oom", old)

    def test_unhandled_exception_is_reported_and_the_environment_kept(self):
        lab = self.lab
        old = self._fresh_env("fail-raise")
        inv = lab.invoke("fail-raise", {"action": "raise", "message": "probe says no"})
        self.assertEqual(inv.status, 200)
        self.assertEqual(inv.function_error, "Unhandled", repr(inv))
        body = inv.payload
        rid = lf.assert_log_shape(self, inv, cold=False)
        self.assertEqual(body["errorType"], "ProbeError")
        self.assertEqual(body["errorMessage"], "probe says no")
        self.assertEqual(body["requestId"], rid)
        self.assertIsInstance(body["stackTrace"], list)
        self.assertTrue(body["stackTrace"] and all(isinstance(s, str) for s in body["stackTrace"]), body)
        self.assertTrue(any("handler.py" in s for s in body["stackTrace"]), body)
        nxt = lab.invoke("fail-raise", {"action": "info"})
        p = lf.assert_ok(self, nxt)
        self.assertFalse(nxt.cold)
        self.assertEqual(p["env_id"], old, "an unhandled exception replaced the environment")
        self.assertEqual(p["count"], 3)

    # -- a failing handler costs only its own environment ------------------------

    def _with_neighbour(self, bad_name, bad_event, min_during):
        """Runs one bad invocation while the neighbour function keeps
        answering from its one warm environment: a long invocation started
        just before, and quick ones while the bad one runs."""
        lab = self.lab
        n0 = lab.invoke("neighbour", {"action": "info"})
        seen = {lf.assert_ok(self, n0)["env_id"]}
        during = 0
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            long_one = ex.submit(lab.invoke, "neighbour", {"action": "sleep", "seconds": 1.0}, None, False)
            bad = ex.submit(lab.invoke, bad_name, bad_event)
            while not bad.done():
                t0 = time.monotonic()
                r = lab.invoke("neighbour", {"action": "info"}, tail=False)
                took = time.monotonic() - t0
                seen.add(lf.assert_ok(self, r)["env_id"])
                self.assertLess(took, 3.0, f"a neighbour invocation took {took:.1f} s")
                during += 1
                time.sleep(0.05)
            slow = long_one.result()
            bad_inv = bad.result()
        seen.add(lf.assert_ok(self, slow)["env_id"])
        self.assertGreaterEqual(during, min_during, "too few neighbour invocations ran while the bad one did")
        # the neighbour's environments are still warm, with their state
        after = lab.invoke("neighbour", {"action": "info"})
        p = lf.assert_ok(self, after)
        self.assertFalse(after.cold, "the neighbour lost its warm environments")
        self.assertIn(p["env_id"], seen)
        self.assertGreater(p["count"], 1)
        self.assertTrue(lab.alive(), f"coldsec-lab died; stderr:\n{lab.stderr_tail()}")
        return bad_inv

    def test_hang_costs_only_its_own_environment(self):
        bad = self._with_neighbour("fail-hang", {"action": "sleep", "seconds": 30}, min_during=5)
        self._assert_error(bad, "Sandbox.Timedout", r"Task timed out after (\d+\.\d{2}) seconds")

    def test_crash_costs_only_its_own_environment(self):
        old = self._fresh_env("fail-crash2")
        bad = self._with_neighbour("fail-crash2", {"action": "exit", "code": 3}, min_during=0)
        self._assert_error(bad, "Runtime.ExitError", r"Runtime exited with error: exit status 3")
        self._assert_replaced("fail-crash2", old)

    def test_memory_exhaustion_costs_only_its_own_environment(self):
        bad = self._with_neighbour("fail-oom2", {"action": "alloc", "mb": 512, "hold_s": 3}, min_during=1)
        self._assert_error(bad, "Runtime.OutOfMemory", r"Runtime exited with error: signal: killed")

    def test_output_flood_costs_only_its_own_environment(self):
        lab = self.lab
        hwm0 = lab.hwm_kb()
        flood = 50 * MB
        bad = self._with_neighbour("fail-flood", {"action": "flood", "bytes": flood}, min_during=1)
        self.assertEqual(bad.status, 200, repr(bad))
        if bad.function_error is None:
            self.assertEqual(bad.payload["written"], flood)
        else:
            self.assertIsInstance(bad.payload.get("errorType"), str, repr(bad))
        self.assertIsNotNone(bad.log, "no log tail")
        self.assertLessEqual(len(bad.log_raw), 4096)
        self.assertIsNotNone(bad.report, f"no REPORT line at the end of the flood's tail: {bad.log[-500:]!r}")
        grew_mb = (lab.hwm_kb() - hwm0) / 1024
        self.assertLess(grew_mb, 32, f"the lab's peak memory grew {grew_mb:.0f} MB while a function "
                                     f"wrote 50 MB to stdout: the flood costs the lab, not only its environment")
        nxt = lab.invoke("fail-flood", {"action": "info"})
        lf.assert_ok(self, nxt)


if __name__ == "__main__":
    unittest.main()
