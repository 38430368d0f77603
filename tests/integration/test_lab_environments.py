"""coldsec-lab's execution environments (issue 2, second "Done means" bullet
and the environment life cycle): parallel invocations get their own
environments, warm ones keep module-level state, a configuration update
retires them all, idle timeout and maximum age retire them, and they are
frozen between invocations.
"""
import time
import unittest

import labfixture as lf
from labfixture import Lab, fn


class LabEnvironmentsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.par_marker = lf.unique("par")
        cls.idle_marker = lf.unique("idle")
        cls.freeze_marker = lf.unique("freeze")
        cls.lab = Lab([
            fn("env-par", timeout_s=10, environment={"FN_MARKER": cls.par_marker}),
            fn("env-idle", idle_timeout_s=2, environment={"FN_MARKER": cls.idle_marker}),
            fn("env-maxage", max_age_s=3, idle_timeout_s=600),
            fn("env-freeze", environment={"FN_MARKER": cls.freeze_marker}),
            fn("env-serial"),
        ]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def test_parallel_invokes_get_own_environments_warm_state_survives_update_clears(self):
        lab = self.lab
        n = 8
        events = [{"action": "sleep", "seconds": 1.5, "token": lf.unique(f"par{i}")} for i in range(n)]
        results = lab.invoke_parallel("env-par", events)
        for r in results:
            self.assertNotIsInstance(r, Exception, repr(r))
        last_token, last_count = {}, {}
        for ev, r in zip(events, results):
            p = lf.assert_ok(self, r)
            lf.assert_log_shape(self, r, cold=True)
            self.assertEqual(p["count"], 1)
            self.assertIsNone(p["prev_token"])
            self.assertIn(f"PROBE-INIT env={p['env_id']}", r.log)
            last_token[p["env_id"]] = ev["token"]
            last_count[p["env_id"]] = 1
        envs = set(last_token)
        self.assertEqual(len(envs), n, f"{n} parallel invocations ran in {len(envs)} environments")
        self.assertEqual(sum(1 for r in results if r.cold), n, "not 8 Init Durations")

        procs8 = lf.runtime_procs(self.par_marker)
        self.assertEqual(len(procs8) % n, 0, f"{len(procs8)} runtime processes for {n} environments")
        per_env = len(procs8) // n
        self.assertGreaterEqual(per_env, 1)

        for i in range(3 * n):
            token = lf.unique(f"seq{i}")
            r = lab.invoke("env-par", {"action": "info", "token": token})
            p = lf.assert_ok(self, r)
            lf.assert_log_shape(self, r, cold=False)
            e = p["env_id"]
            self.assertIn(e, envs, "a sequential invocation started a new environment while warm ones idled")
            self.assertEqual(p["count"], last_count[e] + 1, "module-level state lost in a warm environment")
            self.assertEqual(p["prev_token"], last_token[e], "module-level state lost in a warm environment")
            last_count[e] += 1
            last_token[e] = token

        c = lab.client()
        c.update_function_configuration(FunctionName="env-par",
                                        Environment={"Variables": lab.env_of("env-par", ROUND="2")})
        lab.wait_updated("env-par")
        r = lab.invoke("env-par", {"action": "env", "names": ["ROUND"]})
        p = lf.assert_ok(self, r)
        lf.assert_log_shape(self, r, cold=True)
        self.assertEqual(p["env"]["ROUND"], "2")
        self.assertNotIn(p["env_id"], envs, "an environment survived the configuration update")
        self.assertEqual(p["count"], 1)
        self.assertIsNone(p["prev_token"], "module-level state survived the configuration update")
        for _ in range(n):
            q = lf.assert_ok(self, lab.invoke("env-par", {"action": "info"}))
            self.assertNotIn(q["env_id"], envs, "an environment survived the configuration update")
        left = lf.wait_for(lambda: len(lf.runtime_procs(self.par_marker)) == per_env, 10)
        self.assertTrue(left, f"the 8 retired environments' processes are not all gone: "
                              f"{lf.runtime_procs(self.par_marker)} (expected {per_env})")
        self.assertFalse(lf.still_running(procs8), "processes of retired environments still run")

    def test_sequential_invocations_reuse_one_environment(self):
        lab = self.lab
        first = lf.assert_ok(self, lab.invoke("env-serial", {"action": "info"}))
        for i in range(2, 12):
            r = lab.invoke("env-serial", {"action": "info"})
            p = lf.assert_ok(self, r)
            lf.assert_log_shape(self, r, cold=False)
            self.assertEqual(p["env_id"], first["env_id"])
            self.assertEqual(p["count"], i)

    def test_idle_timeout_retires_the_environment(self):
        lab = self.lab
        r1 = lab.invoke("env-idle", {"action": "info"})
        p1 = lf.assert_ok(self, r1)
        self.assertTrue(r1.cold)
        procs = lf.processes_with(self.idle_marker)
        self.assertTrue(procs, "no process carries the function's environment")
        time.sleep(1.0)  # less than idle_timeout_s (2): the environment must still be there
        r2 = lab.invoke("env-idle", {"action": "info"})
        t_idle = time.monotonic()
        self.assertFalse(r2.cold, "the environment was retired before its idle timeout")
        self.assertEqual(lf.assert_ok(self, r2)["env_id"], p1["env_id"])
        gone = lf.wait_for(lambda: not lf.still_running(procs), 15)
        waited = time.monotonic() - t_idle
        self.assertTrue(gone, f"idle environment not retired 15 s after its last invocation: "
                              f"{lf.still_running(procs)}")
        self.assertGreaterEqual(waited, 1.8, "environment retired before idle_timeout_s (2 s)")
        r3 = lab.invoke("env-idle", {"action": "info"})
        p3 = lf.assert_ok(self, r3)
        lf.assert_log_shape(self, r3, cold=True)
        self.assertNotEqual(p3["env_id"], p1["env_id"])
        self.assertEqual(p3["count"], 1)

    def test_max_age_retires_the_environment(self):
        lab = self.lab
        t0 = time.monotonic()
        first = lab.invoke("env-maxage", {"action": "info"})
        p0 = lf.assert_ok(self, first)
        self.assertTrue(first.cold)
        while True:
            time.sleep(0.2)  # pacing: keeps the environment busy, never idle for long
            r = lab.invoke("env-maxage", {"action": "info"})
            elapsed = time.monotonic() - t0
            p = lf.assert_ok(self, r)
            if p["env_id"] != p0["env_id"]:
                self.assertTrue(r.cold, "replacement environment without Init Duration")
                self.assertEqual(p["count"], 1)
                self.assertGreaterEqual(elapsed, 2.9, "environment retired before max_age_s (3 s)")
                break
            self.assertFalse(r.cold)
            self.assertLess(elapsed, 10, "environment still serving 10 s after creation (max_age_s 3)")

    def test_environment_is_frozen_between_invocations(self):
        lab = self.lab
        r0 = lab.invoke("env-freeze", {"action": "thread_start"})
        p0 = lf.assert_ok(self, r0)

        def frozen():
            procs = lf.runtime_procs(self.freeze_marker)
            return procs and all(p.state in ("T", "t") for p in procs)

        self.assertTrue(lf.wait_for(frozen, 3),
                        f"idle environment not stopped (SIGSTOP): "
                        f"{[(p.comm, p.state) for p in lf.runtime_procs(self.freeze_marker)]}")
        time.sleep(1.5)  # the idle gap being measured: 150 ticks if the thread ran
        r1 = lab.invoke("env-freeze", {"action": "thread_read"})
        p1 = lf.assert_ok(self, r1)
        self.assertEqual(p1["env_id"], p0["env_id"])
        idle_ticks = p1["ticks"] - p0["ticks"]
        self.assertLess(idle_ticks, 40, f"a background thread ran {idle_ticks} ticks (10 ms each) "
                                        f"during 1.5 s of idleness: the environment was not frozen")
        # control: while an invocation runs, the thread does run
        r2 = lab.invoke("env-freeze", {"action": "thread_read", "sleep": 0.5})
        p2 = lf.assert_ok(self, r2)
        self.assertEqual(p2["env_id"], p0["env_id"])
        self.assertGreaterEqual(p2["ticks_after"] - p2["ticks"], 20,
                                "the background thread does not run during an invocation")


if __name__ == "__main__":
    unittest.main()
