"""`coldsec init`: the starter suite it writes is accepted by `coldsec run`
as written and finds what a vulnerable handler does; it never overwrites;
the baseline of an API Gateway v2 event gets {{user.id}} where asked; a
runtime it cannot guess off a terminal fails naming the flag; the AWS path
fills the suite from a read-only GetFunctionConfiguration.

The handler is this test's own (a module-level cache keyed by the item
alone: whoever asks second gets the first caller's answer), written into
an empty folder, so nothing depends on the repository's samples."""
import json
import os
import re
import unittest

from driverfixture import coldsec_binary, coldsec_env, run_coldsec
from labfixture import Lab, fn, tmp_dir


VULNERABLE_PY = '''\
cache = {}


def handler(event, context):
    key = event.get("item")
    if key not in cache:
        cache[key] = {"user_id": event.get("user_id"), "item": key}
    return cache[key]
'''

APIGW_V2_EVENT = {
    "version": "2.0", "routeKey": "POST /orders", "rawPath": "/orders", "rawQueryString": "",
    "headers": {"content-type": "application/json"},
    "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                       "http": {"method": "POST", "path": "/orders", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7",
                                "userAgent": "curl"},
                       "requestId": "r-1", "routeKey": "POST /orders", "stage": "$default"},
    "body": json.dumps({"order": {"owner": {"handle": "ann"}, "item": "book"}, "customerId": "c-1"}),
    "isBase64Encoded": False,
}


def plain_env(test):
    """No AWS settings at all: a lab target needs none."""
    home = tmp_dir("coldsec-home-", test)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "none"), "AWS_CONFIG_FILE": os.path.join(home, "none")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def suite_target(path):
    """The written suite's uncommented `key: value` lines of its target."""
    with open(path) as f:
        text = f.read()
    return {m.group(1): m.group(2) for m in re.finditer(r"(?m)^    ([a-z_]+): (.*)$", text)}, text


