"""The concurrent-state scenario and the engine's support for functions whose
environments serve several requests at once (Lambda Managed Instances in the
lab: max_concurrency), on small functions of its own in
tests/integration/functions/concurrent-*:

- not applicable, never passed, on a classic function and on a Managed
  Instances function with a maximum concurrency of 1; report.json, JUnit
  (<skipped>), SARIF (a note, no result) and HTML say so; exit status
  unaffected;
- a finding on a Node handler that keeps the caller in module variables
  across an await, with both requests' intervals and their overlap in the
  evidence and on the timeline (concurrency slots, not environments); none
  on its AsyncLocalStorage twin;
- the same verdicts with --jobs 1 and --jobs 4 and with two seeds;
- log attribution: a function that logs every request's data on its own
  request (JSON lines with the right requestId) gets no finding, although
  each tail holds other requests' lines (shown here first, straight from
  the lab).
"""
import glob
import json
import os
import re
import shutil
import unittest

from driverfixture import coldsec_env, run_coldsec
from labfixture import REPO, Lab, fn, tmp_dir, unique
from test_scenarios import coldsec_run

FUNCS = os.path.join(REPO, "tests", "integration", "functions")
SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

LAB = """functions:
  - {name: cs-classic, runtime: nodejs22.x, handler: index.handler, code: @F@/concurrent-caller-node}
  - {name: cs-mi-one, runtime: nodejs22.x, handler: index.handler, code: @F@/concurrent-caller-node,
     max_concurrency: 1}
  - {name: cs-caller, runtime: nodejs22.x, handler: index.handler, code: @F@/concurrent-caller-node,
     max_concurrency: 8, environments: 1}
  - {name: cs-caller-als, runtime: nodejs22.x, handler: index.handler, code: @F@/concurrent-caller-node-als,
     max_concurrency: 8, environments: 1}
  - {name: cs-logger, runtime: nodejs22.x, handler: index.handler, code: @F@/concurrent-logger-node,
     max_concurrency: 8, environments: 1}
"""

BASELINE = '{user_id: "{{user.id}}", note: "see you at ten"}'
SUITE = """lab: {config: functions.yaml}
scenario_dir: @S@
fail_on: high
targets:
  - {function: cs-classic, baseline: @B@, scenarios: [concurrent-state]}
  - {function: cs-mi-one, baseline: @B@, scenarios: [concurrent-state]}
  - {function: cs-caller, baseline: @B@, scenarios: [concurrent-state]}
  - {function: cs-caller-als, baseline: @B@, scenarios: [concurrent-state, cross-user-leak]}
  - {function: cs-logger, baseline: @B@, scenarios: [concurrent-state, cross-user-leak]}
"""


def write_suite(d):
    with open(os.path.join(d, "functions.yaml"), "w") as f:
        f.write(LAB.replace("@F@", FUNCS))
    path = os.path.join(d, "suite.yaml")
    with open(path, "w") as f:
        f.write(SUITE.replace("@S@", os.path.join(REPO, "scenarios")).replace("@B@", BASELINE))
    return path


def verdict(report):
    """(target, scenario) -> (status, sorted classes of findings at medium or above)."""
    out = {}
    for r in report["results"]:
        loud = sorted(f["class"] for f in report["findings"]
                      if f["target"] == r["target"] and f["scenario"] == r["scenario"]
                      and SEV[f["severity"]] >= SEV["medium"])
        out[(r["target"], r["scenario"])] = (r["status"], loud)
    return out


