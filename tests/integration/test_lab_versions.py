"""Versions, aliases, function URL config and account settings in coldsec-lab,
driven by the AWS CLI v2 (Debian 12's `awscli`, /usr/bin/aws; scripts/deps.sh
installs it) as a user would, and by boto3 for the edge cases; then a
scenario against an alias target.

What is checked, against the AWS Lambda API Reference (PublishVersion,
ListVersionsByFunction, CreateAlias, GetAlias, UpdateAlias, ListAliases,
DeleteAlias, GetFunctionUrlConfig, GetAccountSettings, Invoke):
  - a published version is a frozen copy of $LATEST's configuration: a later
    UpdateFunctionConfiguration changes $LATEST only; publishing with nothing
    changed answers the last version again; each version runs in its own
    environments with AWS_LAMBDA_FUNCTION_VERSION set to it;
  - an alias points at a version: invoke --qualifier ALIAS runs it and
    X-Amz-Executed-Version (the CLI's ExecutedVersion) names it; UpdateAlias
    repoints it; GetFunctionConfiguration through it shows the alias ARN;
  - 404 for an unknown alias or version, 409 for a duplicate alias;
  - GetFunctionUrlConfig for a function with `function_url: true`, 404 else;
  - GetAccountSettings: the lab's account limit and what reservations leave.
And `coldsec run` against `function: NAME:ALIAS`: the leak is found on the
alias, the cold start is reported as not forced (a version is immutable),
and a hardened twin's clean run is not a pass.
"""
import glob
import json
import os
import re
import subprocess
import unittest

import botocore.exceptions

import labfixture as lf
from driverfixture import coldsec_binary
from labfixture import Lab, REPO, tmp_dir

AWS = "/usr/bin/aws"  # the AWS CLI v2 from Debian's awscli, never the pyenv v1
URL_RE = re.compile(r"^https://[0-9a-z]{32}\.lambda-url\.us-east-1\.on\.aws/$")


def cli_is_v2():
    if not os.access(AWS, os.X_OK):
        return False
    r = subprocess.run([AWS, "--version"], capture_output=True, text=True, timeout=60)
    return r.returncode == 0 and r.stdout.startswith("aws-cli/2.")


def lab_config(functions, with_url=(), account_concurrency=None):
    """Config text with absolute code folders, `function_url: true` for the
    names in with_url."""
    out = []
    for line in lf.render_config(functions, os.sep, account_concurrency=account_concurrency).splitlines():
        if line.startswith("    code: "):
            line = "    code: " + lf._q(os.sep + json.loads(line[len("    code: "):]))
        out.append(line)
        if line.startswith("  - name: ") and json.loads(line[len("  - name: "):]) in with_url:
            out.append("    function_url: true")
    return "\n".join(out) + "\n"