class InitLabTest(unittest.TestCase):
    def setUp(self):
        if not os.access(coldsec_binary(), os.X_OK):
            self.skipTest(f"{coldsec_binary()} is not built")
        self.dir = tmp_dir("coldsec-init-", self)
        with open(os.path.join(self.dir, "handler.py"), "w") as f:
            f.write(VULNERABLE_PY)
        self.env = plain_env(self)

    def init(self, *args, stdin=None):
        return run_coldsec(["init"] + list(args), self.env, cwd=self.dir, input=stdin)

    def test_writes_a_suite_that_runs_and_finds_the_leak(self):
        r = self.init("--handler", ".")
        self.assertEqual(r.returncode, 0, r.stderr)
        target, text = suite_target(os.path.join(self.dir, "coldsec.yaml"))
        self.assertEqual(json.loads(target["baseline"]), {"user_id": "{{user.id}}", "item": "book"})
        with open(os.path.join(self.dir, "coldsec-lab.yaml")) as f:
            lab = f.read()
        self.assertIn("runtime: python3.13", lab)
        self.assertIn('handler: "handler.handler"', lab)
        out = tmp_dir("coldsec-out-", self)
        r = run_coldsec(["run", "coldsec.yaml", "--scenario", "cross-user-leak",
                         "--out", out, "--format", "json"], self.env, cwd=self.dir, timeout=300)
        self.assertEqual(r.returncode, 1, r.stderr.decode()[-3000:])
        reports = [os.path.join(dp, n) for dp, _, ns in os.walk(out) for n in ns if n == "report.json"]
        self.assertEqual(len(reports), 1, reports)
        with open(reports[0]) as f:
            report = json.load(f)
        found = [(fd["class"], fd["target"]) for fd in report["findings"]]
        self.assertIn(("cross-user-leak", os.path.basename(self.dir)), found, json.dumps(report)[:3000])

    def test_refuses_to_overwrite(self):
        for name in ("coldsec.yaml", "coldsec-lab.yaml"):
            with self.subTest(existing=name):
                path = os.path.join(self.dir, name)
                with open(path, "w") as f:
                    f.write("mine\n")
                r = self.init("--handler", ".")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"{name}: exists: not overwritten", r.stderr.decode())
                with open(path) as f:
                    self.assertEqual(f.read(), "mine\n")
                other = "coldsec-lab.yaml" if name == "coldsec.yaml" else "coldsec.yaml"
                self.assertFalse(os.path.exists(os.path.join(self.dir, other)), "a half-written pair was left")
                os.unlink(path)

    def test_event_file_identity_where_asked(self):
        with open(os.path.join(self.dir, "event.json"), "w") as f:
            json.dump(APIGW_V2_EVENT, f)
        r = self.init("--handler", ".", "--event", "event.json", "--identity", "/body/order/owner/handle")
        self.assertEqual(r.returncode, 0, r.stderr)
        target, text = suite_target(os.path.join(self.dir, "coldsec.yaml"))
        self.assertEqual(target["envelope"], "apigw-v2")
        self.assertEqual(json.loads(target["baseline"]),
                         {"order": {"owner": {"handle": "{{user.id}}"}, "item": "book"}, "customerId": "c-1"})
        self.assertIn("/body/order/owner/handle", text)
        # The suite is accepted and run as written (this handler reads a
        # top-level "item", so whether it leaks here is not the point).
        r = run_coldsec(["run", "coldsec.yaml", "--scenario", "cross-user-leak",
                         "--out", tmp_dir("coldsec-out-", self)], self.env, cwd=self.dir, timeout=300)
        self.assertIn(r.returncode, (0, 1), r.stderr.decode()[-3000:])

    def test_event_file_identity_guessed(self):
        with open(os.path.join(self.dir, "event.json"), "w") as f:
            json.dump(APIGW_V2_EVENT, f)
        r = self.init("--handler", ".", "--event", "event.json")
        self.assertEqual(r.returncode, 0, r.stderr)
        target, text = suite_target(os.path.join(self.dir, "coldsec.yaml"))
        self.assertEqual(json.loads(target["baseline"])["customerId"], "{{user.id}}")
        self.assertIn("/body/customerId", text)

    def test_identity_outside_the_body_is_refused(self):
        with open(os.path.join(self.dir, "event.json"), "w") as f:
            json.dump(APIGW_V2_EVENT, f)
        r = self.init("--handler", ".", "--event", "event.json", "--identity", "/requestContext/accountId")
        self.assertEqual(r.returncode, 2)
        self.assertIn("the identity must be in the body", r.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(self.dir, "coldsec.yaml")))

    def test_event_not_json_names_line_and_column(self):
        with open(os.path.join(self.dir, "bad.json"), "w") as f:
            f.write('{"user_id": "a",\n  "item": }\n')
        r = self.init("--handler", ".", "--event", "bad.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.json:2:11: not JSON", r.stderr.decode())

    def test_no_guessable_runtime_without_a_terminal(self):
        empty = tmp_dir("coldsec-init-empty-", self)
        with open(os.path.join(empty, "main.go"), "w") as f:
            f.write("package main\n")
        r = run_coldsec(["init", "--handler", empty], self.env, cwd=self.dir, input=b"")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--runtime", r.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(self.dir, "coldsec.yaml")))
        # Told, it still needs the handler, and says which flag.
        r = run_coldsec(["init", "--handler", empty, "--runtime", "nodejs"], self.env, cwd=self.dir, input=b"")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--handler-name", r.stderr.decode())
        r = run_coldsec(["init", "--handler", empty, "--runtime", "nodejs", "--handler-name", "index.handler"],
                        self.env, cwd=self.dir, input=b"")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "coldsec-lab.yaml")) as f:
            lab = f.read()
        self.assertIn("runtime: nodejs22.x", lab)
        self.assertIn(f'code: "{empty}"', lab)

    def test_node_handler_guessed(self):
        node = tmp_dir("coldsec-init-node-", self)
        with open(os.path.join(node, "package.json"), "w") as f:
            f.write('{"type": "module"}\n')
        with open(os.path.join(node, "app.mjs"), "w") as f:
            f.write("export const handler = async (event) => ({ok: true});\n")
        r = run_coldsec(["init", "--handler", node, "--shape", "sqs"], self.env, cwd=self.dir, input=b"")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "coldsec-lab.yaml")) as f:
            lab = f.read()
        self.assertIn("runtime: nodejs22.x", lab)
        self.assertIn('handler: "app.handler"', lab)
        target, _ = suite_target(os.path.join(self.dir, "coldsec.yaml"))
        body = json.loads(json.loads(target["baseline"])["Records"][0]["body"])
        self.assertEqual(body["user_id"], "{{user.id}}")