class ConcurrentState(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmp_dir("coldsec-concurrent-")
        cls.suite = write_suite(cls.dir)
        cls.r, cls.report, cls.run_dir = coldsec_run(cls.suite, "--jobs", "4", "--seed", "7", timeout=600)
        cls.files = {}
        if cls.run_dir:
            for name in ("junit.xml", "results.sarif", "report.html"):
                p = os.path.join(cls.run_dir, name)
                cls.files[name] = open(p, encoding="utf-8").read() if os.path.exists(p) else ""

    @classmethod
    def tearDownClass(cls):
        if cls.run_dir:
            shutil.rmtree(os.path.dirname(cls.run_dir), ignore_errors=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def result(self, target, scenario="concurrent-state"):
        (r,) = [r for r in self.report["results"] if r["target"] == target and r["scenario"] == scenario]
        return r

    def findings(self, target, scenario="concurrent-state"):
        return [f for f in self.report["findings"] if f["target"] == target and f["scenario"] == scenario]

    def test_not_applicable_where_one_request_runs_at_a_time(self):
        self.assertIsNotNone(self.report, self.r.stderr.decode()[-3000:])
        for target, said in (("cs-classic", "no CapacityProviderConfig"), ("cs-mi-one", "maximum concurrency of 1")):
            with self.subTest(target=target):
                r = self.result(target)
                self.assertEqual(r["status"], "not_applicable", r)
                self.assertIn(said, r["detail"])
                self.assertEqual(r["invocations"], 0)
                self.assertEqual(self.findings(target), [])
        # Exit status: the finding on cs-caller (high) gates; not_applicable counts as nothing.
        self.assertEqual(self.r.returncode, 1, self.r.stderr.decode()[-3000:])
        self.assertEqual(self.report["summary"]["not_completed"], 0)
        self.assertIn("not_applicable", self.r.stdout.decode())

    def test_not_applicable_in_every_format(self):
        junit, sarif, html = self.files["junit.xml"], self.files["results.sarif"], self.files["report.html"]
        self.assertEqual(len(re.findall(r"<skipped message=\"[^\"]*CapacityProviderConfig", junit)), 1, junit[:3000])
        self.assertEqual(len(re.findall(r"<skipped message=", junit)), 2)
        self.assertRegex(junit, r'<testsuites [^>]*skipped="2"')
        log = json.loads(sarif)
        inv = log["runs"][0]["invocations"][0]
        notes = [n for n in inv.get("toolExecutionNotifications", []) if n["properties"]["status"] == "not_applicable"]
        self.assertEqual(len(notes), 2)
        self.assertEqual({n["level"] for n in notes}, {"note"})
        self.assertTrue(inv["executionSuccessful"])
        results = [x for x in log["runs"][0]["results"] if x["properties"].get("target") in ("cs-classic", "cs-mi-one")]
        self.assertEqual(results, [])
        self.assertIn('class="st st-not_applicable">not_applicable</span>', html)

    def test_module_state_across_an_await_is_found(self):
        (f,) = [f for f in self.findings("cs-caller") if f["assertion"] == "crossed"]
        self.assertEqual((f["class"], f["severity"]), ("concurrent-state", "high"))
        self.assertEqual(sorted(f["cwe"]), ["CWE-362", "CWE-377", "CWE-488"])
        ev = f["evidence"]
        self.assertGreaterEqual(ev["sightings"], 1)
        for ex in ev["examples"]:
            ov = ex["overlap"]
            p, s = ov["planted_ms"], ov["seen_ms"]
            # From what the two requests' timings were: they ran together.
            self.assertGreater(ov["overlap_ms"], 0)
            self.assertAlmostEqual(ov["overlap_ms"], min(p[1], s[1]) - max(p[0], s[0]), delta=0.2)
            self.assertEqual(ov["clock"], "client")
            self.assertNotEqual(ex["planted"]["user"], ex["seen"]["user"])
            # The other user's canary is in what the seen request got back, not in what it sent.
            value = ex["canary"]
            self.assertNotIn(value[:20], ex["seen"]["request"])
            self.assertIn(value[:20], ex["seen"]["response"] + ex["seen"].get("log_tail", ""))
        tl = self.result("cs-caller")["timeline"]
        self.assertEqual(tl["lanes"], "concurrency_slots")
        self.assertEqual(tl["max_concurrency"], 8)
        self.assertTrue(tl["overlaps"])
        self.assertTrue(all("slot" in i and "env" not in i for i in tl["invocations"] if i["state"] == "ok"))
        self.assertTrue(all(i.get("request_id") for i in tl["invocations"] if i["state"] == "ok"))
        # Several were in flight at once: the fan-out started them together.
        self.assertGreater(max(i["slot"] for i in tl["invocations"] if "slot" in i), 1)
        self.assertEqual(self.result("cs-caller")["summary"]["concurrency"]["max_concurrency"], 8)
        self.assertIn("concurrency slot", self.files["report.html"])

    def test_async_local_storage_twin_is_clean(self):
        for scenario in ("concurrent-state", "cross-user-leak"):
            with self.subTest(scenario=scenario):
                self.assertEqual(self.result("cs-caller-als", scenario)["status"], "passed",
                                 self.findings("cs-caller-als", scenario))

    def test_cold_start_is_not_forced_on_managed_instances(self):
        r = self.result("cs-caller-als", "cross-user-leak")
        self.assertIn("not forced", r["summary"]["note"])
        self.assertEqual(r["summary"]["cold_starts_forced"], 0)
        (step,) = [s for s in r["timeline"]["steps"] if s["kind"] == "cold_start"]
        self.assertIn("not forced", step["note"])

    def test_logs_of_each_request_on_its_own_request_are_no_leak(self):
        for scenario in ("concurrent-state", "cross-user-leak"):
            with self.subTest(scenario=scenario):
                r = self.result("cs-logger", scenario)
                self.assertEqual(r["status"], "passed", self.findings("cs-logger", scenario))
                self.assertGreater(r["summary"]["answered"], 0)

    def test_verdict_same_with_jobs_and_seed(self):
        want = verdict(self.report)
        self.assertEqual(want[("cs-caller", "concurrent-state")], ("findings", ["concurrent-state"]))
        for args in (("--jobs", "1", "--seed", "7"), ("--jobs", "4", "--seed", "20261207")):
            with self.subTest(args=args):
                r, report, run_dir = coldsec_run(self.suite, *args, timeout=600)
                try:
                    self.assertIsNotNone(report, r.stderr.decode()[-3000:])
                    self.assertEqual(verdict(report), want)
                finally:
                    if run_dir:
                        shutil.rmtree(os.path.dirname(run_dir), ignore_errors=True)


class ManagedInstancesByHand(unittest.TestCase):
    """What the attribution test above rests on (the lab's tails of one
    Managed Instances environment do interleave requests' lines), and what
    `coldsec describe` and `coldsec cold-start` do with such a function."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([fn("cs-logger", runtime="nodejs22.x", handler="index.handler",
                          code=os.path.join(FUNCS, "concurrent-logger-node"), max_concurrency=8, environments=1)])
        cls.lab.start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def test_a_tail_holds_other_requests_lines_each_under_its_own_id(self):
        notes = [unique("note-") for _ in range(8)]
        invs = self.lab.invoke_parallel("cs-logger", [{"user_id": f"u{i}", "note": n} for i, n in enumerate(notes)])
        foreign = 0
        for inv, note in zip(invs, notes):
            self.assertNotIsInstance(inv, Exception)
            for line in inv.log.splitlines():
                if not line.startswith("{"):
                    continue
                rec = json.loads(line)
                rid = rec.get("requestId") or (rec.get("record") or {}).get("requestId")
                others = [n for n in notes if n != note and n in line]
                if others:
                    foreign += 1
                    self.assertNotEqual(rid, inv.request_id, line)   # another request's line, under its id
                if note in line:
                    self.assertEqual(rid, inv.request_id, line)
        self.assertGreater(foreign, 0, "no tail held another request's line: the attribution test would prove nothing")

    def test_describe_shows_the_concurrency_model(self):
        r = run_coldsec(["describe", "cs-logger"], coldsec_env(self.lab))
        self.assertEqual(r.returncode, 0, r.stderr)
        c = json.loads(r.stdout)["Concurrency"]
        self.assertEqual((c["managed_instances"], c["max_concurrency"], c["log_format"]), (True, 8, "JSON"))
        self.assertIn(":capacity-provider:", c["capacity_provider"])

    def test_cold_start_refused_nothing_changed(self):
        before = self.lab.client().get_function_configuration(FunctionName="cs-logger")
        out = tmp_dir("coldsec-cs-out-")
        r = run_coldsec(["cold-start", "cs-logger", "--allow-mutation", "--out", out], coldsec_env(self.lab))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"Managed Instances", r.stderr)
        after = self.lab.client().get_function_configuration(FunctionName="cs-logger")
        self.assertEqual(after["RevisionId"], before["RevisionId"])
        self.assertEqual(glob.glob(os.path.join(out, "*", "journal.json")), [])
