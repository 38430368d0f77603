"""Nothing left behind (issue 13): coldsec-lab removes its state folder when
it stops (SIGTERM, SIGINT, a failed start) and keeps logs only in --log-dir;
it reaps every process of its environments, including ones a handler left
running in the background or orphaned, so that no process and no zombie of
its tree survives it; `coldsec fuzz` (finding, error, SIGINT) and
`coldsec run` (normal end, SIGINT) leave nothing in their TMPDIR, and the
run still writes its (partial) report.

Every program here runs with TMPDIR set to a folder the test makes, so
"left nothing" is "that folder is empty" however busy the machine's /tmp
is; processes are found by a marker unique to the test (in their
environment or command line) and by the lab's process tree seen just
before it was stopped (pid and start time, zombies included).
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

import labfixture as lf
from driverfixture import coldsec_binary, wait_exit, wait_stopped
from labfixture import REPO, Lab, fn

BG = os.path.join(lf.FUNCTIONS, "bg-child-python")
FUZZ_CONFIG = os.path.join(REPO, "harness", "fuzz-functions.yaml")
FUZZ_EVENT = os.path.join(REPO, "harness", "functions", "fuzz-baseline.json")


class PrivateTmp:
    """A mixin: private_tmpdir() is an empty folder for a program's TMPDIR,
    removed after the test."""

    def private_tmpdir(self, prefix="coldsec-leftover-"):
        d = tempfile.mkdtemp(prefix=prefix)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def assertEmptyFolder(self, d, what):
        left = sorted(os.listdir(d))
        self.assertEqual(left, [], f"{what} left these in its TMPDIR {d}: {left}")

    def clean_env(self, **extra):
        home = self.private_tmpdir("coldsec-home-")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra)
        return env


class LabStateFolderTest(PrivateTmp, unittest.TestCase):
    def test_state_folder_is_removed_when_the_lab_stops(self):
        cases = [(signal.SIGTERM, None, False), (signal.SIGINT, "none", False), (signal.SIGTERM, None, True)]
        for sig, sandbox, own_log_dir in cases:
            with self.subTest(signal=sig.name, sandbox=sandbox or "auto", log_dir=own_log_dir):
                tmp = self.private_tmpdir()
                log_dir = os.path.join(self.private_tmpdir("coldsec-logs-"), "streams")
                extra = ["--log-dir", log_dir] if own_log_dir else []
                lab = Lab([fn("st-probe")], sandbox=sandbox, lab_env={"TMPDIR": tmp}, log_dir=False,
                          extra_args=extra).start()
                try:
                    states = glob.glob(os.path.join(tmp, "coldsec-lab-*"))
                    self.assertEqual(len(states), 1, f"control failed: no state folder in TMPDIR: {states}")
                    lf.assert_ok(self, lab.invoke("st-probe", {"action": "print", "text": "a log line"}))
                    streams = log_dir if own_log_dir else os.path.join(states[0], "logs")
                    self.assertTrue(os.listdir(streams), f"control failed: no log stream in {streams}")
                    lab.stop(sig)
                finally:
                    lab.kill()
                self.assertEmptyFolder(tmp, f"coldsec-lab stopped with {sig.name}")
                if own_log_dir:
                    self.assertTrue(os.listdir(log_dir), "--log-dir's streams were not kept")
                else:
                    self.assertNotIn("kept in", lab.stderr_tail(), "the lab says it kept logs it was not asked to")

    def test_state_folder_is_removed_when_the_start_fails(self):
        probe = os.path.relpath(lf.PROBE_PY, REPO)
        good = ('functions:\n  - name: "p"\n    runtime: "python3.11"\n    handler: "handler.handler"\n'
                f'    code: "{os.path.join(REPO, probe)}"\n')
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        cases = {
            "bad config": ('functions:\n  - name: "p"\n    runtime: "cobol85"\n', []),
            "port in use": (good, ["--listen", f"127.0.0.1:{busy.getsockname()[1]}"]),
            "log folder cannot be made": (good, ["--log-dir", "/proc/coldsec-no/such"]),
            "coverage folder cannot be made": (good, ["--coverage-dir", "/proc/coldsec-no/such"]),
        }
        for what, (config, args) in cases.items():
            with self.subTest(what):
                tmp = self.private_tmpdir()
                cfg_dir = self.private_tmpdir("coldsec-cfg-")
                path = os.path.join(cfg_dir, "lab.yaml")
                with open(path, "w") as f:
                    f.write(config)
                argv = [lf.lab_binary(), "--config", path]
                if "--listen" not in args:
                    argv += ["--listen", "127.0.0.1:0"]
                p = subprocess.run(argv + args, capture_output=True, timeout=30, env=dict(os.environ, TMPDIR=tmp))
                self.assertGreater(p.returncode, 0, f"control failed: the lab started: {p.stderr[-1500:]!r}")
                self.assertEqual(p.stdout, b"")
                self.assertEmptyFolder(tmp, f"coldsec-lab failing on a {what}")


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class LabProcessesTest(unittest.TestCase):
    def test_no_process_or_zombie_survives_the_lab(self):
        """A handler leaves a child, a setsid() orphan and an unwaited child
        behind; the instant the lab has exited nothing of its tree remains (a
        zombie counts: its pid and start time are still in /proc; this
        machine's init may reap what it is handed later, so later proves
        nothing)."""
        for sandbox, sig in ((None, signal.SIGTERM), ("none", signal.SIGINT)):
            with self.subTest(sandbox=sandbox or "auto", signal=sig.name):
                lab = Lab([fn("bg", code=BG, timeout_s=10), fn("bg-probe")], sandbox=sandbox).start()
                try:
                    for mode in ("child", "daemon", "zombie"):
                        out = lf.assert_ok(self, lab.invoke("bg", {"mode": mode, "marker": lab.marker}))
                        self.assertEqual(out["started"], mode)
                    lf.assert_ok(self, lab.invoke("bg-probe", {"action": "info"}))
                    sleepers = lf.wait_for(lambda: [p for p in lf.processes_with(lab.marker)
                                                    if "time.sleep" in cmdline(p.pid)], 5)
                    self.assertEqual(len(sleepers), 2, f"control failed: the background sleepers: {sleepers}")
                    tree = lab.children()
                    lab.stop(sig, settle=0)  # fails itself on a process left behind at the lab's exit
                finally:
                    lab.kill()
                self.assertEqual(lf.still_running(tree), [], "processes (or zombies) of the lab's tree survived it")
                self.assertEqual(lf.processes_with(lab.marker), [], "processes of the environments survived the lab")


def files_under(d):
    return sorted(os.path.relpath(os.path.join(root, n), d)
                  for root, dirs, files in os.walk(d) for n in dirs + files)


class FuzzTmpTest(PrivateTmp, unittest.TestCase):
    """`coldsec fuzz` with TMPDIR set to a private folder: whatever way the
    run ends, the folder is empty afterwards and no process that inherited
    that TMPDIR (the fuzzer, its lab, the lab's environments) is left."""

    def fuzz(self, target, seconds, tmp):
        out = self.private_tmpdir("coldsec-fuzz-out-")
        argv = [coldsec_binary(), "fuzz", "--target", target, "--lab-config", FUZZ_CONFIG, "--event", FUZZ_EVENT,
                "--time", f"{seconds}s", "--seed", "1", "--out", out]
        return argv, out

    def assertNothingLeft(self, tmp, what):
        self.assertEmptyFolder(tmp, what)
        self.assertEqual(lf.processes_with(tmp), [], f"{what} left processes behind")

    def test_finding_leaves_nothing(self):
        tmp = self.private_tmpdir()
        argv, out = self.fuzz("fuzz-crash-python", 60, tmp)
        r = subprocess.run(argv, env=self.clean_env(TMPDIR=tmp), capture_output=True, timeout=240, cwd=REPO)
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, 1, err[-2000:])
        self.assertTrue(glob.glob(os.path.join(out, "fuzz-crash-python", "finding-*.json")),
                        f"control failed: no finding: {err[-2000:]}")
        self.assertNothingLeft(tmp, "coldsec fuzz ending in a finding")

    def test_error_leaves_nothing(self):
        """The lab starts (its folders exist), then the target is not one of
        its functions: the fuzzer gives up."""
        tmp = self.private_tmpdir()
        argv, _ = self.fuzz("no-such-function", 10, tmp)
        r = subprocess.run(argv, env=self.clean_env(TMPDIR=tmp), capture_output=True, timeout=120, cwd=REPO)
        err = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, 3, err[-2000:])
        self.assertIn("no-such-function", err)
        self.assertNothingLeft(tmp, "coldsec fuzz ending in an error")

    def test_sigint_leaves_nothing(self):
        tmp = self.private_tmpdir()
        argv, _ = self.fuzz("fuzz-clean-python", 120, tmp)
        p = subprocess.Popen(argv, env=self.clean_env(TMPDIR=tmp), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=REPO)
        try:
            # The lab's state folder exists once the lab is up: the fuzzer is running.
            up = lf.wait_for(lambda: [f for f in files_under(tmp) if os.path.basename(f).startswith("coldsec-lab-")],
                             60)
            self.assertTrue(up, f"control failed: no lab came up in {tmp}: {files_under(tmp)}")
            self.assertTrue(lf.processes_with(tmp), "control failed: no process carries the TMPDIR")
            p.send_signal(signal.SIGINT)
            rc, _, err = wait_exit(p, 60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertGreaterEqual(rc, 0, f"coldsec fuzz died of signal {-rc}: {err[-2000:]}")
        self.assertNothingLeft(tmp, "coldsec fuzz interrupted with SIGINT")


class RunTmpTest(PrivateTmp, unittest.TestCase):
    """`coldsec run` on a lab target (it starts its own coldsec-lab) with a
    private TMPDIR: empty after a normal end and after SIGINT, and the
    report is written either way (partial, "interrupted", after SIGINT)."""

    ARGS = ["run", "--target", "cross-user-leak-python-vulnerable", "--scenario", "cross-user-leak", "--quiet"]

    def report_of(self, out):
        (path,) = glob.glob(os.path.join(out, "*", "report.json"))
        with open(path) as f:
            return json.load(f)

    def test_normal_end_leaves_nothing(self):
        tmp, out = self.private_tmpdir(), self.private_tmpdir("coldsec-out-")
        r = subprocess.run([coldsec_binary(), *self.ARGS, "--out", out], env=self.clean_env(TMPDIR=tmp),
                           capture_output=True, timeout=300, cwd=REPO)
        self.assertIn(r.returncode, (0, 1), r.stderr.decode(errors="replace")[-2000:])
        self.assertNotEqual(self.report_of(out)["results"][0]["status"], "interrupted")
        self.assertEmptyFolder(tmp, "coldsec run")
        self.assertEqual(lf.processes_with(tmp), [], "coldsec run left processes behind")

    def test_sigint_leaves_nothing_and_writes_the_partial_report(self):
        tmp, out = self.private_tmpdir(), self.private_tmpdir("coldsec-out-")
        p = subprocess.Popen([coldsec_binary(), *self.ARGS, "--out", out],
                             env=self.clean_env(TMPDIR=tmp, COLDSEC_TEST_STOP_AT="waiting"), cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertTrue(wait_stopped(p), "control failed: coldsec did not reach the cold start")
            self.assertTrue([f for f in files_under(tmp) if os.path.basename(f).startswith("coldsec-lab-")],
                            f"control failed: the lab's state folder is not in TMPDIR: {files_under(tmp)}")
            p.send_signal(signal.SIGINT)
            p.send_signal(signal.SIGCONT)
            rc, _, err = wait_exit(p, 120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(rc, 3, err)
        self.assertEqual(self.report_of(out)["results"][0]["status"], "interrupted")
        self.assertEmptyFolder(tmp, "coldsec run interrupted with SIGINT")
        self.assertEqual(lf.processes_with(tmp), [], "coldsec run left processes behind")