class InitAwsTest(unittest.TestCase):
    """--function against the lab as an AWS endpoint, as a user's staging
    account would be reached."""

    @classmethod
    def setUpClass(cls):
        if not os.access(coldsec_binary(), os.X_OK):
            raise unittest.SkipTest(f"{coldsec_binary()} is not built")
        cls.code = tmp_dir("coldsec-init-code-")
        with open(os.path.join(cls.code, "handler.py"), "w") as f:
            f.write(VULNERABLE_PY)
        cls.lab = Lab([fn("staging-orders", runtime="python3.12", code=cls.code, memory_mb=256, timeout_s=7)]).start()
        cls.env = coldsec_env(cls.lab)

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def test_fills_from_get_function_configuration_and_changes_nothing(self):
        before = self.lab.client().get_function_configuration(FunctionName="staging-orders")
        work = tmp_dir("coldsec-init-aws-", self)
        r = run_coldsec(["init", "--function", self.lab.arn("staging-orders"), "--shape", "apigw-v2"], self.env,
                        cwd=work)
        self.assertEqual(r.returncode, 0, r.stderr)
        target, text = suite_target(os.path.join(work, "coldsec.yaml"))
        self.assertIn("runtime python3.12", text)
        self.assertIn("memory 256 MB, timeout 7 s", text)
        self.assertEqual(target["allow_mutation"], "false")
        self.assertEqual(target["envelope"], "apigw-v2")
        self.assertIn("PICK the one", text)
        self.assertEqual(target["aws"], f'{{region: "{self.lab.region}"}}')
        after = self.lab.client().get_function_configuration(FunctionName="staging-orders")
        self.assertEqual(before["RevisionId"], after["RevisionId"])
        self.assertEqual(before["Environment"], after["Environment"])
        # The suite loads and runs as written (the endpoint from the
        # environment). With allow_mutation false its cold start is refused
        # (exit 2, "a refused cold start included"), reported as not
        # completed, and the function is still untouched.
        out = tmp_dir("coldsec-out-", self)
        r = run_coldsec(["run", "coldsec.yaml", "--scenario", "cross-user-leak",
                         "--out", out, "--format", "json"], self.env, cwd=work, timeout=300)
        self.assertEqual(r.returncode, 2, r.stderr.decode()[-3000:])
        self.assertIn(b"the target must opt in (allow_mutation: true", r.stderr)
        reports = [os.path.join(dp, n) for dp, _, ns in os.walk(out) for n in ns if n == "report.json"]
        self.assertEqual(len(reports), 1, r.stderr.decode()[-3000:])
        with open(reports[0]) as f:
            statuses = [res["status"] for res in json.load(f)["results"]]
        self.assertEqual(len(statuses), 1)
        self.assertNotEqual(statuses[0], "passed")
        final = self.lab.client().get_function_configuration(FunctionName="staging-orders")
        self.assertEqual(before["RevisionId"], final["RevisionId"])

    def test_unknown_function(self):
        work = tmp_dir("coldsec-init-aws-", self)
        r = run_coldsec(["init", "--function", "no-such-function"], self.env, cwd=work)
        self.assertEqual(r.returncode, 3)
        self.assertIn("ResourceNotFoundException", r.stderr.decode())
        self.assertEqual(os.listdir(work), [])


if __name__ == "__main__":
    unittest.main()
