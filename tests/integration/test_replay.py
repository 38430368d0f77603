"""`coldsec replay FINDING.json`: a finding of the default suite's
cross-user-leak sample (the run `make demo` does, cut to that one target and
scenario) names `coldsec replay <its finding file>` first in its reproduce
list; replaying that file starts a fresh lab of the recorded lab config,
sends the planted and the seen request again in order, and says the finding
reproduces (exit 1). The same requests against the hardened twin, or a
finding file whose canary was tampered with, do not reproduce (exit 0); a
file that is not a finding is a usage error (exit 2).

The other check kinds the same way, each on the default suite cut to one
vulnerable sample: tmp-residue's disk-full (pattern), secret-exposure's
exposed (secret: the file names kinds and names, never a value), and
memory-growth's growth (memory); each finding file pointed at the hardened
twin does not reproduce, and a copied report folder still replays (request
files are named relative to the finding file)."""
import glob
import json
import os
import shutil
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
        # Beside the original: its request files are named relative to it.
        path = os.path.join(os.path.dirname(self.finding_file()), "edited-%d.json" % id(change))
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
        self.assertEqual(doc["check"]["kind"], "canary")
        self.assertEqual(doc["check"]["canary"], example["canary"])
        self.assertEqual([s["seq"] for s in doc["steps"]], [example["planted"]["seq"], example["seen"]["seq"]])
        self.assertEqual(doc["target"]["where"], "lab")
        self.assertIn(doc["check"]["canary"], r.stdout)

    def test_the_hardened_twin_does_not_reproduce(self):
        def twin(doc):
            doc["target"]["function"] = HARDENED
        r = replay(self.edited(twin))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT REPRODUCED", r.stdout)

    def test_a_tampered_canary_does_not_reproduce(self):
        def tamper(doc):
            doc["check"]["canary"] = "alice-CSC" + "0" * 24
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

    def test_a_bad_member_is_named(self):
        def bad(doc):
            doc["check"]["seen_step"] = 7
        r = replay(self.edited(bad))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("check.seen_step", r.stderr)


def run_one(target, scenario):
    """The default suite cut to one target and scenario; its report and the findings of that scenario."""
    out = tmp_dir("coldsec-replay-")
    r = subprocess.run([coldsec_binary(), "run", "scenarios.yaml", "--target", target, "--scenario", scenario,
                        "--seed", "7", "--out", out], env=clean_env(), capture_output=True, text=True, timeout=300,
                       cwd=REPO)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    report = json.load(open(glob.glob(os.path.join(out, "*", "report.json"))[0]))
    return out, [f for f in report["findings"] if f["scenario"] == scenario]


def finding_path(finding):
    first = finding["evidence"]["reproduce"][0]
    assert first.startswith("coldsec replay "), finding["evidence"]["reproduce"]
    return first[len("coldsec replay "):]


def retargeted(path, function):
    doc = json.load(open(path))
    doc["target"]["function"] = function
    # Beside the original: its request files are named relative to it.
    new = os.path.join(os.path.dirname(path), "retargeted-" + os.path.basename(path))
    with open(new, "w") as f:
        json.dump(doc, f)
    return new


class ReplayKinds(unittest.TestCase):
    """One vulnerable sample per check kind: it reproduces; the hardened twin does not."""

    def kind(self, target, scenario, assertion, kind, hardened):
        out, findings = run_one(target, scenario)
        (finding,) = [f for f in findings if f["assertion"] == assertion]
        path = finding_path(finding)
        doc = json.load(open(path))
        self.assertEqual(doc["check"]["kind"], kind)
        for st in doc["steps"]:
            self.assertFalse(os.path.isabs(st["request_file"]), st)
            self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(path), st["request_file"])), st)
        r = replay(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("REPRODUCED", r.stdout)
        self.assertNotIn("NOT REPRODUCED", r.stdout)
        r = replay(retargeted(path, hardened))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("NOT REPRODUCED", r.stdout)
        return out, finding, path, doc

    def test_pattern(self):
        _, finding, _, doc = self.kind("tmp-residue-python-vulnerable", "tmp-residue", "disk-full", "pattern",
                                       "tmp-residue-python-hardened")
        self.assertEqual(doc["check"]["sends"], finding["evidence"]["invocations_before_first_match"] + 1)
        self.assertEqual(doc["check"]["pattern"], finding["evidence"]["pattern"])

    def test_memory(self):
        _, finding, _, doc = self.kind("memory-growth-python-vulnerable", "memory-growth", "growth", "memory",
                                       "memory-growth-python-hardened")
        self.assertTrue(doc["check"]["proven"])
        self.assertEqual(doc["check"]["memory_size_mb"], finding["evidence"]["memory_size_mb"])

    def test_secret(self):
        out, finding, path, doc = self.kind("secret-exposure-python-vulnerable", "secret-exposure", "exposed",
                                            "secret", "secret-exposure-python-hardened")
        self.assertEqual({(e["kind"], e["name"]) for e in doc["check"]["exposed"]},
                         {(e["kind"], e["name"]) for e in finding["evidence"]["exposed"]})
        # The lab config's secrets are nowhere in the finding file, nor in what replay printed.
        config = open(os.path.join(REPO, "harness", "functions.yaml")).read()
        text = open(path).read()
        r = replay(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for value in ("lab-only-Pa55word-7f3a9c01", "lab-fake-api-key-5d2e8b61"):
            self.assertIn(value, config)
            self.assertNotIn(value, text)
            self.assertNotIn(value, r.stdout + r.stderr)
        self.assertIn("MASKED", r.stdout)
        self.assertIn("not tested", r.stdout)   # the planted canaries: replay plants none

    def test_only_planted_canaries_cannot_be_tested(self):
        _, findings = run_one("secret-exposure-python-vulnerable", "secret-exposure")
        path = finding_path(findings[0])
        doc = json.load(open(path))
        doc["check"]["exposed"] = [e for e in doc["check"]["exposed"] if e["kind"] == "planted-canary"]
        self.assertTrue(doc["check"]["exposed"])
        with open(path, "w") as f:
            json.dump(doc, f)
        r = replay(path)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("COULD NOT TEST", r.stdout)

    def test_injection_persistence(self):
        self.kind("injection-persistence-python-vulnerable", "injection-persistence", "persisted", "canary",
                  "injection-persistence-python-hardened")

    def test_a_moved_report_folder_still_replays(self):
        out, findings = run_one("tmp-residue-python-vulnerable", "tmp-residue")
        (finding,) = [f for f in findings if f["assertion"] == "disk-full"]
        path = finding_path(finding)
        moved = os.path.join(tmp_dir("coldsec-replay-moved-"), "report")
        shutil.copytree(out, moved)
        shutil.rmtree(out)
        new = os.path.join(moved, os.path.relpath(path, out))
        r = replay(new)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("REPRODUCED", r.stdout)


if __name__ == "__main__":
    unittest.main()
