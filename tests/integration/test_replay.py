"""`coldsec replay FINDING.json`: a finding of the default suite's
cross-user-leak sample (the run `make demo` does, cut to that one target and
scenario) names `coldsec replay <its finding file>` first in its reproduce
list; replaying that file starts a fresh lab of the recorded lab config,
sends the planted and the seen request again in order, and says the finding
reproduces (exit 1). The same requests against the hardened twin, or a
finding file whose canary was tampered with, do not reproduce (exit 0); a
file that is not a finding is a usage error (exit 2)."""
import glob
import json
import os
import subprocess
import unittest

from driverfixture import coldsec_binary
from labfixture import REPO, tmp_dir

VULNERABLE = "cross-user-leak-python-vulnerable"
HARDENED = "cross-user-leak-python-hardened"


def clean_env():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp_dir("coldsec-home-")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def replay(path, cwd=None):
    return subprocess.run([coldsec_binary(), "replay", path], env=clean_env(), capture_output=True, text=True,
                          timeout=120, cwd=cwd or tmp_dir("coldsec-replay-cwd-"))


class Replay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        out = tmp_dir("coldsec-replay-")
        r = subprocess.run([coldsec_binary(), "run", "scenarios.yaml", "--target", VULNERABLE, "--scenario",
                            "cross-user-leak", "--seed", "7", "--out", out], env=clean_env(), capture_output=True,
                           text=True, timeout=300, cwd=REPO)
        assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
        report = json.load(open(glob.glob(os.path.join(out, "*", "report.json"))[0]))
        cls.finding = next(f for f in report["findings"] if f["scenario"] == "cross-user-leak")
        cls.out = out

    def finding_file(self):
        first = self.finding["evidence"]["reproduce"][0]
        self.assertTrue(first.startswith("coldsec replay "), self.finding["evidence"]["reproduce"])
        path = first[len("coldsec replay "):]
        self.assertTrue(os.path.isabs(path), path)
        self.assertTrue(os.path.isfile(path), path)
        return path

    def edited(self, change):
        doc = json.load(open(self.finding_file()))
        change(doc)
        path = os.path.join(tmp_dir("coldsec-replay-edit-"), "finding.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def test_the_finding_reproduces(self):
        r = replay(self.finding_file())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("REPRODUCED", r.stdout)
        self.assertNotIn("NOT REPRODUCED", r.stdout)
        doc = json.load(open(self.finding_file()))
        # What it replays is what the finding shows: its first example's canary, planted then seen.
        example = self.finding["evidence"]["examples"][0]
        self.assertEqual(doc["canary"], example["canary"])
        self.assertEqual([s["seq"] for s in doc["steps"]], [example["planted"]["seq"], example["seen"]["seq"]])
        self.assertEqual(doc["target"]["where"], "lab")
        self.assertIn(doc["canary"], r.stdout)

    def test_the_hardened_twin_does_not_reproduce(self):
        def twin(doc):
            doc["target"]["function"] = HARDENED
        r = replay(self.edited(twin))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT REPRODUCED", r.stdout)

    def test_a_tampered_canary_does_not_reproduce(self):
        def tamper(doc):
            doc["canary"] = "alice-CSC" + "0" * 24
        r = replay(self.edited(tamper))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT REPRODUCED", r.stdout)

    def test_a_seen_request_holding_the_canary_proves_nothing(self):
        def echo(doc):
            doc["steps"][1]["request_file"] = doc["steps"][0]["request_file"]
        r = replay(self.edited(echo))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("holds the canary", r.stderr)

    def test_usage_errors(self):
        self.assertEqual(replay(os.path.join(self.out, "no-such.json")).returncode, 2)
        path = os.path.join(tmp_dir("coldsec-replay-bad-"), "x.json")
        with open(path, "w") as f:
            f.write("{\"a\": 1}")
        r = replay(path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a finding file", r.stderr)
        self.assertEqual(subprocess.run([coldsec_binary(), "replay"], capture_output=True).returncode, 2)


if __name__ == "__main__":
    unittest.main()
