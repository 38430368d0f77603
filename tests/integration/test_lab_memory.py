"""Max Memory Used is the execution environment's peak (issue 13, "Lambda's
memory semantics"): the whole sandbox's memory at its highest, not a sum of
each process's own peak taken at different times; kept from one invocation
to the next, as Lambda's is the environment's high-water mark; the lab's
/tmp (a tmpfs) is not memory, as Lambda's /tmp is a disk.

Where the lab can make a memory cgroup per environment it reads the
kernel's peak; elsewhere (and with COLDSEC_LAB_MEMORY=rss, which forces it)
it samples the sum of the processes' RSS. The same expectations hold for
both; the lab says at start which one it uses.
"""
import os
import re
import unittest

import labfixture as lf
from labfixture import Lab, fn

CODE = os.path.join(lf.FUNCTIONS, "mem-peak-python")
X = 96  # MB each allocation holds; the memory size leaves room for two
CGROUP_LINE = re.compile(r"memory cgroup per environment \(cgroup v\d at (\S+)\)")


def _fns():
    return [fn(name, code=CODE, memory_mb=512, timeout_s=30)
            for name in ("mp-apart", "mp-once", "mp-tmp")]


class _PeakCases:
    lab_env = {}
    lab = None

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(_fns(), lab_env=cls.lab_env).start()

    @classmethod
    def tearDownClass(cls):
        if cls.lab:
            cls.lab.stop()

    def _used(self, r):
        lf.assert_log_shape(self, r, memory_mb=512)
        return int(r.report["Max Memory Used"].split()[0])

    def _baseline(self, name):
        r = self.lab.invoke(name, {"action": "noop"})
        return self._used(r), lf.assert_ok(self, r)["env_id"]

    def test_processes_peaking_at_different_times_count_once(self):
        base, env = self._baseline("mp-apart")
        r = self.lab.invoke("mp-apart", {"action": "workers_apart", "mb": X, "hold_s": 1.0})
        p = lf.assert_ok(self, r)
        self.assertEqual(p["env_id"], env, "control failed: a new environment")
        self.assertEqual(p["workers"], 2)
        used = self._used(r)
        try:
            self.assertGreaterEqual(used, X, f"Max Memory Used {used} MB: a worker held {X} MB")
            # Both workers are alive at the end, each with its own peak of X:
            # summing the processes' peaks would give base + 2X.
            self.assertLess(used, base + X + X // 2,
                            f"Max Memory Used {used} MB (baseline {base} MB): two workers "
                            f"holding {X} MB each at different times were counted together")
        finally:
            done = self.lab.invoke("mp-apart", {"action": "release"})
            self.assertEqual(lf.assert_ok(self, done)["exits"], [0, 0])

    def test_one_allocation_shows_and_stays_the_environment_peak(self):
        base, env = self._baseline("mp-once")
        r = self.lab.invoke("mp-once", {"action": "alloc", "mb": X, "hold_s": 0.3})
        self.assertEqual(lf.assert_ok(self, r)["allocated_mb"], X)
        used = self._used(r)
        self.assertGreaterEqual(used, X, f"Max Memory Used {used} MB below the {X} MB held")
        self.assertGreater(used, base)
        after = self.lab.invoke("mp-once", {"action": "noop"})
        self.assertEqual(lf.assert_ok(self, after)["env_id"], env, "control failed: a new environment")
        self.assertEqual(self._used(after), used,
                         "Max Memory Used is the environment's high-water mark, not the invocation's")


class CgroupPeakTest(_PeakCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = CGROUP_LINE.search(cls.lab.stderr_tail())
        if not m:
            err = cls.lab.stderr_tail()
            cls.lab.stop()
            cls.lab = None
            raise unittest.SkipTest(f"no writable memory cgroup here: {err[-400:]!r}")
        cls.cgroup_dir = m.group(1)

    def test_tmp_is_not_memory(self):
        base, _ = self._baseline("mp-tmp")
        r = self.lab.invoke("mp-tmp", {"action": "tmp_fill", "mb": X})
        self.assertEqual(lf.assert_ok(self, r)["written_mb"], X)
        used = self._used(r)
        self.assertLess(used, base + X // 2,
                        f"Max Memory Used {used} MB (baseline {base} MB) counts the {X} MB "
                        f"written to /tmp, which on Lambda is disk")

    def test_zz_cgroups_removed_when_the_lab_stops(self):
        self.assertTrue(os.path.isdir(self.cgroup_dir), f"control failed: {self.cgroup_dir} missing")
        envs = [d for d in os.listdir(self.cgroup_dir) if os.path.isdir(os.path.join(self.cgroup_dir, d))]
        self.assertTrue(envs, "control failed: no environment cgroup while environments live")
        self.lab.stop()
        self.assertFalse(os.path.exists(self.cgroup_dir), f"{self.cgroup_dir} outlives the lab")


class CgroupLeavesNothingTest(unittest.TestCase):
    """Without the sandbox an environment is a process group, which a
    process in a session of its own leaves; its memory cgroup still holds
    it, and the lab kills what is in the cgroup when it stops."""

    def test_a_process_outside_the_process_group_is_ended_with_the_lab(self):
        lab = Lab([fn("mp-daemon", code=CODE, timeout_s=10)], sandbox="none").start()
        try:
            if not CGROUP_LINE.search(lab.stderr_tail()):
                self.skipTest("no writable memory cgroup here")
            r = lab.invoke("mp-daemon", {"action": "daemon", "sleep_s": 60})
            pid = lf.assert_ok(self, r)["pid"]
            self.assertTrue(os.path.exists(f"/proc/{pid}"), "control failed: the daemon is not running")
            groups = {c.pid for c in lab.children()}  # an environment's group id is its runtime's pid
            self.assertNotIn(os.getpgid(pid), groups, "control failed: the daemon is in the environment's group")
        finally:
            lab.stop()
        gone = lf.wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                           lf.read_proc(pid) is None or lf.read_proc(pid).state == "Z", 5)
        self.assertTrue(gone, f"process {pid}, left by the function in its own session, outlives the lab")


class RssFallbackPeakTest(_PeakCases, unittest.TestCase):
    lab_env = {"COLDSEC_LAB_MEMORY": "rss"}

    def test_says_which_accounting_it_uses(self):
        err = self.lab.stderr_tail()
        self.assertIn("no memory cgroup (COLDSEC_LAB_MEMORY=rss)", err)
        self.assertIn("sum of the environment's process RSS", err)


if __name__ == "__main__":
    unittest.main()
