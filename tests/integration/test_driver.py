"""The coldsec driver against the lab: the client (names, ARNs, errors), the
cold-start forcer (guard rails, byte-identical restore, kill -9 at every
step then `coldsec restore`, someone else's change never overwritten) and
the invocation engine (fan-out, throttling absorbed, seeded plans)."""
import json
import os
import signal
import unittest

from driverfixture import (coldsec_env, comparable_config, journals_under, read_jsonl, run_coldsec,
                           runs_under, start_coldsec, wait_exit, wait_stopped)
from labfixture import Lab, fn, tmp_dir, wait_for


def out_dir():
    return tmp_dir("coldsec-out-")


class DriverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([
            fn("probe", environment={"APP_MODE": "staging", "DB_HOST": "db.internal"}),
            fn("probe-empty"),
            fn("orders-prod"),
            fn("throttled", reserved_concurrency=1),
            fn("big-env", environment={f"V{i:03d}": "x" * 28 for i in range(118)}),
        ], update_delay_ms=400).start()
        cls.env = coldsec_env(cls.lab)

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def config(self, name):
        return self.lab.client().get_function_configuration(FunctionName=name)

    def coldsec(self, *args, **kw):
        return run_coldsec(args, kw.pop("env", self.env), **kw)

    # -- the client ---------------------------------------------------------

    def test_help_for_every_command(self):
        r = self.coldsec("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("invoke", "cold-start", "restore", "fanout", "describe"):
            self.assertIn(cmd.encode(), r.stdout)
            h = self.coldsec(cmd, "--help")
            self.assertEqual(h.returncode, 0, h.stderr)
            self.assertIn(b"usage: coldsec " + cmd.encode(), h.stdout)
        r = self.coldsec("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b'unknown command "frobnicate"', r.stderr)
        self.assertEqual(self.coldsec().returncode, 2)

    def test_invoke_by_name_full_arn_partial_arn_and_qualifier(self):
        arn = self.lab.arn("probe")
        for name, extra in (("probe", []), (arn, []), ("000000000000:function:probe", []),
                            ("probe", ["--qualifier", "$LATEST"]), (arn + ":$LATEST", [])):
            r = self.coldsec("invoke", name, "--payload", '{"action":"info","token":"t1"}', *extra)
            self.assertEqual(r.returncode, 0, (name, r.stderr))
            body = json.loads(r.stdout)
            self.assertIn("env_id", body)

    def test_invoke_payload_from_file_and_log_tail(self):
        path = os.path.join(tmp_dir("coldsec-payload-", self), "payload.json")
        with open(path, "w") as f:
            json.dump({"action": "print", "text": "hello-from-file"}, f)
        r = self.coldsec("invoke", "probe", "--payload", "@" + path, "--log")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"hello-from-file", r.stderr)
        self.assertRegex(r.stderr.decode(), r"REPORT RequestId: \S+\tDuration: [0-9.]+ ms")

    def test_invoke_function_error_exits_1_with_the_error_payload(self):
        r = self.coldsec("invoke", "probe", "--payload", '{"action":"raise","message":"boom-42"}')
        self.assertEqual(r.returncode, 1, r.stderr)
        body = json.loads(r.stdout)
        self.assertEqual(body["errorType"], "ProbeError")
        self.assertIn(b"function error (Unhandled)", r.stderr)

    def test_errors_name_operation_function_code_and_message(self):
        r = self.coldsec("invoke", "no-such-function")
        self.assertEqual(r.returncode, 3)
        err = r.stderr.decode()
        self.assertIn("Invoke no-such-function: HTTP 404 ResourceNotFoundException: Function not found", err)
        bad = dict(self.env, AWS_SECRET_ACCESS_KEY="wrong-secret")
        r = self.coldsec("invoke", "probe", env=bad)
        self.assertEqual(r.returncode, 3)
        self.assertIn("HTTP 403 InvalidSignatureException", r.stderr.decode())
        self.assertNotIn(b"wrong-secret", r.stderr + r.stdout)
        r = self.coldsec("invoke", "probe", "--payload", "@/nonexistent/payload.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"/nonexistent/payload.json: cannot open", r.stderr)
        r = self.coldsec("invoke", "probe", "--timeout", "zero")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b'--timeout: expected whole seconds', r.stderr)

    def test_describe_uses_get_function_and_concurrency_and_masks_values(self):
        r = self.coldsec("describe", "probe")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        cfg = self.config("probe")
        self.assertEqual(d["FunctionArn"], cfg["FunctionArn"])
        self.assertEqual(d["RevisionId"], cfg["RevisionId"])
        self.assertEqual(sorted(d["Variables"]), sorted(cfg["Environment"]["Variables"]))
        self.assertEqual(d["Variables"]["APP_MODE"], "<7 bytes, not shown>")
        self.assertNotIn(b"staging", r.stdout)
        self.assertIsNone(d["ReservedConcurrentExecutions"])
        r = self.coldsec("describe", "throttled")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["ReservedConcurrentExecutions"], 1)
        r = self.coldsec("describe", "nope")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"GetFunction nope: HTTP 404 ResourceNotFoundException", r.stderr)

    def test_missing_credentials_and_region_are_usage_errors(self):
        env = dict(self.env)
        del env["AWS_SECRET_ACCESS_KEY"]
        r = self.coldsec("invoke", "probe", env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"AWS_SECRET_ACCESS_KEY", r.stderr)
        env = dict(self.env)
        del env["AWS_REGION"]
        r = self.coldsec("invoke", "probe", env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"region", r.stderr.lower())

    # -- the cold-start forcer ---------------------------------------------

    def warm_envs(self, name, n):
        """Makes n environments of name warm at once; returns their env_ids."""
        res = self.lab.invoke_parallel(name, [{"action": "sleep", "seconds": 0.5}] * n)
        ids = {r.payload["env_id"] for r in res}
        self.assertEqual(len(ids), n)
        return ids

    def test_cold_start_retires_every_warm_environment_and_restores_byte_identical(self):
        before = comparable_config(self.config("probe"))
        rev_before = self.config("probe")["RevisionId"]
        old = self.warm_envs("probe", 4)
        out = out_dir()
        r = self.coldsec("cold-start", "probe", "--allow-mutation", "--verify", "3", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertIn("verified: 3 of 3 invocations after the change were cold", err)
        self.assertIn("original variables restored", err)
        self.assertNotIn("staging", err)     # values are never printed, only names
        self.assertIn("APP_MODE", err)
        after = self.config("probe")
        self.assertEqual(comparable_config(after), before)
        self.assertNotEqual(after["RevisionId"], rev_before)
        # Every old environment is gone: the next invocations are cold, in new environments.
        res = self.lab.invoke_parallel("probe", [{"action": "sleep", "seconds": 0.3}] * 4)
        self.assertTrue(all(x.cold for x in res), [x.report for x in res])
        self.assertFalse({x.payload["env_id"] for x in res} & old)
        (journal,) = journals_under(out)
        with open(journal) as f:
            j = json.load(f)
        self.assertEqual(j["state"], "restored")
        self.assertEqual(oct(os.stat(journal).st_mode & 0o777), "0o600")
        self.assertNotIn("staging", json.dumps(j))  # original values never stored
        self.assertNotIn("db.internal", json.dumps(j))
        self.assertEqual(sorted(j["original"]["variable_names"]),
                         sorted(self.lab.env_of("probe").keys()))

    def test_cold_start_by_full_and_partial_arn(self):
        before = comparable_config(self.config("probe-empty"))
        for name in (self.lab.arn("probe-empty"), "000000000000:function:probe-empty"):
            with self.subTest(name=name):
                r = self.coldsec("cold-start", name, "--allow-mutation", "--out", out_dir())
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(b"verified: 1 of 1", r.stderr)
                self.assertEqual(comparable_config(self.config("probe-empty")), before)
        r = self.coldsec("cold-start", self.lab.arn("probe-empty") + ":$LATEST", "--allow-mutation",
                         "--out", out_dir())
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"reaches only $LATEST", r.stderr)

    def test_cold_start_on_a_function_without_variables(self):
        before = comparable_config(self.config("probe-empty"))
        r = self.coldsec("cold-start", "probe-empty", "--allow-mutation", "--out", out_dir())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(comparable_config(self.config("probe-empty")), before)

    def test_guard_rails_refuse_without_opt_in_and_on_protected_names(self):
        rev = self.config("probe")["RevisionId"]
        out = out_dir()
        r = self.coldsec("cold-start", "probe", "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--allow-mutation", r.stderr)
        r = self.coldsec("cold-start", "orders-prod", "--allow-mutation", "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"protected pattern", r.stderr)
        r = self.coldsec("cold-start", "probe", "--allow-mutation", "--protect", "pro*", "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"protected pattern", r.stderr)
        r = self.coldsec("cold-start", "probe:live", "--allow-mutation", "--out", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"reaches only $LATEST", r.stderr)
        self.assertEqual(self.config("probe")["RevisionId"], rev)
        self.assertEqual(journals_under(out), [])
        rev = self.config("orders-prod")["RevisionId"]
        r = self.coldsec("cold-start", "orders-prod", "--allow-mutation", "--allow-protected", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(self.config("orders-prod")["RevisionId"], rev)

    def test_dry_run_prints_the_plan_and_changes_nothing(self):
        rev = self.config("probe")["RevisionId"]
        out = out_dir()
        r = self.coldsec("cold-start", "probe", "--dry-run", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertIn("plan for probe", err)
        self.assertIn("COLDSEC_COLD_START_NONCE", err)
        self.assertIn("dry run: nothing was changed", err)
        self.assertEqual(self.config("probe")["RevisionId"], rev)
        self.assertEqual(journals_under(out), [])

    def test_refuses_when_the_new_environment_would_pass_4kb(self):
        rev = self.config("big-env")["RevisionId"]
        out = out_dir()
        r = self.coldsec("cold-start", "big-env", "--allow-mutation", "--out", out)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"Lambda allows 4096. Nothing was changed", r.stderr)
        self.assertEqual(self.config("big-env")["RevisionId"], rev)
        self.assertEqual(journals_under(out), [])

    def stopped_at(self, step, args):
        """Starts coldsec with args plus --out, lets it stop itself at step
        (COLDSEC_TEST_STOP_AT) and returns (process, out folder)."""
        out = out_dir()
        p = start_coldsec(list(args) + ["--out", out], dict(self.env, COLDSEC_TEST_STOP_AT=step))
        if not wait_stopped(p):
            rc, _o, e = wait_exit(p)
            self.fail(f"coldsec never reached {step}: exit {rc}\n{e}")
        return p, out

    def signalled_at(self, step, args, sig):
        """stopped_at, then sig and SIGCONT; returns (exit status, stdout, stderr, out folder)."""
        p, out = self.stopped_at(step, args)
        os.kill(p.pid, sig)
        os.kill(p.pid, signal.SIGCONT)
        return wait_exit(p) + (out,)

    def killed_at(self, step):
        """Runs a cold-start fan-out that stops itself at step, kill -9s it,
        and returns the journal it left (or None)."""
        p, out = self.stopped_at(step, ["fanout", "probe", "--cold-start", "--allow-mutation", "--count", "6",
                                        "--parallel", "3", "--payload", '{"action":"sleep","seconds":0.05}'])
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
        js = journals_under(out)
        return js[0] if js else None

    def test_kill_9_at_every_step_then_restore_gives_back_the_original(self):
        original = comparable_config(self.config("probe"))
        for step in ("journal-written", "waiting", "fanout", "before-restore"):
            with self.subTest(step=step):
                journal = self.killed_at(step)
                self.assertIsNotNone(journal, step)
                if step != "journal-written":
                    vars_now = self.config("probe")["Environment"]["Variables"]
                    self.assertIn("COLDSEC_COLD_START_NONCE", vars_now)
                self.lab.wait_updated("probe")
                r = self.coldsec("restore", journal)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(comparable_config(self.config("probe")), original, step)
                with open(journal) as f:
                    self.assertEqual(json.load(f)["state"], "restored")
                again = self.coldsec("restore", journal)
                self.assertEqual(again.returncode, 0, again.stderr)
                self.assertIn(b"nothing to do", again.stderr)

    def test_someone_elses_change_is_never_overwritten(self):
        p, out = self.stopped_at("fanout", ["fanout", "probe-empty", "--cold-start", "--allow-mutation",
                                            "--count", "4"])
        client = self.lab.client()
        current = client.get_function_configuration(FunctionName="probe-empty")["Environment"]["Variables"]
        theirs = dict(current, OPERATOR_CHANGE="yes")
        self.lab.wait_updated("probe-empty")
        client.update_function_configuration(FunctionName="probe-empty", Environment={"Variables": theirs})
        os.kill(p.pid, signal.SIGCONT)
        rc, _out, err = wait_exit(p)
        self.assertEqual(rc, 4, err)
        self.assertIn("CONFLICT", err)
        self.assertIn("did NOT overwrite", err)
        (journal,) = journals_under(out)
        self.assertIn(journal, err)
        self.lab.wait_updated("probe-empty")
        self.assertEqual(self.config("probe-empty")["Environment"]["Variables"], theirs)
        r = self.coldsec("restore", journal)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(self.config("probe-empty")["Environment"]["Variables"], theirs)
        # Put the function back for the other tests.
        client.update_function_configuration(FunctionName="probe-empty",
                                             Environment={"Variables": self.lab.env_of("probe-empty")})
        self.lab.wait_updated("probe-empty")

    def test_sigterm_during_the_fan_out_restores_before_exit(self):
        original = comparable_config(self.config("probe"))
        rc, stdout, err, _out = self.signalled_at(
            "fanout", ["fanout", "probe", "--cold-start", "--allow-mutation", "--count", "50", "--parallel", "2",
                       "--payload", '{"action":"sleep","seconds":0.05}'], signal.SIGTERM)
        self.assertEqual(rc, 3, err)
        self.assertIn("cancelled", stdout)
        self.assertIn("original variables restored", err)
        self.assertEqual(comparable_config(self.config("probe")), original)

    def test_sigint_while_waiting_for_the_update_restores_and_exits_3(self):
        original = comparable_config(self.config("probe"))
        rc, _stdout, err, out = self.signalled_at("waiting", ["cold-start", "probe", "--allow-mutation"],
                                                  signal.SIGINT)
        self.assertEqual(rc, 3, err)
        self.assertIn("original variables restored", err)
        self.assertIn("interrupted", err)
        self.assertEqual(comparable_config(self.config("probe")), original)
        (journal,) = journals_under(out)
        with open(journal) as f:
            self.assertEqual(json.load(f)["state"], "restored")

    # -- the invocation engine ---------------------------------------------

    def test_fanout_reports_every_invocation_cold_and_warm(self):
        out = out_dir()
        r = self.coldsec("fanout", "probe", "--cold-start", "--allow-mutation", "--count", "30",
                         "--parallel", "5", "--payload", '{"action":"sleep","seconds":0.02}', "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        (run,) = runs_under(out)
        rows = read_jsonl(os.path.join(run, "invocations.jsonl"))
        self.assertEqual(sorted(x["seq"] for x in rows), list(range(30)))
        self.assertTrue(all(x["state"] == "ok" and x["status"] == 200 for x in rows))
        cold = [x for x in rows if x["cold"]]
        self.assertGreaterEqual(len(cold), 1)
        self.assertLessEqual(len(cold), 5)
        for x in rows:
            self.assertGreater(x["report"]["duration_ms"], 0)
            self.assertEqual(x["report"]["memory_size_mb"], 128)
            self.assertEqual("init_ms" in x["report"], x["cold"])
        self.assertIn(f"cold {len(cold)}, warm {30 - len(cold)}".encode(), r.stdout)

    def test_throttling_is_absorbed_and_the_run_completes(self):
        out = out_dir()
        r = self.coldsec("fanout", "throttled", "--count", "12", "--parallel", "6",
                         "--payload", '{"action":"sleep","seconds":0.1}', "--out", out, timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        (run,) = runs_under(out)
        rows = read_jsonl(os.path.join(run, "invocations.jsonl"))
        self.assertEqual(len(rows), 12)
        self.assertTrue(all(x["state"] == "ok" for x in rows), rows)
        self.assertTrue(any(x["attempts"] > 1 for x in rows), "the lab never throttled")
        self.assertRegex(r.stdout.decode(), r"throttled [1-9]")

    def test_plans_are_deterministic_from_the_seed_and_canaries_are_fresh(self):
        def plan(seed):
            out = out_dir()
            r = self.coldsec("fanout", "probe", "--count", "20", "--users", "4", "--seed", str(seed),
                             "--payload", '{"action":"echo_len","pad":"{{canary.x}}-{{user.id}}"}', "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            (run,) = runs_under(out)
            rows = sorted(read_jsonl(os.path.join(run, "invocations.jsonl")), key=lambda x: x["seq"])
            return [x["user"] for x in rows], [x["canary"] for x in rows]
        u1, c1 = plan(7)
        u2, c2 = plan(7)
        u3, _ = plan(8)
        self.assertEqual(u1, u2)
        self.assertNotEqual(u1, u3)
        self.assertEqual(sorted(u1), sorted([0, 1, 2, 3] * 5))
        self.assertFalse(set(c1) & set(c2))
        self.assertEqual(len(set(c1)), 20)
        for c in c1:
            self.assertRegex(c, r"^CSC[0-9a-f]{24}$")


if __name__ == "__main__":
    unittest.main()
