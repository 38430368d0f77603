"""The reports of `coldsec run` and `coldsec report`, read by the consumers
they are for: report.json against its JSON Schema (ajv), junit.xml through
an XML Schema and a parser with its counts checked, results.sarif through
Microsoft's SARIF validator with GitHub's rules, report.html rendered in
headless Chromium. Then what CI stages rely on: --format, --baseline
(known findings do not gate, new ones do, absent ones are listed), --shard
(the union of the shards is the whole run, merged back by `coldsec report`),
every exit status, and the terminal (a bar on a tty, plain lines
otherwise, NO_COLOR)."""
import copy
import glob
import json
import os
import pty
import re
import select
import signal
import subprocess
import time
import unittest

import boto3
import botocore.config

from driverfixture import coldsec_binary, wait_exit, wait_stopped
from labfixture import REPO, tmp_dir

TOOLS = os.path.join(REPO, "tests", "tools")
NPM = os.environ.get("COLDSEC_NPM", os.path.join(REPO, "build", "npm", "node_modules"))
# Six targets, one per class, vulnerable and hardened, and the config audit on each.
TARGETS = ["injection-persistence-python-vulnerable", "cross-user-leak-node-vulnerable",
           "tmp-residue-node-vulnerable", "memory-growth-node-vulnerable",
           "secret-exposure-python-hardened", "config-python-vulnerable"]
SEED = "7"


def clean_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp_dir("coldsec-home-"),
           "COLDSEC_NPM": NPM}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra)
    return env


def target_args(targets=TARGETS):
    args = []
    for t in targets:
        args += ["--target", t]
    return args


def only_run_dir(out):
    dirs = sorted(d for d in glob.glob(os.path.join(out, "*")) if os.path.isdir(d))
    return dirs[-1] if dirs else None


def coldsec(cmd, *args, env=None, timeout=300):
    """Runs `coldsec CMD ARGS --out TMP`; returns (completed, report or None, run folder or None)."""
    out = tmp_dir("coldsec-rep-")
    r = subprocess.run([coldsec_binary(), cmd, *args, "--out", out], env=env or clean_env(),
                       capture_output=True, timeout=timeout, cwd=REPO)
    d = only_run_dir(out)
    path = os.path.join(d, "report.json") if d else None
    report = json.load(open(path)) if path and os.path.exists(path) else None
    return r, report, d


