"""coldsec-lab without a sandbox (issue 2: "say so loudly and fall back to
plain processes with a private TMPDIR and a per-environment loopback port").
--sandbox none forces the fallback even where bubblewrap works.
"""
import glob
import os
import shutil
import tempfile
import unittest

import labfixture as lf
from labfixture import Lab, fn


class LabFallbackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([fn("fb-probe", timeout_s=10)], sandbox="none").start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def test_says_so_loudly(self):
        err = self.lab.stderr_tail()
        self.assertIn("WARNING", err)
        self.assertIn("not isolated", err)

    def test_warm_reuse_still_works(self):
        a = lf.assert_ok(self, self.lab.invoke("fb-probe", {"action": "info"}, tail=False))
        b = lf.assert_ok(self, self.lab.invoke("fb-probe", {"action": "info"}, tail=False))
        self.assertEqual(a["env_id"], b["env_id"])

    def test_private_tmpdir_and_port_per_environment(self):
        tokens = [lf.unique("fb"), lf.unique("fb")]
        results = self.lab.invoke_parallel(
            "fb-probe", [{"action": "tempdir_isolation", "token": t, "sleep": 1.0} for t in tokens])
        ps = [lf.assert_ok(self, r) for r in results]
        self.assertNotEqual(ps[0]["env_id"], ps[1]["env_id"])
        self.assertNotEqual(ps[0]["tmpdir"], ps[1]["tmpdir"])
        for p, t in zip(ps, tokens):
            self.assertNotEqual(p["tmpdir"], "/tmp", "TMPDIR is not private")
            self.assertEqual(p["seen"], [f"iso-{t}"], "TMPDIR is shared between environments")
            host, port = p["runtime_api"].rsplit(":", 1)
            self.assertEqual(host, "127.0.0.1")
            self.assertNotEqual(int(port), 9001)
        self.assertNotEqual(ps[0]["runtime_api"], ps[1]["runtime_api"])
        self.__class__.tmpdirs = [p["tmpdir"] for p in ps]

    def test_zz_tmpdirs_removed_when_the_lab_stops(self):
        dirs = getattr(self.__class__, "tmpdirs", None)
        if dirs is None:
            self.skipTest("needs test_private_tmpdir_and_port_per_environment")
        self.assertTrue(all(os.path.isdir(d) for d in dirs))
        self.lab.stop()
        self.assertEqual([d for d in dirs if os.path.exists(d)], [],
                         "the fallback's private TMPDIRs outlive the lab")


class LabSpawnFailureTest(unittest.TestCase):
    """An environment that cannot even be prepared fails its invocation with
    Runtime.ExitError; the lab stays up. Forced in the fallback by removing
    the lab's state folder, where the private TMPDIRs are made."""

    def test_spawn_failure_is_a_function_error_not_a_crash(self):
        tmp = tempfile.mkdtemp(prefix="coldsec-spawnfail-")
        lab = Lab([fn("sf-probe")], sandbox="none", lab_env={"TMPDIR": tmp}).start()
        try:
            states = glob.glob(os.path.join(tmp, "coldsec-lab-*"))
            self.assertEqual(len(states), 1, states)
            shutil.rmtree(states[0])
            r = lab.invoke("sf-probe", {"action": "info"}, tail=False)
            self.assertEqual(r.function_error, "Unhandled", repr(r))
            self.assertEqual(r.payload["errorType"], "Runtime.ExitError")
            self.assertIn("private TMPDIR", r.payload["errorMessage"])
            self.assertTrue(lab.alive(), "the lab died on a failed spawn")
        finally:
            lab.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
