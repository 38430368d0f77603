"""Credentials and secrets never appear in any output, log or report of the
coldsec driver.

A lab accepts two key pairs whose every part is a random sentinel made for
this run; coldsec gets them (plus a sentinel session token) from the
environment or from a profile's credential_process, always with --verbose,
and goes through every command: invoke (answer, function error, --log,
DryRun), cold-start with verification, fanout with a cold start, restore
(after a finished run and after a kill -9), dry runs, a wrong secret (403),
an unknown function (404), a closed port, a broken credential_process, and
an endpoint that answers a bad signature the way AWS does: with the
canonical request, which carries the session token, in the message.

Every byte coldsec wrote is collected: stdout, stderr, and every file (and
file name) under the folder it ran in, which holds its --out folders. None
may hold a sentinel: raw, base64 (any alignment, standard and URL-safe),
URL-encoded, JSON-escaped or hex, whole or any 16-character piece of one.
Each run's exit status is checked too, so the test cannot pass because
nothing ran.
"""
import base64
import http.server
import json
import os
import secrets
import shutil
import socket
import string
import sys
import tempfile
import threading
import unittest
import urllib.parse

from driverfixture import (coldsec_binary, coldsec_env, journals_under, read_jsonl, run_coldsec, runs_under,
                           start_coldsec, wait_stopped)
from labfixture import Lab, fn

B64 = string.ascii_letters + string.digits + "+/"
WINDOW = 16   # a leaked piece this long (of the random part) is a leak
STEP = 4


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def make_sentinels():
    """Random credentials, unlike anything else a run prints. Returns
    {label: (value, where its random part starts)}."""
    upper = string.ascii_uppercase + string.digits
    return {
        "access key id": ("AKIA" + _rand(upper, 16), 4),
        "secret access key": (_rand(B64, 40), 0),
        "session token": ("IQoJb3JpZ2luX2Vj" + _rand(B64, 340) + "==", 16),
        "process access key id": ("ASIA" + _rand(upper, 16), 4),
        "process secret access key": (_rand(B64, 40), 0),
        "process session token": ("FwoGZXIvYXdzE" + _rand(B64, 300), 13),
        "wrong secret access key": (_rand(B64, 40), 0),
    }


def encodings(value):
    """The forms in which a secret could be written: {form: bytes}."""
    v = value.encode()
    out = {
        "raw": v,
        "URL-encoded": urllib.parse.quote(value, safe="").encode(),
        "URL-encoded (lower-case hex)": urllib.parse.quote(value, safe="").encode().replace(b"%2F", b"%2f")
        .replace(b"%2B", b"%2b").replace(b"%3D", b"%3d"),
        "form-encoded": urllib.parse.quote_plus(value).encode(),
        "JSON-escaped": json.dumps(value)[1:-1].encode(),
        "JSON-escaped slashes": json.dumps(value)[1:-1].replace("/", "\\/").encode(),
        "hex": v.hex().encode(),
        "HEX": v.hex().upper().encode(),
    }
    for k in range(3):
        for name, enc in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            b = enc(v[k:])
            out[f"{name} (offset {k})"] = b[:-4] if len(b) > 8 else b
    return out


def pieces(value, start):
    """Every WINDOW-long piece (step STEP) of the random part, and the last."""
    rnd = value[start:]
    if len(rnd) <= WINDOW:
        return [rnd]
    idx = list(range(0, len(rnd) - WINDOW + 1, STEP))
    if idx[-1] != len(rnd) - WINDOW:
        idx.append(len(rnd) - WINDOW)
    return [rnd[i:i + WINDOW] for i in idx]