def validate_schema(test, *paths):
    r = subprocess.run(["node", os.path.join(TOOLS, "validate_report.js"), *paths], env=clean_env(),
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    test.assertEqual(r.returncode, 0, r.stdout + r.stderr)
    test.assertEqual(r.stdout.count(": valid"), len(paths), r.stdout)


def pairs(report):
    return [(x["target"], x["scenario"]) for x in report["results"]]


def fingerprints(report):
    return {f["fingerprint"] for f in report["findings"]}


def write_json(doc):
    path = os.path.join(tmp_dir("coldsec-baseline-"), "baseline.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


class Formats(unittest.TestCase):
    """One run of six targets, every format written and read by its consumer."""

    @classmethod
    def setUpClass(cls):
        cls.result, cls.report, cls.dir = coldsec("run", *target_args(), "--seed", SEED, "--quiet")

    def test_run_found_and_wrote_every_format(self):
        self.assertEqual(self.result.returncode, 1, self.result.stderr.decode()[-3000:])
        for name in ("report.json", "junit.xml", "results.sarif", "report.html"):
            path = os.path.join(self.dir, name)
            self.assertTrue(os.path.isfile(path), name)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, name)
        want = [(t, s) for t in TARGETS for s in (re.sub(r"-(python|node)-\w+$", "", t), "config")]
        self.assertEqual(pairs(self.report), list(dict.fromkeys(want)))
        self.assertEqual([t["name"] for t in self.report["targets"]], TARGETS)

    def test_report_json_matches_schema(self):
        validate_schema(self, os.path.join(self.dir, "report.json"))

    def test_report_contents(self):
        fps = [f["fingerprint"] for f in self.report["findings"]]
        self.assertEqual(len(fps), len(set(fps)), "fingerprints must be unique within a report")
        gated = [f for f in self.report["findings"] if f["gate"]]
        self.assertEqual(len(gated), self.report["summary"]["findings_at_or_above_gate"])
        self.assertTrue(gated)
        for f in self.report["findings"]:
            self.assertEqual(f["gate"], {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}[f["severity"]] >= 2)
        ids = {s["id"] for s in self.report["scenarios"]}
        self.assertEqual(ids, {s for _, s in pairs(self.report)})
        timed = [r for r in self.report["results"] if r["scenario"] != "config"]
        for r in timed:
            inv = r["timeline"]["invocations"]
            self.assertEqual(len(inv), r["invocations"], r["target"])
            self.assertEqual([i["start_ms"] for i in inv], sorted(i["start_ms"] for i in inv))
            cold_envs = {i["env"] for i in inv if i.get("cold")}
            self.assertEqual(len(cold_envs), sum(1 for i in inv if i.get("cold")), "a cold start opens its own env")
        for r in self.report["results"]:
            if r["scenario"] == "config":
                self.assertNotIn("timeline", r)

    def test_junit_loads_with_consistent_counts(self):
        r = subprocess.run(["python3", os.path.join(TOOLS, "check_junit.py"), os.path.join(self.dir, "junit.xml")],
                           capture_output=True, text=True, cwd=REPO, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = json.loads(r.stdout.strip().splitlines()[-1])
        results = self.report["results"]
        self.assertEqual(got["tests"], len(results))
        self.assertEqual(got["suites"], len(TARGETS))
        gated_pairs = {(f["target"], f["scenario"]) for f in self.report["findings"] if f["gate"]}
        self.assertEqual(got["failures"], len(gated_pairs))
        self.assertEqual(got["errors"], 0)
        failing = {(c["suite"], c["name"]) for c in got["cases"] if c["failure"]}
        self.assertEqual(failing, gated_pairs)

    def test_sarif_passes_microsofts_validator_with_github_rules(self):
        path = os.path.join(self.dir, "results.sarif")
        r = subprocess.run([os.path.join(TOOLS, "validate_sarif.sh"), path], capture_output=True, text=True,
                           cwd=REPO, timeout=300, env=clean_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 errors, 0 warnings", r.stdout)
        sarif = json.load(open(path))
        run = sarif["runs"][0]
        self.assertEqual(len(run["results"]), len(self.report["findings"]))
        self.assertEqual({x["partialFingerprints"]["coldsecFinding/v1"] for x in run["results"]},
                         fingerprints(self.report))
        self.assertEqual(len(run["tool"]["driver"]["rules"]), len(self.report["scenarios"]))
        for x in run["results"]:
            self.assertEqual(x["locations"][0]["physicalLocation"]["region"]["startLine"],
                             next(t["suite_line"] for t in self.report["targets"]
                                  if t["name"] == x["properties"]["target"]))

    def test_html_renders_in_headless_chromium(self):
        shot_dir = tmp_dir("coldsec-shot-", self)
        shot = os.path.join(shot_dir, "report.png")
        # Chromium's profile and puppeteer's scratch go to TMPDIR: here, not /tmp.
        r = subprocess.run(["node", os.path.join(TOOLS, "render_html.js"), os.path.join(self.dir, "report.html"),
                            shot], capture_output=True, text=True, cwd=REPO, timeout=180,
                           env=clean_env(TMPDIR=shot_dir))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(got["console_errors"], [])
        self.assertEqual(got["page_errors"], [])
        self.assertEqual(got["requests"], [])
        self.assertEqual(got["findings"], len(self.report["findings"]))
        self.assertEqual(got["timelines"], sum(1 for x in self.report["results"] if "timeline" in x))
        self.assertEqual(got["memory_charts"], sum(1 for f in self.report["findings"]
                                                    if "max_memory_used_mb" in f["evidence"]))
        self.assertGreater(os.path.getsize(shot), 10000)

    def test_report_command_renders_the_same(self):
        r, again, d = coldsec("report", os.path.join(self.dir, "report.json"), "--quiet")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(pairs(again), pairs(self.report))
        self.assertEqual(fingerprints(again), fingerprints(self.report))
        self.assertEqual(again["summary"], self.report["summary"])
        # The same bytes but for the run id (evidence keeps naming the original run's files).
        for name in ("junit.xml", "results.sarif", "report.html"):
            mine = open(os.path.join(d, name), "rb").read()
            self.assertEqual(mine.replace(again["run_id"].encode(), self.report["run_id"].encode()),
                             open(os.path.join(self.dir, name), "rb").read(), name)

    def test_baseline_known_findings_do_not_gate(self):
        base = os.path.join(self.dir, "report.json")
        r, rep, _ = coldsec("report", base, "--baseline", base, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        validate_schema(self, os.path.join(_, "report.json"))
        self.assertTrue(all(f["baseline"] == "known" and not f["gate"] for f in rep["findings"]))
        self.assertEqual(rep["summary"]["known_findings"], len(rep["findings"]))
        self.assertEqual(rep["summary"]["new_findings"], 0)
        self.assertEqual(rep["baseline"]["absent"], [])

    def test_baseline_new_finding_gates_alone(self):
        old = copy.deepcopy(self.report)
        gone = next(f for f in old["findings"] if f["gate"])
        old["findings"].remove(gone)
        r, rep, d = coldsec("report", os.path.join(self.dir, "report.json"), "--baseline", write_json(old))
        self.assertEqual(r.returncode, 1, r.stderr)
        new = [f for f in rep["findings"] if f["baseline"] == "new"]
        self.assertEqual([f["fingerprint"] for f in new], [gone["fingerprint"]])
        self.assertEqual([f["fingerprint"] for f in rep["findings"] if f["gate"]], [gone["fingerprint"]])
        self.assertEqual(rep["summary"]["findings_at_or_above_gate"], 1)
        sarif = json.load(open(os.path.join(d, "results.sarif")))
        states = {x["partialFingerprints"]["coldsecFinding/v1"]: x["baselineState"] for x in sarif["runs"][0]["results"]}
        self.assertEqual(states[gone["fingerprint"]], "new")
        self.assertEqual(sum(1 for s in states.values() if s == "unchanged"), len(states) - 1)
        self.assertIn(b"known from the baseline", r.stdout)

    def test_baseline_absent_and_not_retested(self):
        old = copy.deepcopy(self.report)
        fixed = dict(old["findings"][0], fingerprint="0" * 32, assertion="fixed-since")
        elsewhere = dict(old["findings"][0], fingerprint="f" * 32, target="not-in-this-run")
        old["findings"] += [fixed, elsewhere]
        r, rep, _ = coldsec("report", os.path.join(self.dir, "report.json"), "--baseline", write_json(old),
                            "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([a["fingerprint"] for a in rep["baseline"]["absent"]], ["0" * 32])
        self.assertEqual(rep["baseline"]["not_retested"], 1)
        self.assertEqual(rep["summary"]["absent_findings"], 1)

    def test_baseline_that_is_not_a_report_is_a_usage_error(self):
        bogus = write_json({"hello": 1})
        r, rep, _ = coldsec("run", "--target", "config-python-vulnerable", "--baseline", bogus, "--quiet")
        self.assertEqual(r.returncode, 2)
        self.assertIn(bogus.encode(), r.stderr)
        self.assertIn(b"not a coldsec report", r.stderr)
        self.assertIsNone(rep)

    def test_shards_union_is_the_whole_run(self):
        shard_reports, shard_dirs, functions = [], [], {}
        for i in (1, 2, 3):
            r, rep, d = coldsec("run", *target_args(), "--seed", SEED, "--shard", f"{i}/3", "--quiet")
            self.assertIn(r.returncode, (0, 1), r.stderr)
            self.assertEqual(rep["shard"], {"index": i, "count": 3})
            shard_reports.append(rep)
            shard_dirs.append(d)
            for t, _ in pairs(rep):
                functions.setdefault(t, set()).add(i)
        all_pairs = [p for rep in shard_reports for p in pairs(rep)]
        self.assertEqual(len(all_pairs), len(set(all_pairs)), "a run in two shards")
        self.assertEqual(set(all_pairs), set(pairs(self.report)))
        self.assertTrue(all(len(s) == 1 for s in functions.values()), functions)
        self.assertTrue(all(pairs(rep) for rep in shard_reports), "a shard with nothing to do")
        # Deterministic: the same shard twice takes the same runs.
        r, again, _ = coldsec("run", *target_args(), "--seed", SEED, "--shard", "2/3", "--quiet")
        self.assertEqual(pairs(again), pairs(shard_reports[1]))
        r, merged, d = coldsec("report", *[os.path.join(x, "report.json") for x in shard_dirs], "--quiet")
        self.assertEqual(pairs(merged), pairs(self.report))
        self.assertEqual(len(merged["merged_from"]), 3)
        self.assertNotIn("shard", merged)
        validate_schema(self, os.path.join(d, "report.json"), *[os.path.join(x, "report.json") for x in shard_dirs])
        gated = {f["fingerprint"] for f in self.report["findings"] if f["gate"]}
        self.assertEqual({f["fingerprint"] for f in merged["findings"] if f["gate"]}, gated)
        self.assertEqual(r.returncode, self.result.returncode)

    def test_merge_refuses_reports_of_different_runs(self):
        other = copy.deepcopy(self.report)
        other["seed"] = 8
        r, rep, _ = coldsec("report", os.path.join(self.dir, "report.json"), write_json(other))
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"only the shards of one run merge", r.stderr)


class Options(unittest.TestCase):
    def test_format_picks_files(self):
        r, rep, d = coldsec("run", "--target", "config-python-vulnerable", "--scenario", "config", "--format",
                            "sarif,junit", "--quiet")
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertEqual(sorted(n for n in os.listdir(d) if "." in n and n != "lab.log"),
                         ["junit.xml", "report.json", "results.sarif"])

    def test_usage_errors_exit_2(self):
        for args, says in ((["--format", "pdf"], b'"pdf" is not a format'),
                           (["--shard", "4/3"], b"--shard: I/N with 1 <= I <= N"),
                           (["--shard", "x"], b"--shard"),
                           (["--fail-on", "severe"], b"--fail-on"),
                           (["--target", "nope"], b"no such target"),
                           (["--bogus"], b"unknown or incomplete option")):
            r, rep, _ = coldsec("run", *args, "--quiet")
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(says, r.stderr, args)
            self.assertIsNone(rep, args)
        r, _, _ = coldsec("report")
        self.assertEqual(r.returncode, 2)
        r, _, _ = coldsec("report", "/nonexistent/report.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"/nonexistent/report.json", r.stderr)

    def test_exit_0_when_nothing_reaches_the_gate(self):
        r, rep, _ = coldsec("run", "--target", "secret-exposure-python-hardened", "--scenario", "secret-exposure",
                            "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(rep["summary"]["exit_status"], 0)
        self.assertEqual(rep["summary"]["findings_at_or_above_gate"], 0)
        # The same run gated at low: the config audit's low findings count.
        r, rep, _ = coldsec("run", "--target", "secret-exposure-python-hardened", "--scenario", "config",
                            "--fail-on", "low", "--quiet")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertGreater(rep["summary"]["findings_at_or_above_gate"], 0)

    def test_exit_3_untestable_in_every_format(self):
        d = tmp_dir("coldsec-suite-")
        suite = os.path.join(d, "suite.yaml")
        with open(suite, "w") as f:
            f.write(f"lab: {{config: {REPO}/harness/functions.yaml}}\nscenario_dir: {REPO}/scenarios\ntargets:\n"
                    "  - {function: no-such-function, baseline: {a: 1}, scenarios: [config]}\n")
        r, rep, rd = coldsec("run", suite, "--quiet")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(rep["results"][0]["status"], "untestable")
        validate_schema(self, os.path.join(rd, "report.json"))
        junit = subprocess.run(["python3", os.path.join(TOOLS, "check_junit.py"), os.path.join(rd, "junit.xml")],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(junit.stdout.strip().splitlines()[-1])["errors"], 1, junit.stdout)
        sarif = json.load(open(os.path.join(rd, "results.sarif")))
        inv = sarif["runs"][0]["invocations"][0]
        self.assertFalse(inv["executionSuccessful"])
        self.assertIn("ResourceNotFoundException", json.dumps(inv["toolExecutionNotifications"]))

    def test_exit_4_not_restored_is_loud_everywhere(self):
        """Someone changes the function while coldsec's cold start is in flight:
        coldsec must not overwrite their change, so the configuration is not
        restored (exit 4), and every format says so with the journal."""
        out = tmp_dir("coldsec-rep-")
        p = subprocess.Popen([coldsec_binary(), "run", "--target", "cross-user-leak-python-hardened",
                              "--scenario", "cross-user-leak", "--out", out], env=clean_env(COLDSEC_TEST_STOP_AT="waiting"),
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertTrue(wait_stopped(p), "coldsec did not reach the cold start")
            seen = b""
            while select.select([p.stderr], [], [], 0.5)[0]:
                chunk = os.read(p.stderr.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
            url = re.search(rb"started coldsec-lab on (http://127\.0\.0\.1:\d+)", seen).group(1).decode()
            lab = boto3.session.Session(aws_access_key_id="AKIDCOLDSECLAB", aws_secret_access_key="coldsec-lab-secret",
                                        region_name="us-east-1").client(
                "lambda", endpoint_url=url, config=botocore.config.Config(retries={"total_max_attempts": 1}))
            for _ in range(100):
                cfg = lab.get_function_configuration(FunctionName="cross-user-leak-python-hardened")
                if cfg.get("LastUpdateStatus") != "InProgress":
                    break
                time.sleep(0.05)
            variables = dict(cfg["Environment"]["Variables"], OPERATOR_CHANGE="yes")
            lab.update_function_configuration(FunctionName="cross-user-leak-python-hardened",
                                              Environment={"Variables": variables})
            p.send_signal(signal.SIGCONT)
            rc, _, err = wait_exit(p, 120)
        finally:
            if p.poll() is None:
                p.kill()
        err = err if isinstance(err, str) else err.decode()
        self.assertEqual(rc, 4, err)
        self.assertIn("NOT RESTORED", err)
        d = only_run_dir(out)
        rep = json.load(open(os.path.join(d, "report.json")))
        self.assertEqual(rep["summary"]["exit_status"], 4)
        bad = [x for x in rep["results"] if x["status"] == "not-restored"]
        self.assertEqual(len(bad), 1)
        self.assertIn("journal", bad[0]["detail"])
        validate_schema(self, os.path.join(d, "report.json"))
        html = open(os.path.join(d, "report.html"), encoding="utf-8").read()
        self.assertIn("NOT RESTORED", html.upper())
        junit = open(os.path.join(d, "junit.xml"), encoding="utf-8").read()
        self.assertIn('type="not-restored"', junit)


class Terminal(unittest.TestCase):
    ARGS = ["run", "--target", "config-python-vulnerable", "--target", "config-python-hardened", "--scenario",
            "config"]

    def on_tty(self, env):
        """Runs coldsec with stdout and stderr on a pseudo-terminal; returns (rc, bytes)."""
        out = tmp_dir("coldsec-rep-")
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(REPO)
            os.execve(coldsec_binary(), [coldsec_binary(), *self.ARGS, "--out", out], env)
        seen = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), seen

    def test_bar_and_colour_on_a_terminal(self):
        rc, seen = self.on_tty(clean_env(TERM="xterm"))
        self.assertEqual(rc, 1, seen)
        self.assertRegex(seen, rb"\r\x1b\[K\[[#.]{24}\] \d+/2 ")
        self.assertIn(b"\x1b[31m", seen)          # findings, in red
        self.assertIn(b"TARGET", seen)

    def test_no_color_on_a_terminal(self):
        rc, seen = self.on_tty(clean_env(TERM="xterm", NO_COLOR="1"))
        self.assertEqual(rc, 1, seen)
        self.assertRegex(seen, rb"\[[#.]{24}\] \d+/2 ")
        self.assertNotRegex(seen, rb"\x1b\[[0-9;]*m")

    def test_plain_lines_without_a_terminal(self):
        r, _, _ = coldsec(*self.ARGS)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertNotIn(b"\r", r.stderr)
        self.assertNotIn(b"\x1b", r.stderr + r.stdout)
        self.assertEqual(len(re.findall(rb"coldsec: \[\d/2\] ", r.stderr)), 2)
        self.assertRegex(r.stdout, rb"TARGET +SCENARIO +RESULT +FINDINGS +INVOCATIONS +TIME")

    def test_quiet_prints_only_the_summary(self):
        r, _, _ = coldsec(*self.ARGS, "--quiet")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, b"")
        self.assertIn(b"TARGET", r.stdout)


if __name__ == "__main__":
    unittest.main()
