"""coldsec-lab's Lambda REST API through boto3 (issue 2, "The lab" and the
first "Done means" bullet): Invoke in its three types and naming forms, the
log tail, Get/UpdateFunctionConfiguration with the function_updated waiter,
RevisionId (412) and InProgress (409), GetFunction, ListFunctions, the
concurrency API and its throttle (429), unknown functions (404) and the full
logs kept under --log-dir.
"""
import concurrent.futures
import re
import time
import unittest

from botocore.exceptions import ClientError

import labfixture as lf
from labfixture import Lab, fn

EXPECTED_THROTTLE_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"


def _invoke_retrying_throttle(lab, name, event, timeout=10):
    """Invokes, retrying while the lab answers 429 (a function with
    reserved concurrency 1 that is busy with an Event invocation)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return lab.invoke(name, event, tail=False)
        except ClientError as e:
            if e.response["Error"]["Code"] != "TooManyRequestsException" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class LabApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([
            fn("api-probe", environment={"GREETING": "hi"}),
            fn("api-first", environment={"GREETING": "first"}),
            fn("api-events", reserved_concurrency=1),
            fn("api-update", timeout_s=3, description="before"),
            fn("api-midupdate", timeout_s=10),
            fn("api-rev"),
            fn("api-conflict"),
            fn("api-inprogress"),
            fn("api-conc"),
            fn("api-rc1", reserved_concurrency=1, timeout_s=10),
            fn("api-logs"),
            fn("api-badenv", environment={"KEEP": "me"}),
        ], update_delay_ms=1000).start()
        cls.c = cls.lab.client()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    # -- Invoke ------------------------------------------------------------

    def test_invoke_returns_payload_and_log_tail(self):
        lab = self.lab
        first = lab.invoke("api-first", {"action": "env", "names": ["GREETING"], "token": "t1"})
        p = lf.assert_ok(self, first)
        self.assertEqual(p["env"]["GREETING"], "first")
        self.assertEqual(p["count"], 1)
        self.assertEqual(first.version, "$LATEST")
        rid = lf.assert_log_shape(self, first, memory_mb=128, cold=True)
        self.assertEqual(p["request_id"], rid, "context.aws_request_id differs from the log's RequestId")
        self.assertEqual(first.request_id, rid, "x-amzn-RequestId differs from the log's RequestId")
        self.assertIn(f"PROBE-INIT env={p['env_id']}", first.log,
                      "the first invocation's tail lacks the environment's init output")
        self.assertGreater(first.init_duration, 0.0)

        warm = lab.invoke("api-first", {"action": "print", "text": "hello-from-warm", "token": "t2"})
        q = lf.assert_ok(self, warm)
        rid2 = lf.assert_log_shape(self, warm, memory_mb=128, cold=False)
        self.assertNotEqual(rid2, rid)
        self.assertEqual(q["env_id"], p["env_id"])
        self.assertEqual(q["count"], 2)
        self.assertEqual(q["prev_token"], "t1")
        self.assertIn("hello-from-warm", warm.log)
        self.assertNotIn("PROBE-INIT", warm.log, "a warm invocation's tail holds init output")
        self.assertNotIn(rid, warm.log, "a warm invocation's tail holds the previous invocation")

    def test_invoke_without_log_type_has_no_log_result(self):
        inv = self.lab.invoke("api-probe", {"action": "info"}, tail=False)
        lf.assert_ok(self, inv)
        self.assertIsNone(inv.log)
        self.assertEqual(inv.version, "$LATEST")

    def test_invoke_by_full_arn_partial_arn_and_qualifier(self):
        lab = self.lab
        arn = lab.arn("api-probe")
        base = lf.assert_ok(self, lab.invoke("api-probe", {"action": "info"}))
        forms = [
            dict(name=arn),
            dict(name=f"{lab.account_id}:function:api-probe"),
            dict(name="api-probe", qualifier="$LATEST"),
            dict(name=arn, qualifier="$LATEST"),
            dict(name=f"{lab.account_id}:function:api-probe", qualifier="$LATEST"),
        ]
        for form in forms:
            with self.subTest(**form):
                inv = lab.invoke(form["name"], {"action": "context"}, qualifier=form.get("qualifier"))
                p = lf.assert_ok(self, inv)
                self.assertEqual(inv.version, "$LATEST")
                self.assertEqual(p["function_name"], "api-probe")
                lf.assert_log_shape(self, inv)
                # every form reaches the same function: its environment pool
                self.assertEqual(p["env_id"], base["env_id"])

    def test_invoke_with_qualified_names(self):
        lab = self.lab
        for name in ("api-probe:$LATEST", lab.arn("api-probe") + ":$LATEST"):
            with self.subTest(name=name):
                inv = lab.invoke(name, {"action": "context"})
                p = lf.assert_ok(self, inv)
                self.assertEqual(p["function_name"], "api-probe")
                self.assertEqual(inv.version, "$LATEST")

    def test_event_invocation_is_queued_and_runs(self):
        lab = self.lab
        token = lf.unique("event")
        inv = lab.invoke("api-events", {"action": "tmp_write", "name": "event-marker", "data": token},
                         invocation_type="Event", tail=False)
        self.assertEqual(inv.status, 202)
        self.assertEqual(inv.body, b"")
        self.assertIsNone(inv.function_error)

        def ran():
            r = _invoke_retrying_throttle(lab, "api-events", {"action": "tmp_read", "name": "event-marker"})
            lf.assert_ok(self, r)
            return r.payload["data"] == token

        self.assertTrue(lf.wait_for(ran, 15, 0.1),
                        "the Event invocation never ran (its marker never appeared in /tmp)")

    def test_dry_run_answers_204_and_does_not_run(self):
        lab = self.lab
        inv = lab.invoke("api-events", {"action": "tmp_write", "name": "dryrun-marker", "data": "x"},
                         invocation_type="DryRun", tail=False)
        self.assertEqual(inv.status, 204)
        self.assertEqual(inv.body, b"")
        self.assertIsNone(inv.function_error)
        r = _invoke_retrying_throttle(lab, "api-events", {"action": "tmp_read", "name": "dryrun-marker"})
        self.assertIsNone(lf.assert_ok(self, r)["data"], "DryRun ran the function")

    # -- configuration -------------------------------------------------------

    def test_get_function_configuration(self):
        lab = self.lab
        for name in ("api-probe", lab.arn("api-probe")):
            with self.subTest(name=name):
                c = self.c.get_function_configuration(FunctionName=name)
                self.assertEqual(c["ResponseMetadata"]["HTTPStatusCode"], 200)
                self.assertEqual(c["FunctionName"], "api-probe")
                self.assertEqual(c["FunctionArn"], lab.arn("api-probe"))
                self.assertEqual(c["Runtime"], "python3.11")
                self.assertEqual(c["Handler"], "handler.handler")
                self.assertEqual(c["MemorySize"], 128)
                self.assertEqual(c["Timeout"], 3)
                self.assertEqual(c["Version"], "$LATEST")
                self.assertEqual(c["Environment"]["Variables"], lab.env_of("api-probe"))
                self.assertEqual(c["State"], "Active")
                self.assertEqual(c["LastUpdateStatus"], "Successful")
                self.assertIsInstance(c["RevisionId"], str)
                self.assertTrue(c["RevisionId"])

    def test_list_functions(self):
        lab = self.lab
        seen = {}
        for page in self.c.get_paginator("list_functions").paginate():
            self.assertEqual(page["ResponseMetadata"]["HTTPStatusCode"], 200)
            for f in page["Functions"]:
                self.assertNotIn(f["FunctionName"], seen, "ListFunctions listed a function twice")
                seen[f["FunctionName"]] = f
        self.assertEqual(set(seen), set(lab.functions))
        for name, f in seen.items():
            with self.subTest(name=name):
                want = lab.functions[name]
                self.assertEqual(f["FunctionArn"], lab.arn(name))
                self.assertEqual(f["Runtime"], want["runtime"])
                self.assertEqual(f["Handler"], want["handler"])
                if name != "api-update":  # another test changes its memory size and timeout
                    self.assertEqual(f["Timeout"], want["timeout_s"])
                    self.assertEqual(f["MemorySize"], want["memory_mb"])

    def test_get_function(self):
        lab = self.lab
        g = self.c.get_function(FunctionName="api-rc1")
        conf = self.c.get_function_configuration(FunctionName="api-rc1")
        cfg = g["Configuration"]
        for k in ("FunctionName", "FunctionArn", "Runtime", "Handler", "MemorySize", "Timeout",
                  "RevisionId", "Version", "State", "LastUpdateStatus"):
            self.assertEqual(cfg[k], conf[k], k)
        self.assertEqual(cfg["FunctionArn"], lab.arn("api-rc1"))
        self.assertEqual(g["Concurrency"]["ReservedConcurrentExecutions"], 1)
        g2 = self.c.get_function(FunctionName="api-probe")
        self.assertEqual(g2["Configuration"]["FunctionName"], "api-probe")
        self.assertNotIn("ReservedConcurrentExecutions", g2.get("Concurrency", {}))

    def test_unknown_function_is_404_resource_not_found(self):
        lab = self.lab
        missing = "no-such-function"
        want_msg = f"Function not found: {lab.arn(missing)}"
        calls = [
            ("invoke", lambda: self.c.invoke(FunctionName=missing, Payload=b"{}")),
            ("invoke by arn", lambda: self.c.invoke(FunctionName=lab.arn(missing), Payload=b"{}")),
            ("get_function_configuration", lambda: self.c.get_function_configuration(FunctionName=missing)),
            ("get_function", lambda: self.c.get_function(FunctionName=missing)),
            ("update_function_configuration",
             lambda: self.c.update_function_configuration(FunctionName=missing, Description="x")),
            ("get_function_concurrency", lambda: self.c.get_function_concurrency(FunctionName=missing)),
            ("put_function_concurrency",
             lambda: self.c.put_function_concurrency(FunctionName=missing, ReservedConcurrentExecutions=1)),
            ("delete_function_concurrency", lambda: self.c.delete_function_concurrency(FunctionName=missing)),
        ]
        for what, call in calls:
            with self.subTest(call=what):
                with self.assertRaises(ClientError) as cm:
                    call()
                err = lf.assert_client_error(self, cm, "ResourceNotFoundException", 404)
                self.assertEqual(err["Error"]["Message"], want_msg)
        raw = lab.raw("POST", lab.invocations_path(missing), b"{}")
        self.assertEqual(raw.status, 404)
        self.assertEqual(raw.error_type, "ResourceNotFoundException")
        self.assertTrue(raw.header("content-type").startswith("application/json"), raw)
        body = raw.json()
        self.assertEqual(body.get("Type"), "User", body)
        self.assertEqual(raw.message, want_msg)

    def test_update_function_configuration_waiter_then_cold_start(self):
        lab, c = self.lab, self.c
        first = lab.invoke("api-update", {"action": "info"})
        p1 = lf.assert_ok(self, first)
        self.assertTrue(first.cold)
        warm = lab.invoke("api-update", {"action": "info"})
        self.assertFalse(warm.cold)
        self.assertEqual(lf.assert_ok(self, warm)["env_id"], p1["env_id"])

        before = c.get_function_configuration(FunctionName="api-update")
        token = lf.unique("upd")
        env = lab.env_of("api-update", UPDATED=token)
        resp = c.update_function_configuration(
            FunctionName="api-update", Environment={"Variables": env}, MemorySize=256, Timeout=5,
            Description="after")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(resp["LastUpdateStatus"], "InProgress")
        self.assertNotEqual(resp["RevisionId"], before["RevisionId"])
        self.assertEqual(resp["MemorySize"], 256)
        self.assertEqual(resp["Timeout"], 5)
        self.assertEqual(resp["Description"], "after")
        self.assertEqual(resp["Environment"]["Variables"], env)

        lab.wait_updated("api-update")
        after = c.get_function_configuration(FunctionName="api-update")
        self.assertEqual(after["LastUpdateStatus"], "Successful")
        self.assertNotEqual(after["RevisionId"], before["RevisionId"])
        self.assertEqual(after["MemorySize"], 256)
        self.assertEqual(after["Timeout"], 5)
        self.assertEqual(after["Description"], "after")
        self.assertEqual(after["Environment"]["Variables"], env)

        inv = lab.invoke("api-update", {"action": "env",
                                         "names": ["UPDATED", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]})
        p = lf.assert_ok(self, inv)
        lf.assert_log_shape(self, inv, memory_mb=256, cold=True)
        self.assertNotEqual(p["env_id"], p1["env_id"])
        self.assertEqual(p["count"], 1)
        self.assertEqual(p["env"]["UPDATED"], token)
        self.assertEqual(p["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256")
        ctx = lf.assert_ok(self, lab.invoke("api-update", {"action": "context"}))
        self.assertEqual(ctx["memory_limit_in_mb"], "256")
        self.assertGreater(ctx["remaining_ms"], 3000, "the new Timeout (5 s) is not applied")
        self.assertLessEqual(ctx["remaining_ms"], 5000)

    def test_update_refuses_bad_environments_and_changes_nothing(self):
        before = self.c.get_function_configuration(FunctionName="api-badenv")
        bad = [
            ({"AWS_REGION": "eu-west-1"}, "Reserved keys used in this request: AWS_REGION"),
            ({"1ABC": "x"}, "[a-zA-Z]([a-zA-Z0-9_])+"),
            ({"BIG": "x" * 4094}, "exceeded the 4KB limit"),
        ]
        for variables, message in bad:
            with self.subTest(variables=list(variables)):
                with self.assertRaises(self.c.exceptions.InvalidParameterValueException) as cm:
                    self.c.update_function_configuration(
                        FunctionName="api-badenv", Environment={"Variables": variables})
                self.assertIn(message, str(cm.exception))
        after = self.c.get_function_configuration(FunctionName="api-badenv")
        self.assertEqual(after["RevisionId"], before["RevisionId"])
        self.assertEqual(after["Environment"], before["Environment"])

    def test_update_lets_the_current_invocation_finish(self):
        lab = self.lab
        p0 = lf.assert_ok(self, lab.invoke("api-midupdate", {"action": "info"}))
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            running = ex.submit(lab.invoke, "api-midupdate", {"action": "sleep", "seconds": 2})
            time.sleep(0.5)  # the warm environment has taken the 2 s invocation
            self.c.update_function_configuration(
                FunctionName="api-midupdate",
                Environment={"Variables": lab.env_of("api-midupdate", ROUND="2")})
            inv = running.result()
        p = lf.assert_ok(self, inv)
        self.assertEqual(p["slept"], 2.0)
        self.assertEqual(p["env_id"], p0["env_id"])
        lab.wait_updated("api-midupdate")
        nxt = lab.invoke("api-midupdate", {"action": "info"})
        self.assertTrue(nxt.cold)
        self.assertNotEqual(lf.assert_ok(self, nxt)["env_id"], p0["env_id"])

    def test_update_with_stale_revision_id_is_412(self):
        lab, c = self.lab, self.c
        rev0 = c.get_function_configuration(FunctionName="api-rev")["RevisionId"]
        r = c.update_function_configuration(FunctionName="api-rev", Description="one", RevisionId=rev0)
        self.assertNotEqual(r["RevisionId"], rev0)
        lab.wait_updated("api-rev")
        with self.assertRaises(ClientError) as cm:
            c.update_function_configuration(FunctionName="api-rev", Description="two", RevisionId=rev0)
        err = lf.assert_client_error(self, cm, "PreconditionFailedException", 412)
        self.assertTrue(err["Error"]["Message"].startswith(
            "The Revision Id provided does not match the latest Revision Id"), err)
        now = c.get_function_configuration(FunctionName="api-rev")
        self.assertEqual(now["Description"], "one", "the refused update was applied")
        r3 = c.update_function_configuration(FunctionName="api-rev", Description="three",
                                             RevisionId=now["RevisionId"])
        self.assertEqual(r3["Description"], "three")
        lab.wait_updated("api-rev")

    def test_update_while_in_progress_is_409(self):
        lab, c = self.lab, self.c
        c.update_function_configuration(FunctionName="api-conflict", Description="first")
        # update_delay_ms is 1000: the second request comes well within it
        with self.assertRaises(ClientError) as cm:
            c.update_function_configuration(FunctionName="api-conflict", Description="second")
        err = lf.assert_client_error(self, cm, "ResourceConflictException", 409)
        self.assertIn(lab.arn("api-conflict"), err["Error"]["Message"])
        lab.wait_updated("api-conflict")
        now = c.get_function_configuration(FunctionName="api-conflict")
        self.assertEqual(now["Description"], "first")
        c.update_function_configuration(FunctionName="api-conflict", Description="third")
        lab.wait_updated("api-conflict")
        self.assertEqual(c.get_function_configuration(FunctionName="api-conflict")["Description"], "third")

    def test_last_update_status_in_progress_for_the_update_delay(self):
        lab, c = self.lab, self.c
        t0 = time.monotonic()
        r = c.update_function_configuration(FunctionName="api-inprogress", Description="x")
        self.assertEqual(r["LastUpdateStatus"], "InProgress")
        self.assertEqual(c.get_function_configuration(FunctionName="api-inprogress")["LastUpdateStatus"],
                         "InProgress")

        def done():
            return c.get_function_configuration(FunctionName="api-inprogress")["LastUpdateStatus"] == "Successful"

        self.assertTrue(lf.wait_for(done, 10, 0.05), "LastUpdateStatus never became Successful")
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.9, "InProgress ended before update_delay_ms (1000)")
        self.assertLess(took, 5.0)

    # -- concurrency -----------------------------------------------------------

    def _assert_throttled(self, call):
        with self.assertRaises(ClientError) as cm:
            call()
        err = lf.assert_client_error(self, cm, "TooManyRequestsException", 429)
        self.assertEqual(err.get("Reason"), EXPECTED_THROTTLE_REASON, err)
        return err

    def test_put_get_delete_function_concurrency(self):
        lab, c = self.lab, self.c
        g = c.get_function_concurrency(FunctionName="api-conc")
        self.assertNotIn("ReservedConcurrentExecutions", g)
        r = c.put_function_concurrency(FunctionName="api-conc", ReservedConcurrentExecutions=0)
        self.assertEqual(r["ReservedConcurrentExecutions"], 0)
        self.assertEqual(c.get_function_concurrency(FunctionName="api-conc")["ReservedConcurrentExecutions"], 0)
        self._assert_throttled(lambda: lab.invoke("api-conc", {"action": "info"}))
        raw = lab.raw("POST", lab.invocations_path("api-conc"), b"{}")
        self.assertEqual(raw.status, 429, raw)
        self.assertEqual(raw.error_type, "TooManyRequestsException")
        self.assertEqual(raw.json().get("Reason"), EXPECTED_THROTTLE_REASON, raw)
        self.assertIsNotNone(raw.header("retry-after"), f"429 without Retry-After: {raw!r}")
        self.assertTrue(raw.header("retry-after").isdigit(), raw)

        r = c.put_function_concurrency(FunctionName="api-conc", ReservedConcurrentExecutions=3)
        self.assertEqual(r["ReservedConcurrentExecutions"], 3)
        self.assertEqual(c.get_function(FunctionName="api-conc")["Concurrency"]["ReservedConcurrentExecutions"], 3)
        lf.assert_ok(self, lab.invoke("api-conc", {"action": "info"}))

        d = c.delete_function_concurrency(FunctionName="api-conc")
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertNotIn("ReservedConcurrentExecutions", c.get_function_concurrency(FunctionName="api-conc"))
        lf.assert_ok(self, lab.invoke("api-conc", {"action": "info"}))

    def test_invocations_beyond_reserved_concurrency_are_429(self):
        lab = self.lab
        throttles = []
        with concurrent.futures.ThreadPoolExecutor(1) as ex:
            holder = ex.submit(lab.invoke, "api-rc1", {"action": "sleep", "seconds": 2}, None, False)
            deadline = time.monotonic() + 8
            while not holder.done() and time.monotonic() < deadline and not throttles:
                try:
                    lab.invoke("api-rc1", {"action": "info"}, tail=False)
                except ClientError as e:
                    throttles.append(e.response)
                time.sleep(0.02)
            try:
                held = holder.result()
                lf.assert_ok(self, held)
            except ClientError as e:  # the quick invocation held the slot at that moment
                throttles.append(e.response)
        self.assertTrue(throttles, "a second concurrent invocation beyond reserved concurrency 1 was not throttled")
        for err in throttles:
            self.assertEqual(err["Error"]["Code"], "TooManyRequestsException", err)
            self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 429, err)
            self.assertEqual(err.get("Reason"), EXPECTED_THROTTLE_REASON, err)
        # the slot is free again
        lf.assert_ok(self, lab.invoke("api-rc1", {"action": "info"}))

    # -- full logs ---------------------------------------------------------------

    def test_full_logs_kept_per_function_and_environment(self):
        lab = self.lab
        token = lf.unique("logline")
        inv = lab.invoke("api-logs", {"action": "print", "text": token})
        rid = lf.assert_log_shape(self, inv)
        ctx = lf.assert_ok(self, lab.invoke("api-logs", {"action": "context"}))
        env = lf.assert_ok(self, lab.invoke("api-logs", {"action": "env",
                                                         "names": ["AWS_LAMBDA_LOG_STREAM_NAME",
                                                                   "AWS_LAMBDA_LOG_GROUP_NAME"]}))
        stream = ctx["log_stream_name"]
        self.assertRegex(stream, r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(env["env"]["AWS_LAMBDA_LOG_STREAM_NAME"], stream)
        self.assertEqual(env["env"]["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/api-logs")
        self.assertEqual(ctx["log_group_name"], "/aws/lambda/api-logs")

        def holding():
            for rel, path in lab.find_log_files("api-logs").items():
                if path is None:
                    continue
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                if token in text and f"REPORT RequestId: {rid}" in text:
                    return rel, text
            return None

        found = lf.wait_for(holding, 5)
        self.assertIsNotNone(found, f"no log file under {lab.log_dir}/api-logs holds the invocation: "
                                    f"{lab.find_log_files('api-logs')}")
        rel, text = found
        bad = [r for r, p in lab.find_log_files("api-logs").items() if p is None]
        self.assertEqual(bad, [], "log files not named <YYYY>/<MM>/<DD>/[$LATEST]<32 hex>")
        self.assertEqual(rel, stream, "the full log file is not the environment's log stream")
        self.assertIn(f"START RequestId: {rid} Version: $LATEST", text)
        self.assertIn(f"END RequestId: {rid}", text)
        self.assertIn("PROBE-INIT", text, "the environment's init output is not in its full log")
        self.assertRegex(text, re.escape(f"REPORT RequestId: {ctx['request_id']}\t"))


if __name__ == "__main__":
    unittest.main()