def find_leaks(sentinels, outputs):
    """outputs: [(where, bytes)]. Returns one line per leak found."""
    needles = []
    for label, (value, start) in sentinels.items():
        for form, b in encodings(value).items():
            needles.append((label, form, b))
        for i, p in enumerate(pieces(value, start)):
            needles.append((label, f"a {len(p)}-character piece (#{i})", p.encode()))
            needles.append((label, f"a URL-encoded {len(p)}-character piece (#{i})",
                            urllib.parse.quote(p, safe="").encode()))
    leaks = []
    for where, data in outputs:
        for label, form, b in needles:
            at = data.find(b)
            if at >= 0:
                ctx = data[max(0, at - 80):at].decode("utf-8", "replace") + "<<<" + label.upper() + ">>>" + \
                    data[at + len(b):at + len(b) + 40].decode("utf-8", "replace")
                leaks.append(f"the {label.upper()} ({form}) is in {where} at byte {at}: ...{ctx!r}...")
                break   # one report per (output, sentinel form) family is enough
    return leaks


class AwsStyleSignatureErrors:
    """An endpoint that refuses every request with 403
    InvalidSignatureException and, as AWS does, the canonical request it
    expected in the message: that text carries the x-amz-security-token
    header's value."""

    def __init__(self):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                outer.count += 1
                hdrs = {k.lower(): v.strip() for k, v in self.headers.items()}
                canonical_headers = "".join(f"{k}:{hdrs.get(k, '')}\n" for k in
                                            ("host", "x-amz-date", "x-amz-security-token") if k in hdrs)
                msg = ("The request signature we calculated does not match the signature you provided. Check your "
                       "AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n"
                       "The Canonical String for this request should have been\n'"
                       f"{self.command}\n{self.path.split('?')[0]}\n\n{canonical_headers}\n"
                       "host;x-amz-date;x-amz-security-token\n"
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\n"
                       "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n...'\n")
                body = json.dumps({"message": msg}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/coral/")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

        self.count = 0
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


PROCESS_SCRIPT = """import json, sys
mode = sys.argv[1]
creds = {"Version": 1, "AccessKeyId": %(key)r, "SecretAccessKey": %(secret)r, "SessionToken": %(token)r,
         "Expiration": "2999-01-01T00:00:00Z"}
if mode == "ok":
    print(json.dumps(creds))
elif mode == "bad-version":
    creds["Version"] = 2
    print(json.dumps(creds))
elif mode == "garbage":
    print(json.dumps(creds)[:-20] + " trailing garbage")
elif mode == "no-secret":
    del creds["SecretAccessKey"]
    print(json.dumps(creds) + "  # token " + creds["SessionToken"])
elif mode == "fails":
    print(json.dumps(creds))
    sys.exit(3)
"""


class DriverSecretsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(coldsec_binary(), os.X_OK):
            raise unittest.SkipTest(f"{coldsec_binary()} is not built")
        cls.s = make_sentinels()
        v = {k: x[0] for k, x in cls.s.items()}
        cls.key, cls.secret, cls.token = v["access key id"], v["secret access key"], v["session token"]
        cls.pkey, cls.psecret, cls.ptoken = (v["process access key id"], v["process secret access key"],
                                             v["process session token"])
        cls.wrong = v["wrong secret access key"]
        cls.lab = Lab([fn("probe"), fn("probe-cold", environment={"APP_MODE": "x"}),
                       fn("probe-fan"), fn("probe-kill"), fn("probe-profile")],
                      credentials=[(cls.key, cls.secret), (cls.pkey, cls.psecret)]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def setUp(self):
        self.outputs = []     # (where, bytes) of everything coldsec wrote
        self.workdirs = []
        self.scratch = tempfile.mkdtemp(prefix="coldsec-secrets-")
        self.addCleanup(shutil.rmtree, self.scratch, True)

    # -- running and collecting --------------------------------------------------------

    def env(self, **extra):
        e = coldsec_env(self.lab, AWS_SESSION_TOKEN=self.token, **extra)
        self.addCleanup(shutil.rmtree, e["HOME"], True)
        return e

    def workdir(self):
        d = tempfile.mkdtemp(prefix="work-", dir=self.scratch)
        self.workdirs.append(d)
        return d

    def collect_files(self):
        """Every file under the work folders, and its name."""
        out = []
        for d in self.workdirs:
            for root, dirs, files in os.walk(d):
                for name in dirs + files:
                    p = os.path.join(root, name)
                    out.append((f"the name of {p}", p.encode()))
                    if name in files and os.path.isfile(p):
                        with open(p, "rb") as f:
                            out.append((f"file {p}", f.read()))
        return out

    def assertNoSecrets(self):
        everything = self.outputs + self.collect_files()
        leaks = find_leaks(self.s, everything)
        if leaks:
            self.fail(f"SECRETS LEAKED ({len(leaks)}):\n  " + "\n  ".join(leaks))
        return everything

    def run_cs(self, label, args, env, expect, cwd=None, timeout=120):
        """Runs coldsec (in its own work folder), records what it wrote, and
        checks the exit status (after a leak check, the louder failure)."""
        cwd = cwd or self.workdir()
        r = run_coldsec(args, env, cwd=cwd, timeout=timeout)
        cmd = "coldsec " + " ".join(args)
        self.outputs.append((f"stdout of `{cmd}`", r.stdout))
        self.outputs.append((f"stderr of `{cmd}`", r.stderr))
        if r.returncode != expect:
            self.assertNoSecrets()
            self.fail(f"{label}: `{cmd}` exited {r.returncode}, expected {expect}\nstderr:\n"
                      f"{r.stderr.decode(errors='replace')}\nstdout:\n{r.stdout[:2000].decode(errors='replace')}")
        return r

    def out_dir(self, cwd):
        return os.path.join(cwd, "out")

    # -- the scanner itself ----------------------------------------------------------------

    def test_the_scanner_finds_every_form_it_claims(self):
        token, start = self.s["session token"]
        for form, b in encodings(token).items():
            data = b"prefix-" + b + b"-suffix"
            self.assertTrue(find_leaks({"session token": (token, start)}, [("x", data)]), form)
        for k in range(3):  # base64 of a longer text, at any alignment
            data = base64.b64encode(b"x" * k + b"Authorization: " + self.secret.encode() + b" end")
            self.assertTrue(find_leaks(self.s, [("b64", data)]), k)
        cut = token[start + 100:start + 100 + 20]   # a truncated excerpt
        self.assertTrue(find_leaks(self.s, [("cut", b"...x-amz-security-token:" + cut.encode())]))
        key = self.s["access key id"][0]
        self.assertTrue(find_leaks(self.s, [("key", f"Credential={key}/2024".encode())]))
        self.assertFalse(find_leaks(self.s, [("clean", b"AKIA ASIA IQoJb3JpZ2luX2Vj nothing here")]))

    # -- every command, from the environment -----------------------------------------------

    def test_invoke_answer_function_error_log_and_dry_run(self):
        env = self.env()
        r = self.run_cs("invoke", ["invoke", "probe", "--verbose", "--payload", '{"action":"info"}'], env, 0)
        self.assertIn("env_id", json.loads(r.stdout))
        self.assertIn(b"credentials from environment", r.stderr)
        r = self.run_cs("function error", ["invoke", "probe", "--verbose", "--payload",
                                           '{"action":"raise","message":"boom"}'], env, 1)
        self.assertEqual(json.loads(r.stdout)["errorType"], "ProbeError")
        r = self.run_cs("log", ["invoke", "probe", "--verbose", "--log", "--payload",
                                '{"action":"print","text":"hello-log"}'], env, 0)
        self.assertIn(b"hello-log", r.stderr)
        self.assertIn(b"REPORT RequestId:", r.stderr)
        self.run_cs("DryRun", ["invoke", "probe", "--verbose", "--invocation-type", "DryRun"], env, 0)
        self.run_cs("Event", ["invoke", "probe", "--verbose", "--invocation-type", "Event"], env, 0)
        self.assertNoSecrets()

    def test_cold_start_verify_restore_and_dry_run(self):
        env = self.env()
        cwd = self.workdir()
        r = self.run_cs("cold-start", ["cold-start", "probe-cold", "--allow-mutation", "--verify", "2", "--verbose",
                                       "--out", self.out_dir(cwd)], env, 0, cwd=cwd)
        self.assertIn(b"verified: 2 of 2", r.stderr)
        self.assertIn(b"original variables restored", r.stderr)
        (journal,) = journals_under(self.out_dir(cwd))
        r = self.run_cs("restore (done)", ["restore", journal, "--verbose"], env, 0, cwd=cwd)
        self.assertIn(b"nothing to do", r.stderr)
        r = self.run_cs("dry run", ["cold-start", "probe-cold", "--dry-run", "--verbose", "--out",
                                    self.out_dir(cwd)], env, 0, cwd=cwd)
        self.assertIn(b"dry run: nothing was changed", r.stderr)
        self.run_cs("fanout dry run", ["fanout", "probe-cold", "--dry-run", "--verbose", "--count", "3"], env, 0)
        self.assertNoSecrets()

    def test_fanout_cold_start_and_restore_after_kill_9(self):
        env = self.env()
        cwd = self.workdir()
        r = self.run_cs("fanout", ["fanout", "probe-fan", "--cold-start", "--allow-mutation", "--count", "6",
                                   "--parallel", "3", "--verbose", "--payload", '{"action":"info","n":"{{seq}}"}',
                                   "--out", self.out_dir(cwd)], env, 0, cwd=cwd)
        (run,) = runs_under(self.out_dir(cwd))
        rows = read_jsonl(os.path.join(run, "invocations.jsonl"))
        self.assertEqual(len(rows), 6)
        self.assertTrue(all(x["state"] == "ok" for x in rows), rows)
        (journal,) = journals_under(self.out_dir(cwd))
        self.run_cs("restore (done)", ["restore", journal, "--verbose"], env, 0, cwd=cwd)
        # A run killed mid fan-out leaves the change in place; restore finishes it.
        cwd2 = self.workdir()
        p = start_coldsec(["fanout", "probe-kill", "--cold-start", "--allow-mutation", "--count", "4",
                           "--verbose", "--out", self.out_dir(cwd2)], dict(env, COLDSEC_TEST_STOP_AT="fanout"),
                          cwd=cwd2)
        stopped = wait_stopped(p)
        p.kill()
        out, err = p.communicate()
        self.outputs += [("stdout of the killed fanout", out), ("stderr of the killed fanout", err)]
        self.assertTrue(stopped, err.decode(errors="replace"))
        (journal,) = journals_under(self.out_dir(cwd2))
        self.lab.wait_updated("probe-kill")
        r = self.run_cs("restore (after kill)", ["restore", journal, "--verbose"], env, 0, cwd=cwd2)
        self.assertIn(b"original variables restored", r.stderr)
        self.assertNotIn("COLDSEC_COLD_START_NONCE",
                         self.lab.client().get_function_configuration(FunctionName="probe-kill")
                         .get("Environment", {}).get("Variables", {}))
        self.assertNoSecrets()

    def test_failures_wrong_secret_unknown_function_closed_port(self):
        bad = self.env(AWS_SECRET_ACCESS_KEY=self.wrong)
        r = self.run_cs("wrong secret", ["invoke", "probe", "--verbose"], bad, 3)
        self.assertIn(b"HTTP 403 InvalidSignatureException", r.stderr)
        cwd = self.workdir()
        r = self.run_cs("wrong secret, cold-start", ["cold-start", "probe", "--allow-mutation", "--verbose",
                                                     "--out", self.out_dir(cwd)], bad, 3, cwd=cwd)
        self.assertIn(b"GetFunctionConfiguration probe: HTTP 403", r.stderr)
        r = self.run_cs("wrong secret, fanout", ["fanout", "probe", "--count", "2", "--verbose",
                                                 "--out", self.out_dir(cwd)], bad, 3, cwd=cwd)
        (run,) = runs_under(self.out_dir(cwd))
        rows = read_jsonl(os.path.join(run, "invocations.jsonl"))
        self.assertEqual([x["error"]["http_status"] for x in rows], [403, 403])
        env = self.env()
        r = self.run_cs("unknown function", ["invoke", "no-such-fn", "--verbose"], env, 3)
        self.assertIn(b"HTTP 404 ResourceNotFoundException", r.stderr)
        r = self.run_cs("unknown function, cold-start", ["cold-start", "no-such-fn", "--allow-mutation", "--verbose",
                                                         "--out", self.out_dir(self.workdir())], env, 3)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        closed = self.env(AWS_ENDPOINT_URL_LAMBDA=f"http://127.0.0.1:{port}")
        r = self.run_cs("closed port", ["invoke", "probe", "--verbose", "--max-attempts", "2"], closed, 3)
        self.assertIn(b"NetworkError", r.stderr)
        self.assertIn(b"retrying in", r.stderr)   # --verbose traced the retry
        self.assertNoSecrets()

    def test_signature_error_that_echoes_the_canonical_request(self):
        srv = AwsStyleSignatureErrors()
        self.addCleanup(srv.close)
        env = self.env(AWS_ENDPOINT_URL_LAMBDA=srv.url)
        r = self.run_cs("AWS-style 403", ["invoke", "probe", "--verbose"], env, 3)
        self.assertIn(b"HTTP 403 InvalidSignatureException", r.stderr)
        cwd = self.workdir()
        self.run_cs("AWS-style 403, fanout", ["fanout", "probe", "--count", "1", "--verbose",
                                              "--out", self.out_dir(cwd)], env, 3, cwd=cwd)
        self.assertGreaterEqual(srv.count, 2)
        self.assertNoSecrets()

    # -- credentials from a credential_process ----------------------------------------------

    def process_env(self, mode, profile_env=True):
        env = self.env()
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(k, None)
        script = os.path.join(env["HOME"], "creds.py")
        with open(script, "w") as f:
            f.write(PROCESS_SCRIPT % {"key": self.pkey, "secret": self.psecret, "token": self.ptoken})
        with open(env["AWS_CONFIG_FILE"], "w") as f:
            f.write(f"[profile t]\ncredential_process = {sys.executable} {script} {mode}\n")
        if profile_env:
            env["AWS_PROFILE"] = "t"
        return env

    def test_credentials_from_a_credential_process(self):
        env = self.process_env("ok")
        r = self.run_cs("credential_process", ["invoke", "probe-profile", "--verbose"], env, 0)
        self.assertIn("env_id", json.loads(r.stdout))
        self.assertIn(b"credential_process [profile t]", r.stderr)
        cwd = self.workdir()
        r = self.run_cs("credential_process, cold-start", ["cold-start", "probe-profile", "--allow-mutation",
                                                           "--verbose", "--out", self.out_dir(cwd)], env, 0, cwd=cwd)
        self.assertIn(b"original variables restored", r.stderr)
        (journal,) = journals_under(self.out_dir(cwd))
        self.run_cs("credential_process, restore", ["restore", journal, "--verbose"], env, 0, cwd=cwd)
        r = self.run_cs("--profile", ["invoke", "probe-profile", "--verbose", "--profile", "t"],
                        self.process_env("ok", profile_env=False), 0)
        self.assertIn(b"credential_process [profile t]", r.stderr)
        # A broken process: a usage error that does not quote what it printed.
        for mode in ("bad-version", "garbage", "no-secret", "fails"):
            with self.subTest(mode=mode):
                r = self.run_cs(f"credential_process {mode}", ["invoke", "probe-profile", "--verbose"],
                                self.process_env(mode), 2)
                self.assertIn(b"credential_process", r.stderr)
        self.assertNoSecrets()


if __name__ == "__main__":
    unittest.main()