@unittest.skipUnless(cli_is_v2(), f"{AWS} is not the AWS CLI v2: run scripts/deps.sh (Debian's awscli)")
class CliV2(unittest.TestCase):
    """The AWS CLI v2 through every operation, in the order a user would."""

    @classmethod
    def setUpClass(cls):
        fns = [lf.fn("ver-py", environment={"STAGE": "one"}), lf.fn("ver-url")]
        lab = Lab(fns, account_concurrency=300)
        lab.config_text = lab_config(lab.functions.values(), with_url=("ver-url",), account_concurrency=300)
        cls.lab = lab.start()
        cls.home = tmp_dir("coldsec-awscli-")
        cls.env = {"PATH": "/usr/bin:/bin", "HOME": cls.home,
                   "AWS_ACCESS_KEY_ID": lab.key, "AWS_SECRET_ACCESS_KEY": lab.secret,
                   "AWS_DEFAULT_REGION": lab.region, "AWS_PAGER": "",
                   "AWS_CONFIG_FILE": os.path.join(cls.home, "none"),
                   "AWS_SHARED_CREDENTIALS_FILE": os.path.join(cls.home, "none")}

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def aws(self, *args, ok=True):
        r = subprocess.run([AWS, "--endpoint-url", self.lab.url, "--output", "json", "lambda", *args],
                           env=self.env, capture_output=True, text=True, timeout=120, cwd=self.home)
        if ok:
            self.assertEqual(r.returncode, 0, f"aws {' '.join(args)}: {r.stderr}")
            return json.loads(r.stdout) if r.stdout.strip() else None
        self.assertNotEqual(r.returncode, 0, r.stdout)
        return r.stderr

    def invoke(self, *args, event=None):
        out = os.path.join(self.home, "out.json")
        meta = self.aws("invoke", "--function-name", "ver-py", *args, "--cli-binary-format", "raw-in-base64-out",
                        "--payload", json.dumps(event or {"action": "env", "names": ["STAGE",
                                                                               "AWS_LAMBDA_FUNCTION_VERSION"]}),
                        out)
        with open(out) as f:
            return meta, json.load(f)

    def test_versions_aliases_url_account(self):
        lab = self.lab
        v1 = self.aws("publish-version", "--function-name", "ver-py", "--description", "first")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], lab.arn("ver-py") + ":1")
        self.assertEqual(v1["Description"], "first")
        self.assertEqual(v1["Environment"]["Variables"]["STAGE"], "one")
        # Nothing changed: the same version again (API_PublishVersion.html).
        self.assertEqual(self.aws("publish-version", "--function-name", "ver-py")["Version"], "1")

        lab.client().update_function_configuration(
            FunctionName="ver-py", Environment={"Variables": lab.env_of("ver-py", STAGE="two")})
        lab.wait_updated("ver-py")
        v2 = self.aws("publish-version", "--function-name", "ver-py")
        self.assertEqual(v2["Version"], "2")
        self.assertEqual(v2["Environment"]["Variables"]["STAGE"], "two")
        versions = self.aws("list-versions-by-function", "--function-name", "ver-py")["Versions"]
        self.assertEqual([v["Version"] for v in versions], ["$LATEST", "1", "2"])
        # Version 1 stayed as it was published.
        self.assertEqual(versions[1]["Environment"]["Variables"]["STAGE"], "one")

        alias = self.aws("create-alias", "--function-name", "ver-py", "--name", "live", "--function-version", "1",
                         "--description", "what users call")
        self.assertEqual(alias["AliasArn"], lab.arn("ver-py") + ":live")
        self.assertEqual(alias["FunctionVersion"], "1")
        got = self.aws("get-alias", "--function-name", "ver-py", "--name", "live")
        self.assertEqual((got["Name"], got["FunctionVersion"], got["Description"]),
                         ("live", "1", "what users call"))

        meta, body = self.invoke("--qualifier", "live")
        self.assertEqual(meta["ExecutedVersion"], "1")
        self.assertEqual(body["env"], {"STAGE": "one", "AWS_LAMBDA_FUNCTION_VERSION": "1"})
        env_v1 = body["env_id"]
        meta, body = self.invoke()
        self.assertEqual(meta["ExecutedVersion"], "$LATEST")
        self.assertEqual(body["env"], {"STAGE": "two", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"})
        self.assertNotEqual(body["env_id"], env_v1, "a version runs in environments of its own")

        upd = self.aws("update-alias", "--function-name", "ver-py", "--name", "live", "--function-version", "2")
        self.assertEqual(upd["FunctionVersion"], "2")
        self.assertNotEqual(upd["RevisionId"], alias["RevisionId"])
        meta, body = self.invoke("--qualifier", "live")
        self.assertEqual(meta["ExecutedVersion"], "2")
        self.assertEqual(body["env"]["STAGE"], "two")
        meta, _ = self.invoke("--qualifier", "1")
        self.assertEqual(meta["ExecutedVersion"], "1")

        cfg = self.aws("get-function-configuration", "--function-name", "ver-py", "--qualifier", "live")
        self.assertEqual((cfg["Version"], cfg["FunctionArn"]), ("2", lab.arn("ver-py") + ":live"))
        cfg = self.aws("get-function-configuration", "--function-name", "ver-py:1")
        self.assertEqual((cfg["Version"], cfg["FunctionArn"]), ("1", lab.arn("ver-py") + ":1"))

        self.aws("create-alias", "--function-name", "ver-py", "--name", "old", "--function-version", "1")
        names = [a["Name"] for a in self.aws("list-aliases", "--function-name", "ver-py")["Aliases"]]
        self.assertEqual(names, ["live", "old"])
        only1 = self.aws("list-aliases", "--function-name", "ver-py", "--function-version", "1")["Aliases"]
        self.assertEqual([a["Name"] for a in only1], ["old"])
        self.aws("delete-alias", "--function-name", "ver-py", "--name", "old")
        self.assertIn("ResourceNotFoundException", self.aws("get-alias", "--function-name", "ver-py", "--name",
                                                            "old", ok=False))

        url = self.aws("get-function-url-config", "--function-name", "ver-url")
        self.assertRegex(url["FunctionUrl"], URL_RE)
        # (CLI 2.9's model predates InvokeMode: boto3 checks it below.)
        self.assertEqual((url["FunctionArn"], url["AuthType"]), (lab.arn("ver-url"), "NONE"))
        self.assertEqual(lab.client().get_function_url_config(FunctionName="ver-url")["InvokeMode"], "BUFFERED")
        self.assertIn("ResourceNotFoundException",
                      self.aws("get-function-url-config", "--function-name", "ver-py", ok=False))

        lab.client().put_function_concurrency(FunctionName="ver-url", ReservedConcurrentExecutions=40)
        try:
            acct = self.aws("get-account-settings")
        finally:
            lab.client().delete_function_concurrency(FunctionName="ver-url")
        self.assertEqual(acct["AccountLimit"]["ConcurrentExecutions"], 300)
        self.assertEqual(acct["AccountLimit"]["UnreservedConcurrentExecutions"], 260)
        self.assertEqual(acct["AccountLimit"]["CodeSizeUnzipped"], 262144000)
        self.assertEqual(acct["AccountUsage"]["FunctionCount"], 2)
        self.assertGreater(acct["AccountUsage"]["TotalCodeSize"], 0)


class EdgeCases(unittest.TestCase):
    """boto3: the refusals, as Lambda answers them."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([lf.fn("edge-py")]).start()
        cls.c = cls.lab.client()
        cls.c.publish_version(FunctionName="edge-py")

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def code_of(self, call, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            call(**kw)
        err = ctx.exception.response
        return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"].get("Message", "")

    def test_unknown_alias_and_version(self):
        code, status, msg = self.code_of(self.lab.invoke, name="edge-py", qualifier="nope")
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))
        self.assertIn(self.lab.arn("edge-py") + ":nope", msg)
        self.assertEqual(self.code_of(self.lab.invoke, name="edge-py", qualifier="7")[:2],
                         ("ResourceNotFoundException", 404))
        self.assertEqual(self.code_of(self.c.get_alias, FunctionName="edge-py", Name="nope")[:2],
                         ("ResourceNotFoundException", 404))
        self.assertEqual(self.code_of(self.c.get_function_configuration, FunctionName="edge-py",
                                      Qualifier="nope")[:2], ("ResourceNotFoundException", 404))

    def test_alias_on_unknown_version(self):
        code, status, _ = self.code_of(self.c.create_alias, FunctionName="edge-py", Name="ghost",
                                       FunctionVersion="9")
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))

    def test_duplicate_alias_and_bad_names(self):
        self.c.create_alias(FunctionName="edge-py", Name="dup", FunctionVersion="1")
        self.assertEqual(self.code_of(self.c.create_alias, FunctionName="edge-py", Name="dup",
                                      FunctionVersion="1")[:2], ("ResourceConflictException", 409))
        # An alias name of digits only would read as a version.
        self.assertEqual(self.code_of(self.c.create_alias, FunctionName="edge-py", Name="12",
                                      FunctionVersion="1")[:2], ("InvalidParameterValueException", 400))

    def test_alias_revision_and_latest(self):
        a = self.c.create_alias(FunctionName="edge-py", Name="rev", FunctionVersion="$LATEST")
        self.assertEqual(self.lab.invoke("edge-py", qualifier="rev").resp["ExecutedVersion"], "$LATEST")
        self.assertEqual(self.code_of(self.c.update_alias, FunctionName="edge-py", Name="rev",
                                      FunctionVersion="1", RevisionId="stale")[:2],
                         ("PreconditionFailedException", 412))
        self.c.update_alias(FunctionName="edge-py", Name="rev", FunctionVersion="1", RevisionId=a["RevisionId"])
        self.assertEqual(self.lab.invoke("edge-py", qualifier="rev").resp["ExecutedVersion"], "1")

    def test_version_is_immutable(self):
        before = self.c.get_function_configuration(FunctionName="edge-py", Qualifier="1")
        code, status, _ = self.code_of(self.c.update_function_configuration, FunctionName="edge-py:1",
                                       Description="changed")
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))
        after = self.c.get_function_configuration(FunctionName="edge-py", Qualifier="1")
        self.assertEqual(before["RevisionId"], after["RevisionId"])
        self.assertEqual(self.code_of(self.c.publish_version, FunctionName="edge-py",
                                      RevisionId="stale")[:2], ("PreconditionFailedException", 412))


def run_suite(lab, function):
    d = tmp_dir("coldsec-ver-suite-")
    path = os.path.join(d, "suite.yaml")
    with open(path, "w") as f:
        f.write(f"scenario_dir: {os.path.join(REPO, 'scenarios')}\ntargets:\n"
                f"  - {{function: '{function}', aws: {{endpoint: '{lab.url}', region: us-east-1}},"
                " allow_mutation: true, baseline: {user_id: '{{user.id}}', path: /profile, display_name: Ann},"
                " scenarios: [cross-user-leak]}\n")
    home = tmp_dir("coldsec-home-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "AWS_ACCESS_KEY_ID": lab.key, "AWS_SECRET_ACCESS_KEY": lab.secret}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    out = tmp_dir("coldsec-run-")
    r = subprocess.run([coldsec_binary(), "run", path, "--out", out, "--quiet"], env=env,
                       capture_output=True, text=True, timeout=300, cwd=REPO)
    (rp,) = glob.glob(os.path.join(out, "*", "report.json"))
    with open(rp) as f:
        return r, json.load(f)


class AliasTarget(unittest.TestCase):
    """`function: NAME:ALIAS`: invoked through the alias, no cold start forced."""

    @classmethod
    def setUpClass(cls):
        fns = []
        for name in ("cross-user-leak-python-vulnerable", "cross-user-leak-python-hardened"):
            fns.append(lf.fn(name, runtime="python3.12", code=os.path.join(lf.HARNESS_FUNCTIONS, name)))
        lab = Lab(fns)
        lab.config_text = lab_config(lab.functions.values())
        cls.lab = lab.start()
        c = cls.lab.client()
        for name in lab.functions:
            v = c.publish_version(FunctionName=name)["Version"]
            c.create_alias(FunctionName=name, Name="staging", FunctionVersion=v)
            c.create_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST")

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def latest_env(self, name):
        cfg = self.lab.client().get_function_configuration(FunctionName=name)
        return cfg["Environment"]["Variables"], cfg["RevisionId"]

    def test_leak_found_on_alias_and_cold_start_not_forced(self):
        name = "cross-user-leak-python-vulnerable"
        before = self.latest_env(name)
        r, report = run_suite(self.lab, name + ":staging")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(report["findings"], r.stderr)
        self.assertEqual({f["class"] for f in report["findings"]}, {"cross-user-leak"})
        (res,) = report["results"]
        note = res.get("summary", {}).get("note", "") + json.dumps(res)
        self.assertIn("not forced", note)
        self.assertIn("immutable", note)
        # The alias's version served every invocation (its streams are [1]...),
        # and $LATEST was never touched.
        streams = self.lab.find_log_files(name)
        self.assertTrue(streams and all("[1]" in s for s in streams), streams)
        self.assertEqual(self.latest_env(name), before)

    def test_hardened_alias_is_not_a_pass(self):
        r, report = run_suite(self.lab, "cross-user-leak-python-hardened:staging")
        self.assertEqual(report["findings"], [])
        (res,) = report["results"]
        # It was tested: the hardened handler answered every request.
        invs = res["timeline"]["invocations"]
        self.assertTrue(invs)
        self.assertFalse([i for i in invs if i.get("function_error") or i.get("status") != 200], invs[:3])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertNotEqual(res.get("status"), "pass")
        self.assertIn("cold start not run", res["detail"])

    def test_alias_on_latest_gets_its_cold_starts(self):
        # dev -> $LATEST: a change of $LATEST's configuration retires the
        # environments the alias runs, so the cold start is forced (on the
        # unqualified name) and restored; the hardened handler then passes.
        name = "cross-user-leak-python-hardened"
        before_vars, before_rev = self.latest_env(name)
        r, report = run_suite(self.lab, name + ":dev")
        self.assertEqual(r.returncode, 0, r.stderr)
        (res,) = report["results"]
        self.assertEqual(res["status"], "passed", json.dumps(res)[:2000])
        self.assertNotIn("not forced", json.dumps(res))
        after_vars, after_rev = self.latest_env(name)
        self.assertEqual(after_vars, before_vars)
        self.assertNotEqual(after_rev, before_rev)   # it was changed, then restored
        colds = [i for i in res["timeline"]["invocations"] if i.get("cold")]
        self.assertTrue(colds, res["timeline"]["invocations"][:3])


if __name__ == "__main__":
    unittest.main()
