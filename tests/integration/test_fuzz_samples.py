"""The sample handlers of `coldsec fuzz` (harness/fuzz-functions.yaml): each
answers its baseline event normally and its documented trigger produces
exactly the documented effect, by direct invocations with hand-written
inputs. This pins the samples, so that the fuzzer's own tests can rely on
them: if a sample changes, this file and the YAML comments change with it.

The samples are read from the shipped harness/fuzz-functions.yaml (block
style only; no PyYAML, as test_lab_samples.py) and rendered into the test's
own config with absolute code folders, the fixture's marker variable and a
planted COLDSEC_FUZZ_CANARY, as `coldsec fuzz` plants one. Invocations are
sequential, so each function's one warm environment is reused.

Found on the way, for the fuzzer: the lab refuses an event holding a lone
surrogate escape ("\\ud800") with InvalidRequestContentException before any
handler runs, and the fixture's invoke() sends {} for None (so `null` events
are sent here as bytes).
"""
import json
import os
import re
import unittest

import labfixture as lf
from labfixture import Lab

CONFIG = os.path.join(lf.REPO, "harness", "fuzz-functions.yaml")
HARNESS = os.path.join(lf.REPO, "harness")
BASELINE_FILE = os.path.join(HARNESS, "functions", "fuzz-baseline.json")
BASELINE = {"user_id": "u-1", "item": "book", "quantity": 1}
SAMPLES = ["fuzz-clean-python", "fuzz-crash-python", "fuzz-timeout-python", "fuzz-leak-python",
           "fuzz-growth-python", "fuzz-pollution-python", "fuzz-exception-python",
           "fuzz-nested-python", "fuzz-nested-node"]
NESTED_TRIGGER = {"user_id": "root", "item": "admin", "quantity": 1001, "note": "!!"}
EXIT_3 = r"Runtime exited with error: exit status 3"
TIMED_OUT = r"Task timed out after (\d+\.\d{2}) seconds"

# Generic Lambda events as a fuzzer seeds them: none has the order's keys.
APIGW_V1 = {"resource": "/orders", "path": "/orders", "httpMethod": "POST",
            "headers": {"content-type": "application/json"}, "queryStringParameters": None,
            "requestContext": {"stage": "prod"}, "body": json.dumps(BASELINE),
            "isBase64Encoded": False}
SQS = {"Records": [{"messageId": "m-1", "receiptHandle": "r-1", "body": json.dumps(BASELINE),
                    "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:orders",
                    "awsRegion": "us-east-1"}]}


def _scalar(text):
    text = text.strip()
    if text.startswith('"'):
        return json.loads(text)  # double-quoted scalars of the file are JSON strings
    return text


def shipped():
    """{name: entry} from harness/fuzz-functions.yaml, integers as int and
    environment as a dict."""
    entries, cur, in_env = {}, None, False
    with open(CONFIG) as f:
        for line in f:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(line) - len(line.lstrip(" "))
            if stripped.startswith("- name:"):
                cur = {"name": _scalar(stripped[len("- name:"):]), "environment": {}}
                entries[cur["name"]] = cur
                in_env = False
                continue
            if cur is None:
                continue
            key, _, value = stripped.partition(":")
            if indent == 4:
                in_env = key == "environment" and not value.strip()
                if not in_env:
                    v = _scalar(value)
                    cur[key] = int(v) if re.fullmatch(r"-?\d+", v) else v
            elif indent == 6 and in_env:
                cur["environment"][key] = _scalar(value)
    return entries


def render(functions):
    q = lf._q
    lines = ['region: "us-east-1"', 'account_id: "000000000000"', "functions:"]
    for f in functions:
        lines.append(f"  - name: {q(f['name'])}")
        for k, v in f.items():
            if k in ("name", "environment"):
                continue
            if k == "code":
                v = os.path.join(HARNESS, v)
            lines.append(f"    {k}: {v}" if isinstance(v, int) else f"    {k}: {q(v)}")
        lines.append("    environment:")
        lines.extend(f"      {k}: {q(v)}" for k, v in f["environment"].items())
    return "\n".join(lines) + "\n"


def max_memory_mb(inv):
    return int(inv.report["Max Memory Used"].split()[0])


class FuzzSamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.entries = shipped()
        cls.canary = lf.unique("fuzz-canary")
        funcs = []
        for name in SAMPLES:
            e = dict(cls.entries[name])
            e["environment"] = dict(e["environment"], COLDSEC_FUZZ_CANARY=cls.canary)
            funcs.append(e)
        lab = Lab(funcs)
        lab.config_text = render(lab.functions.values())
        cls.lab = lab.start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    # -- helpers -----------------------------------------------------------------

    def secrets(self, name):
        """The literal values the fuzzer knows for name: its variables and the canary."""
        env = self.entries[name]["environment"]
        return [v for k, v in env.items()] + [self.canary]

    def assert_no_secret(self, name, inv):
        seen = inv.body.decode("utf-8", "replace") + "\n" + (inv.log or "")
        for s in self.secrets(name):
            self.assertNotIn(s, seen, f"{name} leaked {s!r}: {inv!r}")

    def invoke(self, name, event):
        # json.dumps here: the fixture sends {} for None, and null is an event too
        return self.lab.invoke(name, payload=json.dumps(event).encode())

    def ok(self, name, event, status=200):
        """Invokes; the answer is a normal one (no function error, statusCode
        status, no secret anywhere); returns (payload, invocation)."""
        inv = self.invoke(name, event)
        p = lf.assert_ok(self, inv)
        self.assertIsInstance(p, dict, repr(inv))
        self.assertEqual(p.get("statusCode"), status, f"{name} {event!r}: {inv!r}")
        self.assert_no_secret(name, inv)
        return p, inv

    def died(self, name, event, error_type, message_re):
        inv = self.invoke(name, event)
        self.assertEqual(inv.status, 200, repr(inv))
        self.assertEqual(inv.function_error, "Unhandled", f"{name} {event!r}: {inv!r}")
        body = inv.payload
        self.assertEqual(body["errorType"], error_type, body)
        self.assertRegex(body["errorMessage"], r"^RequestId: " + lf.UUID_RE + r" Error: " + message_re + "$")
        self.assert_no_secret(name, inv)
        return inv

    def raised(self, name, event, error_type):
        inv = self.invoke(name, event)
        self.assertEqual(inv.status, 200, repr(inv))
        self.assertEqual(inv.function_error, "Unhandled", f"{name} {event!r}: {inv!r}")
        body = inv.payload
        self.assertEqual(body["errorType"], error_type, body)
        self.assertIsInstance(body["stackTrace"], list, body)
        return inv, body

    def baseline(self, name, cold=None):
        p, inv = self.ok(name, BASELINE)
        if cold is not None:
            self.assertEqual(inv.cold, cold, f"{name}: expected cold={cold}: {inv!r}")
        return p

    # -- the configuration ---------------------------------------------------------

    def test_fuzz_config_and_baseline_file(self):
        with open(BASELINE_FILE) as f:
            self.assertEqual(json.load(f), BASELINE)
        self.assertEqual(sorted(self.entries), sorted(SAMPLES))
        for name, e in self.entries.items():
            with self.subTest(name=name):
                self.assertEqual(e["timeout_s"], 1 if name == "fuzz-timeout-python" else 2)
                self.assertIn("memory_mb", e)
                self.assertTrue(e["environment"]["API_KEY"].startswith("fuzz-sample-api-key-"))
                # distinct values per sample: a leak names its source
        keys = [e["environment"]["API_KEY"] for e in self.entries.values()]
        self.assertEqual(len(keys), len(set(keys)))

    def test_fuzz_generic_events_are_400_except_in_the_exception_sample(self):
        for name in SAMPLES:
            for ev in (APIGW_V1, SQS, [], "x", 5, None):
                with self.subTest(name=name, event=str(ev)[:30]):
                    if name == "fuzz-exception-python" and isinstance(ev, dict):
                        self.raised(name, ev, "KeyError")
                    else:
                        self.ok(name, ev, 400)

    # -- one test per sample -------------------------------------------------------

    def test_fuzz_clean_stays_silent(self):
        name = "fuzz-clean-python"
        first = self.baseline(name)
        self.assertEqual(first["order"], {"user_id": "u-1", "item": "book", "quantity": 1,
                                          "total_cents": 1299})
        mem0 = max_memory_mb(self.lab.invoke(name, BASELINE))
        # every other sample's trigger, and then some
        bad = [dict(BASELINE, quantity=q) for q in (-1, 0, 1001, 1.5, 1e308, 4294967296, "1",
                                                    None, True, [], {})]
        bad += [dict(BASELINE, user_id=u) for u in ("", 7, None, "u'1", "x" * 65, "u-\u00fc", "u-1\n")]
        bad += [dict(BASELINE, item=i) for i in ("", "bookshelf", "<script>", "a" * 300, 5)]
        bad += [{k: v for k, v in BASELINE.items() if k != drop} for drop in BASELINE]
        bad += [dict(BASELINE, currency="EUR"), dict(NESTED_TRIGGER), dict(NESTED_TRIGGER, quantity=1)]
        for ev in bad * 2:
            inv = self.invoke(name, ev)
            p = lf.assert_ok(self, inv)
            self.assertIn(p["statusCode"], (200, 400), f"{ev!r}: {inv!r}")
            self.assertFalse(inv.cold, f"{ev!r} replaced the environment: {inv!r}")
            self.assertLess(inv.elapsed, 1.0, f"{ev!r} was slow: {inv!r}")
            self.assert_no_secret(name, inv)
            # the probe answers as on the fresh environment
            self.assertEqual(self.baseline(name, cold=False), first, f"after {ev!r}")
        mem1 = max_memory_mb(self.lab.invoke(name, BASELINE))
        self.assertLessEqual(mem1 - mem0, 3, f"memory grew {mem0} -> {mem1} MB")

    def test_fuzz_crash_exits_on_negative_quantity_or_empty_field(self):
        name = "fuzz-crash-python"
        self.baseline(name)
        for ev in (dict(BASELINE, quantity=-1), dict(BASELINE, user_id=""), dict(BASELINE, item="")):
            with self.subTest(event=ev):
                self.died(name, ev, "Runtime.ExitError", EXIT_3)
                self.baseline(name, cold=True)  # a new environment answers normally
        # near misses stay ordinary answers on the same environment
        for ev in (dict(BASELINE, quantity=0), dict(BASELINE, quantity=1001), dict(BASELINE, user_id=" "),
                   dict(BASELINE, quantity=1.5)):
            self.ok(name, ev, 400)
        self.baseline(name, cold=False)

    def test_fuzz_timeout_hangs_past_its_timeout_on_a_non_integer_quantity(self):
        name = "fuzz-timeout-python"
        self.baseline(name)
        for q in (1.5, 1e308, "1"):
            with self.subTest(quantity=q):
                inv = self.died(name, dict(BASELINE, quantity=q), "Sandbox.Timedout", TIMED_OUT)
                secs = float(re.search(TIMED_OUT, inv.payload["errorMessage"]).group(1))
                self.assertGreaterEqual(secs, 1.0)
                self.assertLess(secs, 1.5)
                self.baseline(name, cold=True)
        for q in (None, True, 0, -1, 1001):
            p, inv = self.ok(name, dict(BASELINE, quantity=q), 400)
            self.assertLess(inv.elapsed, 0.9)
        self.baseline(name, cold=False)

    def test_fuzz_leak_api_key_and_whole_environment_in_errors(self):
        name = "fuzz-leak-python"
        env = self.entries[name]["environment"]
        self.baseline(name)
        # quantity float/string: API_KEY's value in errorMessage and the log tail
        for q in (1.5, "1"):
            inv, body = self.raised(name, dict(BASELINE, quantity=q), "ValueError")
            self.assertIn(env["API_KEY"], body["errorMessage"])
            self.assertIn(env["API_KEY"], inv.log)
            self.assertNotIn(self.canary, inv.body.decode() + inv.log)
            self.assertNotIn(env["DB_PASSWORD"], inv.body.decode() + inv.log)
            self.assertFalse(inv.cold)
        # user_id not a string: the whole environment, canary included
        for u in (7, None, [], {}):
            inv, body = self.raised(name, dict(BASELINE, user_id=u), "RuntimeError")
            for secret in (self.canary, env["API_KEY"], env["DB_PASSWORD"]):
                self.assertIn(secret, body["errorMessage"])
            self.assertIn(self.canary, inv.log)
        # the environment survived; near misses leak nothing
        self.baseline(name, cold=False)
        for ev in ({"item": "book", "quantity": 1}, dict(BASELINE, quantity=None),
                   dict(BASELINE, user_id=""), dict(BASELINE, quantity=-1)):
            self.ok(name, ev, 400)

    def test_fuzz_growth_keeps_a_megabyte_per_long_item(self):
        name = "fuzz-growth-python"
        self.baseline(name)
        mems = [max_memory_mb(self.ok(name, BASELINE)[1]) for _ in range(10)]
        self.assertLessEqual(mems[-1] - mems[0], 2, f"the baseline alone grew: {mems}")
        p, _ = self.ok(name, dict(BASELINE, item="bookshelf"))
        self.assertEqual(p["order"]["item"], "bookshelf")
        self.ok(name, dict(BASELINE, item="bookshelf<>"), 400)  # invalid, still kept
        grown = [max_memory_mb(self.ok(name, dict(BASELINE, item="bookshelf"))[1]) for _ in range(20)]
        self.assertGreaterEqual(grown[-1] - mems[-1], 18, f"baseline {mems}, then {grown}")
        self.assertTrue(all(b >= a for a, b in zip(grown, grown[1:])), grown)
        # the probe still answers as the clean sample: growth is the only oracle
        self.assertEqual(self.baseline(name, cold=False)["order"]["item"], "book")
        after = [max_memory_mb(self.ok(name, dict(BASELINE, item="bookcase"))[1]) for _ in range(5)]
        self.assertLessEqual(after[-1] - grown[-1], 2, f"8 characters must not grow: {after}")

    def test_fuzz_pollution_probe_answers_differently_after_an_added_key(self):
        name = "fuzz-pollution-python"
        # earlier tests may have warmed it with generic events, which pollute nothing
        fresh = self.baseline(name)
        self.assertEqual(fresh["options"], {"currency": "USD", "gift_wrap": False})
        self.assertEqual(self.baseline(name, cold=False), fresh, "the baseline polluted itself")
        # invalid orders do not pollute
        self.ok(name, dict(BASELINE, quantity=0, currency="EUR"), 400)
        self.assertEqual(self.baseline(name, cold=False), fresh)
        p, _ = self.ok(name, dict(BASELINE, currency="EUR"))
        self.assertEqual(p["options"]["currency"], "EUR")
        probe = self.baseline(name, cold=False)
        self.assertNotEqual(probe, fresh)
        self.assertEqual(probe["options"], {"currency": "EUR", "gift_wrap": False})
        self.ok(name, dict(BASELINE, zz=1))
        self.assertEqual(self.baseline(name, cold=False)["options"]["zz"], 1)

    def test_fuzz_exception_raises_keyerror_and_zerodivisionerror(self):
        name = "fuzz-exception-python"
        self.baseline(name)
        for drop in BASELINE:
            ev = {k: v for k, v in BASELINE.items() if k != drop}
            inv, body = self.raised(name, ev, "KeyError")
            self.assertEqual(body["errorMessage"], repr(drop))
            self.assert_no_secret(name, inv)
            self.assertFalse(inv.cold)
        inv, body = self.raised(name, dict(BASELINE, quantity=0), "ZeroDivisionError")
        self.assert_no_secret(name, inv)
        # the environment survives both; near misses are 400s
        self.baseline(name, cold=False)
        for ev in (dict(BASELINE, quantity=-1), dict(BASELINE, quantity=1.5), dict(BASELINE, user_id="")):
            self.ok(name, ev, 400)

    def _nested(self, name):
        self.baseline(name)
        # each level answered normally, one step further each time
        steps = [({"item": "admin"}, 1), ({"item": "admin", "quantity": 1001}, 2),
                 ({"item": "admin", "quantity": 4294967296, "user_id": "rootu-1"}, 3),
                 ({"item": "admin", "quantity": 1001, "user_id": "root", "note": "hi"}, 3.5)]
        for change, level in steps:
            p, _ = self.ok(name, dict(BASELINE, **change))
            self.assertEqual(p, {"statusCode": 200, "admin": True, "level": level}, change)
        # three of four: no crash
        for miss in ({"item": "Admin"}, {"quantity": 1000}, {"user_id": "u-root"}, {"note": "!"},
                     {"note": ["!!"]}):
            ev = dict(NESTED_TRIGGER, **miss)
            with self.subTest(three_of_four=ev):
                p, inv = self.ok(name, ev, 400 if miss.get("item") == "Admin" else 200)
                self.assertFalse(inv.cold)
        no_note = {k: v for k, v in NESTED_TRIGGER.items() if k != "note"}
        self.assertEqual(self.ok(name, no_note)[0]["level"], 3)
        # all four: the environment dies
        self.died(name, NESTED_TRIGGER, "Runtime.ExitError", EXIT_3)
        self.baseline(name, cold=True)
        self.died(name, dict(NESTED_TRIGGER, user_id="root-7", quantity=4294967296, note="x!!y"),
                  "Runtime.ExitError", EXIT_3)
        self.baseline(name, cold=True)

    def test_fuzz_nested_python_crash_needs_all_four_conditions(self):
        self._nested("fuzz-nested-python")

    def test_fuzz_nested_node_crash_needs_all_four_conditions(self):
        self._nested("fuzz-nested-node")


if __name__ == "__main__":
    unittest.main()
