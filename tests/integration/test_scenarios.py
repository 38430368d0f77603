"""`coldsec run`: the default suite against the lab's sample functions (every
-vulnerable sample gets a finding of its class, no -hardened twin anything at
medium or above), the report contract, evidence that replays by hand with
`coldsec invoke`, seeded plans, no secret in anything written, and the
failure paths (bad suite, untestable target, refusal, SIGINT) each with its
exit status and a report still written."""
import glob
import json
import os
import re
import signal
import subprocess
import unittest

from driverfixture import coldsec_binary, coldsec_env, run_coldsec, start_coldsec, wait_exit, wait_stopped
from labfixture import Lab, REPO, tmp_dir

SUITE = os.path.join(REPO, "scenarios.yaml")
FUNCTIONS = os.path.join(REPO, "harness", "functions.yaml")
CLASSES = ("injection-persistence", "cross-user-leak", "tmp-residue", "memory-growth", "secret-exposure",
           "concurrent-state", "config")
SEVERITY = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def clean_env():
    """No AWS settings of the developer's: lab targets need none."""
    home = tmp_dir("coldsec-home-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def coldsec_run(*args, timeout=300):
    out = tmp_dir("coldsec-run-")
    r = subprocess.run([coldsec_binary(), "run", *args, "--out", out, "--quiet"], env=clean_env(),
                       capture_output=True, timeout=timeout, cwd=REPO)
    runs = sorted(glob.glob(os.path.join(out, "*", "report.json")))
    report = json.load(open(runs[-1])) if runs else None
    if runs:
        # Every report any test here makes must match schemas/report-1.schema.json.
        v = subprocess.run(["node", os.path.join(REPO, "tests", "tools", "validate_report.js"), runs[-1]],
                           capture_output=True, text=True, cwd=REPO, timeout=120)
        assert v.returncode == 0, v.stdout + v.stderr
    return r, report, (os.path.dirname(runs[-1]) if runs else None)


def class_of(target):
    """A sample's class: its name without -LANG-KIND and any -VARIANT."""
    return re.sub(r"-(python|node)-(vulnerable|hardened)(-[a-z0-9]+)?$", "", target)


def kind_of(target):
    m = re.search(r"-(python|node)-(vulnerable|hardened)(-[a-z0-9]+)?$", target)
    return m.group(2) if m else None


def lab_secret_values():
    """The literal values of the samples' secret-named variables."""
    values = set()
    for line in open(FUNCTIONS):
        m = re.match(r"\s+(\w*(PASSWORD|API_KEY|ACCESS_KEY)\w*):\s*(\S+)", line)
        if m and not m.group(3).startswith("/"):
            values.add(m.group(3).strip("'\""))
    return values


def write_suite(text):
    d = tmp_dir("coldsec-suite-")
    path = os.path.join(d, "suite.yaml")
    with open(path, "w") as f:
        f.write(text.replace("@SCENARIOS@", os.path.join(REPO, "scenarios")).replace("@FUNCTIONS@", FUNCTIONS))
    return path


class DefaultSuite(unittest.TestCase):
    """One run of the whole default suite, shared by the tests below."""

    @classmethod
    def setUpClass(cls):
        cls.result, cls.report, cls.run_dir = coldsec_run()

    def findings(self, target=None, cls=None):
        return [f for f in self.report["findings"]
                if (target is None or f["target"] == target) and (cls is None or f["class"] == cls)]

    def test_exit_status_and_contract(self):
        self.assertEqual(self.result.returncode, 1, self.result.stderr.decode()[-2000:])
        self.assertEqual(self.report["coldsec_report"], 1)
        self.assertEqual(self.report["fail_on"], "medium")
        for f in self.report["findings"]:
            for key in ("class", "scenario", "target", "severity", "title", "evidence", "summary"):
                self.assertIn(key, f)
            self.assertIn(f["class"], CLASSES)
            self.assertIn(f["severity"], SEVERITY)
        for r in self.report["results"]:
            self.assertIn(r["status"], ("passed", "findings"), r)
        self.assertIn(b"report: ", self.result.stdout)

    def test_results_in_suite_order(self):
        # Targets run 4 at a time and finish in any order; reports follow the suite.
        names = re.findall(r"\{function: ([a-z0-9-]+)", open(SUITE).read())
        seen = []
        for r in self.report["results"]:
            if r["target"] not in seen:
                seen.append(r["target"])
        self.assertEqual(seen, names)
        order = [(names.index(f["target"])) for f in self.report["findings"]]
        self.assertEqual(order, sorted(order))

    def test_matrix_every_vulnerable_found_no_hardened_at_medium(self):
        targets = sorted({r["target"] for r in self.report["results"]})
        vulnerable = [t for t in targets if kind_of(t) == "vulnerable"]
        hardened = [t for t in targets if kind_of(t) == "hardened"]
        self.assertEqual(len(vulnerable), 14)
        self.assertEqual(len(hardened), 13)
        for t in vulnerable:
            with self.subTest(target=t):
                own = self.findings(t, class_of(t))
                self.assertTrue(own, f"{t}: no {class_of(t)} finding")
                self.assertGreaterEqual(max(SEVERITY[f["severity"]] for f in own), SEVERITY["medium"])
        for t in hardened:
            with self.subTest(target=t):
                loud = [f["title"] for f in self.findings(t) if SEVERITY[f["severity"]] >= SEVERITY["medium"]]
                self.assertEqual(loud, [], t)

    def test_injection_evidence(self):
        for lang in ("python", "node"):
            (f,) = self.findings(f"injection-persistence-{lang}-vulnerable", "injection-persistence")
            ev = f["evidence"]
            self.assertEqual(f["severity"], "critical")
            self.assertGreaterEqual(ev["environments_at_least"], 1)
            # every environment the payloads reached answered a benign request again
            self.assertGreaterEqual(ev["environments_reached_inferred"], 1)
            self.assertEqual(ev["environments_revisited_inferred"], ev["environments_reached_inferred"])
            self.assertTrue(ev["cleared_by_cold_start"], ev)
            ex = ev["examples"][0]
            self.assertEqual(ex["planted"]["user"], "attacker")
            self.assertNotEqual(ex["seen"]["user"], "attacker")
            # Computed marker: the attacker's request holds it only in two
            # quoted halves; the whole canary exists where the payload ran.
            # (A prototype-pollution merge carries data, not code: literal.)
            canary = ex["canary"]
            if "pollution" in ex["planted"]["payload_entry"]:
                self.assertIn(canary, ex["planted"]["request"])
            else:
                self.assertIn(canary[:15] + "'+'" + canary[15:], ex["planted"]["request"])
                self.assertNotIn(canary, ex["planted"]["request"])
            self.assertIn(canary, ex["seen"]["response"])
            self.assertNotIn(ex["canary"], ex["seen"]["request"])

    def test_memory_growth_numbers(self):
        for lang in ("python", "node"):
            (f,) = self.findings(f"memory-growth-{lang}-vulnerable", "memory-growth")
            ev = f["evidence"]
            # Proven by running out of memory, within twice the memory size
            # in 1 MB requests, after a rise of at least a quarter of it.
            self.assertEqual(f["severity"], "medium")
            self.assertTrue(ev["proven"], ev)
            self.assertLess(ev["invocations_to_oom"], 2 * ev["memory_size_mb"] + 10)
            self.assertRegex(ev["out_of_memory"], "Runtime\\.(OutOfMemory|ExitError)")
            series = ev["max_memory_used_mb"]
            self.assertGreaterEqual(series[-1] - series[0], ev["memory_size_mb"] / 4)

    def test_tmp_residue_both_proofs(self):
        for lang in ("python", "node"):
            found = {(f["assertion"], f["class"]) for f in self.findings(f"tmp-residue-{lang}-vulnerable")
                     if f["scenario"] == "tmp-residue"}
            # Content that reappears is a leak between callers, wherever it
            # was kept; ENOSPC is what proves /tmp.
            self.assertEqual(found, {("reappeared", "cross-user-leak"), ("disk-full", "tmp-residue")})

    def test_secret_exposure_sources(self):
        for lang in ("python", "node"):
            (f,) = self.findings(f"secret-exposure-{lang}-vulnerable", "secret-exposure")
            kinds = {(e["kind"], e["name"]) for e in f["evidence"]["exposed"]}
            self.assertIn(("secret-variable", "DB_PASSWORD"), kinds)
            self.assertIn(("planted-canary", "COLDSEC_PLANTED_SECRET"), kinds)
            self.assertEqual(f["severity"], "high")

    def test_config_audit(self):
        got = {f["assertion"] for f in self.findings("config-python-vulnerable", "config")}
        self.assertEqual(got, {"plaintext-secret", "deprecated-runtime", "no-reserved-concurrency",
                               "trigger-timeout"})
        self.assertEqual(self.findings("config-python-hardened"), [])

    def test_no_secret_value_in_anything_written(self):
        secrets = lab_secret_values()
        self.assertGreaterEqual(len(secrets), 3)
        for path in glob.glob(os.path.join(self.run_dir, "**", "*"), recursive=True):
            if os.path.isfile(path):
                data = open(path, "rb").read()
                for s in secrets:
                    self.assertNotIn(s.encode(), data, f"{s} in {path}")

    def test_every_configuration_restored(self):
        journals = glob.glob(os.path.join(self.run_dir, "**", "journal.json"), recursive=True)
        self.assertGreaterEqual(len(journals), 20)
        for j in journals:
            self.assertEqual(json.load(open(j))["state"], "restored", j)

    def test_cross_user_finding_replays_by_hand(self):
        (f,) = self.findings("cross-user-leak-python-vulnerable", "cross-user-leak")
        ex = f["evidence"]["examples"][0]
        # First `coldsec replay FINDING.json` (tests/integration/test_replay.py), then the steps by hand.
        self.assertTrue(f["evidence"]["reproduce"][0].startswith("coldsec replay "), f["evidence"]["reproduce"])
        commands = f["evidence"]["reproduce"][1:]
        self.assertTrue(commands[0].startswith("coldsec cold-start "))
        text = open(FUNCTIONS).read().replace("code: functions/", "code: " + os.path.join(REPO, "harness", "functions") + "/")
        text = text.replace("code: ../build/", "code: " + os.path.join(REPO, "build") + "/")
        lab = Lab([], config_text=text).start()
        try:
            env = coldsec_env(lab)
            outputs = []
            for cmd in commands:
                argv = cmd.replace("http://127.0.0.1:9000", lab.url).split()
                self.assertEqual(argv[0], "coldsec")
                r = subprocess.run([coldsec_binary()] + argv[1:], env=env, capture_output=True, timeout=120,
                                   cwd=REPO)
                self.assertEqual(r.returncode, 0, r.stderr)
                outputs.append(r.stdout)
            # alice planted it, bob got it back: the proof, again, by hand.
            self.assertIn(ex["canary"].encode(), outputs[-1])
            self.assertNotIn(ex["canary"].encode(), open(commands[-1].split("@")[1].split()[0], "rb").read())
        finally:
            lab.stop()


class Plans(unittest.TestCase):
    def plan(self, *extra):
        r, report, run_dir = coldsec_run("--target", "cross-user-leak-python-hardened", "--scenario",
                                         "cross-user-leak", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return open(os.path.join(run_dir, "cross-user-leak-python-hardened", "cross-user-leak", "plan.json")).read()

    def test_same_seed_same_plan_other_seed_other_plan(self):
        a, b = json.loads(self.plan()), json.loads(self.plan())
        # Identities are fresh canaries every run (a finding is a proof);
        # the seed fixes everything else.
        self.assertEqual(a["users"].keys(), b["users"].keys())
        for u in a["users"]:
            self.assertRegex(a["users"][u], f"^{u}-CSC[0-9a-f]{{24}}$")
            self.assertNotEqual(a["users"][u], b["users"][u])
        del a["users"], b["users"]
        self.assertEqual(a, b)
        c = json.loads(self.plan("--seed", "99"))
        self.assertNotEqual([i["user"] for s in a["steps"] for i in s.get("invocations", [])],
                            [i["user"] for s in c["steps"] for i in s.get("invocations", [])])


class Failures(unittest.TestCase):
    def test_bad_suite_names_file_line_column(self):
        path = write_suite("lab: {config: @FUNCTIONS@}\nscenario_dir: @SCENARIOS@\ntargets:\n"
                           "  - {function: hello-python, baseline: {a: 1}, scenarios: [cross-user-leek]}\n")
        r, report, _ = coldsec_run(path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:4:".encode(), r.stderr)
        self.assertIn(b"no scenario 'cross-user-leek'", r.stderr)
        self.assertIsNone(report)

    def test_untestable_target_still_writes_report(self):
        path = write_suite("lab: {config: @FUNCTIONS@}\nscenario_dir: @SCENARIOS@\ntargets:\n"
                           "  - {function: no-such-function, baseline: {a: 1}, scenarios: [config]}\n"
                           "  - {function: config-python-vulnerable, envelope: apigw-v2, baseline: {a: 1}, "
                           "scenarios: [config]}\n")
        r, report, _ = coldsec_run(path)
        self.assertEqual(r.returncode, 3, r.stderr)
        status = {x["target"]: x["status"] for x in report["results"]}
        self.assertEqual(status["no-such-function"], "untestable")
        self.assertEqual(status["config-python-vulnerable"], "findings")
        self.assertTrue(any("ResourceNotFoundException" in x.get("detail", "") for x in report["results"]))

    def test_refused_without_consent(self):
        path = write_suite("lab: {config: @FUNCTIONS@}\nscenario_dir: @SCENARIOS@\ntargets:\n"
                           "  - {function: hello-python, allow_mutation: false, baseline: {name: x},"
                           " scenarios: [cross-user-leak]}\n")
        r, report, _ = coldsec_run(path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(report["results"][0]["status"], "refused")
        self.assertIn("allow-mutation", report["results"][0]["detail"])

    def test_sigint_restores_and_writes_partial_report(self):
        out = tmp_dir("coldsec-run-")
        env = dict(clean_env(), COLDSEC_TEST_STOP_AT="waiting")
        p = subprocess.Popen([coldsec_binary(), "run", "--target", "cross-user-leak-python-vulnerable",
                              "--scenario", "cross-user-leak", "--out", out, "--quiet"], env=env, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertTrue(wait_stopped(p), "coldsec did not reach the cold start")
            p.send_signal(signal.SIGINT)
            p.send_signal(signal.SIGCONT)
            rc, _, err = wait_exit(p, 120)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(rc, 3, err)
        (path,) = glob.glob(os.path.join(out, "*", "report.json"))
        report = json.load(open(path))
        self.assertEqual(report["results"][0]["status"], "interrupted")
        for j in glob.glob(os.path.join(os.path.dirname(path), "**", "journal.json"), recursive=True):
            self.assertEqual(json.load(open(j))["state"], "restored")


class InitFailure(unittest.TestCase):
    """A function whose init fails with its password in the stack trace: the
    error of the very first invocation after the cold start is searched like
    any other answer."""

    def test_init_error_exposes_secret(self):
        d = tmp_dir("coldsec-initleak-")
        os.makedirs(os.path.join(d, "code"))
        with open(os.path.join(d, "code", "handler.py"), "w") as f:
            f.write("import os\nDSN = 'postgresql://app:' + os.environ['DB_PASSWORD'] + '@db.internal/app'\n"
                    "raise ConnectionError('could not connect to ' + DSN)\n"
                    "def handler(event, context):\n    return {}\n")
        with open(os.path.join(d, "functions.yaml"), "w") as f:
            f.write("functions:\n  - name: init-leak\n    runtime: python3.12\n    handler: handler.handler\n"
                    "    code: code\n    environment: {DB_PASSWORD: init-only-Secret-99c1e0}\n")
        path = write_suite(f"lab: {{config: {d}/functions.yaml}}\nscenario_dir: @SCENARIOS@\ntargets:\n"
                           "  - {function: init-leak, baseline: {order_id: x}, scenarios: [secret-exposure]}\n")
        r, report, run_dir = coldsec_run(path)
        self.assertEqual(r.returncode, 1, r.stderr)
        (f,) = report["findings"]
        exposed = {(e["kind"], e["name"]) for e in f["evidence"]["exposed"]}
        self.assertIn(("secret-variable", "DB_PASSWORD"), exposed)
        first = f["evidence"]["examples"][0]
        self.assertTrue(first["cold"])
        self.assertEqual(first["function_error"], "Unhandled")
        self.assertIn("ConnectionError", first["response"])
        for p in glob.glob(os.path.join(run_dir, "**", "*"), recursive=True):
            if os.path.isfile(p):
                self.assertNotIn(b"init-only-Secret-99c1e0", open(p, "rb").read(), p)


def scenario_dir(name, text):
    """A scenario folder of one's own: the shipped catalogs and one file."""
    d = tmp_dir("coldsec-scenarios-")
    subprocess.run(["cp", "-r", os.path.join(REPO, "scenarios", "catalogs"), d], check=True)
    with open(os.path.join(d, name), "w") as f:
        f.write(text)
    return d


class UserScenario(unittest.TestCase):
    """A scenario of one's own is a YAML file: here one with a sleep step, a
    status assertion and a pattern, against a function that fails on a
    number where it wants a string."""

    def test_new_scenario_needs_only_yaml(self):
        d = scenario_dir("health.yaml", "id: health\ntitle: Requests fail\nclass: availability\nseverity: medium\n"
                         "proves: the baseline request fails\nfix: validate input\n"
                         "users: [alice]\nsteps:\n  - invoke: {id: first, users: [alice], count: 2}\n"
                         "  - sleep: {ms: 50}\n  - invoke: {id: second, users: [alice], count: 1}\n"
                         "assertions:\n  - status: {id: ok, title: The function answered with an error,"
                         " seen_in: [first, second], expect: ok}\n"
                         "  - pattern_seen: {id: trace, title: An exception name reached the caller,"
                         " pattern: 'RuntimeError|AttributeError', seen_in: [second], where: [payload], severity: low}\n")
        path = write_suite("lab: {config: @FUNCTIONS@}\nscenario_dir: " + d + "\ntargets:\n"
                           "  - {function: secret-exposure-python-vulnerable, baseline: {order_id: 5, quantity: 1,"
                           " items: []}, scenarios: [health]}\n")
        r, report, run_dir = coldsec_run(path)
        self.assertEqual(r.returncode, 1, r.stderr)
        got = {(f["assertion"], f["class"], f["severity"]) for f in report["findings"]}
        self.assertEqual(got, {("ok", "availability", "medium"), ("trace", "availability", "low")})
        (status,) = [f for f in report["findings"] if f["assertion"] == "ok"]
        self.assertEqual(status["summary"], "0 of 3 invocations answered without a function error (3 errors)")
        lines = [json.loads(l) for l in open(os.path.join(run_dir, "secret-exposure-python-vulnerable", "health",
                                                           "invocations.jsonl"))]
        self.assertEqual([l["step"] for l in lines], ["first", "first", "second"])
        self.assertGreaterEqual(lines[2]["start_ms"] - lines[1]["end_ms"], 50)

    def test_always_seen_and_step_envelope(self):
        d = scenario_dir("echo.yaml", "id: echo\ntitle: Echo\nclass: echo\nseverity: low\nproves: p\nfix: f\n"
                         "canaries: {mine: {per: invocation}}\nusers: [alice]\nsteps:\n"
                         "  - invoke: {id: plain, users: [alice], count: 1, vary: {field: strings, set: '{{canary.mine}}'}}\n"
                         "  - invoke: {id: wrapped, users: [alice], count: 1, envelope: apigw-v2,"
                         " vary: {field: strings, set: '{{canary.mine}}'}}\n"
                         "assertions:\n"
                         "  - canary_seen: {id: plain-echo, title: t, canary: mine, planted_in: [plain], seen_in: [plain],"
                         " where: [payload], expect: always}\n"
                         "  - canary_seen: {id: wrapped-echo, title: t, canary: mine, planted_in: [wrapped],"
                         " seen_in: [wrapped], where: [payload], expect: always}\n")
        path = write_suite("lab: {config: @FUNCTIONS@}\nscenario_dir: " + d + "\ntargets:\n"
                           "  - {function: cross-user-leak-python-hardened, baseline: {user_id: '{{user.id}}',"
                           " display_name: Ann}, scenarios: [echo]}\n")
        r, report, _ = coldsec_run(path)
        # The handler reads raw events: the API Gateway envelope hides the
        # field from it, so only the wrapped step misses its canary.
        self.assertEqual({f["assertion"] for f in report["findings"]}, {"wrapped-echo"}, r.stderr)
        self.assertEqual(report["findings"][0]["evidence"]["answers_without_canary"], 1)
        self.assertEqual(r.returncode, 0)


class HttpTransport(unittest.TestCase):
    """transport: http — requests go to the function's URL, cold starts
    through the Lambda API; the leak is found through HTTP alone."""

    def test_cross_user_leak_through_function_url(self):
        d = tmp_dir("coldsec-url-")
        code = os.path.join(REPO, "tests", "integration", "functions", "url-profile-python")
        with open(os.path.join(d, "functions.yaml"), "w") as f:
            f.write(f"functions:\n  - name: profile-page\n    runtime: python3.12\n    handler: handler.handler\n"
                    f"    code: {code}\n    function_url: true\n")
        # coldsec starts the lab on a port it picks, so the URL is found from
        # a lab started here with the same config, on its own port.
        text = open(os.path.join(d, "functions.yaml")).read()
        lab = Lab([], config_text=text).start()
        try:
            url = lab.url + "/lambda-url/profile-page/profile"
            path = write_suite("scenario_dir: @SCENARIOS@\ntargets:\n"
                               f"  - {{function: profile-page, transport: http, url: '{url}',"
                               f" aws: {{endpoint: '{lab.url}', region: us-east-1}}, allow_mutation: true,"
                               " baseline: {user_id: '{{user.id}}', display_name: Ann}, scenarios: [cross-user-leak]}\n")
            env = dict(clean_env(), AWS_ACCESS_KEY_ID=lab.key, AWS_SECRET_ACCESS_KEY=lab.secret)
            out = tmp_dir("coldsec-run-")
            r = subprocess.run([coldsec_binary(), "run", path, "--out", out, "--quiet"], env=env,
                               capture_output=True, timeout=300, cwd=REPO)
            (rp,) = glob.glob(os.path.join(out, "*", "report.json"))
            report = json.load(open(rp))
            self.assertEqual(r.returncode, 1, r.stderr)
            (f,) = report["findings"]
            self.assertEqual(f["class"], "cross-user-leak")
            ex = f["evidence"]["examples"][0]
            self.assertIn(ex["canary"], ex["seen"]["response"])
            self.assertTrue(any(c.startswith("curl ") and url in c for c in f["evidence"]["reproduce"]))
            # Cold starts still went through the Lambda API, and were undone.
            (j,) = glob.glob(os.path.join(os.path.dirname(rp), "**", "journal.json"), recursive=True)
            self.assertEqual(json.load(open(j))["state"], "restored")
            cfg = lab.client().get_function_configuration(FunctionName="profile-page")
            self.assertNotIn("COLDSEC_COLD_START_NONCE", cfg.get("Environment", {}).get("Variables", {}))
        finally:
            lab.stop()

    def test_memory_growth_needs_invoke(self):
        path = write_suite("lab: {config: @FUNCTIONS@}\nscenario_dir: @SCENARIOS@\ntargets:\n"
                           "  - {function: memory-growth-python-vulnerable, transport: http,"
                           " url: 'http://127.0.0.1:9/none', baseline: {document: x}, scenarios: [memory-growth]}\n")
        r, report, _ = coldsec_run(path)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("only the Invoke API returns", report["results"][0]["detail"])


if __name__ == "__main__":
    unittest.main()
