"""The sample functions of harness/functions.yaml: each seed weakness shows in
its vulnerable sample and not in its hardened twin (the contract the
scenario engine is written against), plus the two configuration keys they
rely on, kms_key_arn (KMSKeyArn) and ephemeral_storage_mb (EphemeralStorage,
a /tmp tmpfs of that size).

The samples are read from the shipped harness/functions.yaml (its block
style only: the test must not need PyYAML) and rendered into the test's own
config with absolute code folders and the fixture's marker variable.
Invocations are sequential, so each function's one warm environment is
reused, as the scenarios rely on.
"""
import base64
import json
import os
import random
import re
import unittest

import labfixture as lf
from labfixture import Lab

SHIPPED_CONFIG = os.path.join(lf.REPO, "harness", "functions.yaml")
HARNESS = os.path.join(lf.REPO, "harness")

KMS_ARN = "arn:aws:kms:us-east-1:000000000000:key/1b4c0d6e-0000-4000-8000-00000000c01d"
SECRET_PASSWORD = "lab-only-Pa55word-7f3a9c01"
SECRET_API_KEY = "lab-fake-api-key-5d2e8b61"
SECRET_NAME_RE = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL", re.I)
MB = 1024 * 1024

WEAKNESSES = ("injection-persistence", "cross-user-leak", "tmp-residue", "memory-growth",
              "secret-exposure")
SAMPLES = [f"{w}-{lang}-{kind}" for w in WEAKNESSES for lang in ("python", "node")
           for kind in ("vulnerable", "hardened")] + ["config-python-vulnerable",
                                                       "config-python-hardened"]
# Managed Instances samples (max_concurrency): many requests at once in one
# environment; the Node vulnerable twin comes in two variants.
CONCURRENT = ["concurrent-state-python-vulnerable", "concurrent-state-python-hardened",
              "concurrent-state-node-vulnerable", "concurrent-state-node-vulnerable-buffer",
              "concurrent-state-node-hardened"]


def _q(s):
    return json.dumps(str(s))  # a JSON string is a valid double-quoted YAML scalar


def _scalar(text):
    text = text.strip()
    if text.startswith('"'):
        return json.loads(text)  # the file's double-quoted scalars are JSON strings
    return text


def shipped_samples():
    """{name: entry} for the samples in harness/functions.yaml, each entry
    {key: value} with integers as int and environment as a dict."""
    entries, cur, in_env = {}, None, False
    with open(SHIPPED_CONFIG) as f:
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
    return {n: e for n, e in entries.items() if n in SAMPLES + CONCURRENT}


def render(functions):
    """A lab config for functions (entries as shipped_samples gives them),
    code folders made absolute."""
    q = _q
    lines = ['region: "us-east-1"', 'account_id: "000000000000"', "functions:"]
    for f in functions:
        lines.append(f"  - name: {q(f['name'])}")
        for k, v in f.items():
            if k in ("name", "environment"):
                continue
            if k == "code":
                v = os.path.join(HARNESS, v)
            lines.append(f"    {k}: {v}" if isinstance(v, int) else f"    {k}: {q(v)}")
        if f["environment"]:
            lines.append("    environment:")
            lines.extend(f"      {k}: {q(v)}" for k, v in f["environment"].items())
    return "\n".join(lines) + "\n"


def start_lab(names, **kw):
    samples = shipped_samples()
    lab = Lab([samples[n] for n in names], **kw)
    lab.config_text = render(lab.functions.values())
    return lab.start()


def max_memory_mb(inv):
    return int(inv.report["Max Memory Used"].split()[0])


class LabSamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = start_lab(SAMPLES)
        cls.c = cls.lab.client()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def call(self, name, event):
        inv = self.lab.invoke(name, event)
        return lf.assert_ok(self, inv), inv

    def fails(self, name, event):
        inv = self.lab.invoke(name, event)
        self.assertEqual(inv.function_error, "Unhandled", repr(inv))
        return inv.payload, inv

    # -- the shipped configuration ------------------------------------------------

    def test_shipped_config_holds_every_sample(self):
        samples = shipped_samples()
        self.assertEqual(sorted(samples), sorted(SAMPLES + CONCURRENT))
        for name, f in samples.items():
            with self.subTest(name=name):
                self.assertTrue(os.path.isdir(os.path.join(HARNESS, f["code"])), f)
                node = "-node-" in name
                self.assertEqual(f["handler"], "index.handler" if node else "handler.handler")
                if name in CONCURRENT:
                    # the oldest runtimes Managed Instances support
                    self.assertEqual(f["runtime"], "nodejs22.x" if node else "python3.13")
                    self.assertEqual((f["memory_mb"], f["timeout_s"], f["max_concurrency"]), (128, 3, 8))
                elif not name.startswith("config-"):
                    self.assertEqual(f["runtime"], "nodejs22.x" if node else "python3.12")
                    self.assertEqual(f["memory_mb"], 128)
                    self.assertEqual(f["timeout_s"], 3)
                if name.endswith("-hardened") and not name.startswith(("secret-", "config-")):
                    self.assertEqual([k for k in f["environment"] if SECRET_NAME_RE.search(k)], [],
                                     "a hardened sample carries a secret-named variable")
                if name.startswith("tmp-residue-"):
                    self.assertEqual(f["ephemeral_storage_mb"], 16)

    def test_configuration_reports_kms_key_and_ephemeral_storage(self):
        expect = {
            # name: (KMSKeyArn or None, EphemeralStorage.Size)
            "secret-exposure-python-hardened": (KMS_ARN, 512),
            "secret-exposure-node-hardened": (KMS_ARN, 512),
            "config-python-hardened": (KMS_ARN, 512),
            "secret-exposure-python-vulnerable": (None, 512),
            "config-python-vulnerable": (None, 512),
            "tmp-residue-python-vulnerable": (None, 16),
            "tmp-residue-node-hardened": (None, 16),
            "cross-user-leak-node-hardened": (None, 512),
        }
        for name, (kms, size) in expect.items():
            with self.subTest(name=name):
                for cfg in (self.c.get_function_configuration(FunctionName=name),
                            self.c.get_function(FunctionName=name)["Configuration"]):
                    self.assertEqual(cfg["EphemeralStorage"], {"Size": size})
                    if kms is None:
                        self.assertNotIn("KMSKeyArn", cfg, "KMSKeyArn must be left out when absent")
                    else:
                        self.assertEqual(cfg["KMSKeyArn"], kms)

    def test_config_samples_settings(self):
        vul = self.c.get_function(FunctionName="config-python-vulnerable")
        cfg = vul["Configuration"]
        self.assertEqual((cfg["Runtime"], cfg["Timeout"]), ("python3.8", 60))
        self.assertEqual(cfg["Environment"]["Variables"]["PAYMENTS_ACCESS_KEY"], "AKIAIOSFODNN7EXAMPLE")
        self.assertIn("DB_PASSWORD", cfg["Environment"]["Variables"])
        self.assertNotIn("Concurrency", vul)
        hard = self.c.get_function(FunctionName="config-python-hardened")
        cfg = hard["Configuration"]
        self.assertEqual((cfg["Runtime"], cfg["Timeout"]), ("python3.12", 10))
        self.assertEqual(hard["Concurrency"], {"ReservedConcurrentExecutions": 5})
        self.assertEqual(sorted(cfg["Environment"]["Variables"]),
                         ["COLDSEC_TEST_LAB_MARKER", "DB_PASSWORD_PARAM"])
        event = {"version": "2.0", "routeKey": "$default", "rawPath": "/", "headers": {},
                 "requestContext": {"http": {"method": "GET", "path": "/"}}, "isBase64Encoded": False}
        for name in ("config-python-vulnerable", "config-python-hardened"):
            with self.subTest(name=name):
                p, _ = self.call(name, event)
                self.assertEqual(p, {"statusCode": 200, "body": '{"ok": true}'})

    # -- 1. injection persistence ---------------------------------------------------

    @staticmethod
    def payment(user, amount="12.50"):
        return {"user_id": user, "card_number": "4111111111111111", "amount": amount, "currency": "EUR"}

    def test_injection_persists_python(self):
        mark = lf.unique("inj")
        # Patches the encoder the runtime uses for every later response.
        inject = (
            "exec(\"import json\\n_orig = json.JSONEncoder.encode\\n"
            "def _enc(self, o):\\n"
            "    if isinstance(o, dict):\\n"
            f"        o = dict(o, injected='{mark}')\\n"
            "    return _orig(self, o)\\n"
            "json.JSONEncoder.encode = _enc\\n\", {}) or 1")
        p, _ = self.call("injection-persistence-python-vulnerable", self.payment("attacker", inject))
        self.assertEqual(p["status"], "accepted")
        p, inv = self.call("injection-persistence-python-vulnerable", self.payment("victim"))
        self.assertFalse(inv.cold, "the victim's call did not reuse the warm environment")
        self.assertEqual(p["injected"], mark, "injected code did not persist into a later response")
        self.assertEqual((p["user_id"], p["amount"], p["card_last4"]), ("victim", 12.5, "1111"))

        p, _ = self.call("injection-persistence-python-hardened", self.payment("attacker", inject))
        self.assertEqual(p, {"status": "rejected", "reason": "invalid amount"})
        p, inv = self.call("injection-persistence-python-hardened", self.payment("victim"))
        self.assertFalse(inv.cold)
        self.assertEqual(p, {"status": "accepted", "user_id": "victim", "amount": 12.5,
                             "currency": "EUR", "card_last4": "1111"})
        for bad in ("1e3", "12.505", "-1", "1_000", "12\n", "\u0661\u0662", "9" * 10):
            with self.subTest(amount=bad):
                p, _ = self.call("injection-persistence-python-hardened", self.payment("x", bad))
                self.assertEqual(p["status"], "rejected")

    def test_odd_eval_results_do_not_crash_python(self):
        for amount, want in (("None", 0), ("'12'", 0), ("1e999", 0), ("float('nan')", 0),
                             ("3j", 0), ("True", 0), ("7", 7.0), ("2.5 * 2", 5.0)):
            with self.subTest(amount=amount):
                p, _ = self.call("injection-persistence-python-vulnerable", self.payment("u", amount))
                self.assertEqual(p["amount"], want)

    def test_injection_and_prototype_pollution_persist_node(self):
        lab = self.lab
        mark, proto, ctor = lf.unique("inj"), lf.unique("proto"), lf.unique("ctor")
        inject = ("JSON.stringify = ((s) => function (v, r, sp) { if (v && typeof v === 'object' && "
                  f"!Array.isArray(v)) v = Object.assign({{injected: '{mark}'}}, v); "
                  "return s.call(this, v, r, sp); })(JSON.stringify), 1")
        vul, hard = "injection-persistence-node-vulnerable", "injection-persistence-node-hardened"
        for name in (vul, hard):
            lab.invoke(name, self.payment("attacker", inject))
            lab.invoke(name, dict(self.payment("attacker"), __proto__={"p_" + proto: proto}))
            lab.invoke(name, dict(self.payment("attacker"), constructor={"prototype": {"c_" + ctor: ctor}}))

        p, inv = self.call(vul, self.payment("victim"))
        self.assertFalse(inv.cold, "the victim's call did not reuse the warm environment")
        self.assertEqual(p.get("injected"), mark, "injected code did not persist into a later response")
        self.assertEqual(p.get("p_" + proto), proto, "__proto__ pollution does not show in a later response")
        self.assertEqual(p.get("c_" + ctor), ctor,
                         "constructor.prototype pollution does not show in a later response")
        self.assertEqual(p["user_id"], "victim")

        p, inv = self.call(hard, self.payment("victim"))
        self.assertFalse(inv.cold)
        self.assertEqual(p, {"status": "accepted", "user_id": "victim", "amount": 12.5,
                             "currency": "EUR", "card_last4": "1111"})
        p, _ = self.call(hard, self.payment("attacker", inject))
        self.assertEqual(p, {"status": "rejected", "reason": "invalid amount"})

    # -- 2. cross-user leak ---------------------------------------------------------

    def test_cross_user_leak(self):
        for lang in ("python", "node"):
            path = "/profile/" + lf.unique("p")
            alice = {"user_id": "alice", "path": path, "display_name": lf.unique("Alice"),
                     "email": "alice@example.com"}
            bob = {"user_id": "bob", "path": path, "display_name": lf.unique("Bob"),
                   "email": "bob@example.com"}
            for kind in ("vulnerable", "hardened"):
                name = f"cross-user-leak-{lang}-{kind}"
                with self.subTest(name=name):
                    self.assertEqual(self.call(name, alice)[0], alice)
                    p, inv = self.call(name, bob)
                    self.assertFalse(inv.cold)
                    if kind == "vulnerable":
                        self.assertEqual(p, alice, "bob did not get alice's cached profile")
                    else:
                        self.assertEqual(p, bob)

    # -- 3. /tmp residue, and ephemeral storage enforced -------------------------------

    def test_tmp_residue_and_enospc(self):
        for lang in ("python", "node"):
            vul, hard = f"tmp-residue-{lang}-vulnerable", f"tmp-residue-{lang}-hardened"
            a_rows, b_rows = lf.unique("alice-rows"), lf.unique("bob-rows")
            for name in (vul, hard):
                with self.subTest(name=name):
                    self.call(name, {"user_id": "alice", "report_name": "q3/sales", "rows": a_rows})
                    p, _ = self.call(name, {"user_id": "bob", "report_name": "q3/sales", "rows": b_rows})
                    self.assertEqual(p["report"], "q3_sales")
                    self.assertIn(b_rows, p["preview"])
                    if name == vul:
                        self.assertIn(a_rows, p["preview"], "bob's preview lacks alice's residue")
                        self.assertEqual(p["bytes"], len(a_rows) + len(b_rows) + 2)
                    else:
                        self.assertEqual(p["preview"], b_rows + "\n")
                        self.assertEqual(p["bytes"], len(b_rows) + 1)

            # 5 MB of rows: the vulnerable one writes 10 MB per call and keeps it,
            # so its 16 MB /tmp is full on the second call; the hardened one
            # cleans up and never fills it.
            big = {"user_id": "c", "report_name": "big", "rows": "r" * (5 * MB)}
            self.call(vul, big)
            err, inv = self.fails(vul, big)
            self.assertFalse(inv.cold)
            want = "[Errno 28] No space left on device" if lang == "python" else \
                "ENOSPC: no space left on device"
            self.assertTrue(err["errorMessage"].startswith(want), err)
            for _ in range(4):
                p, _ = self.call(hard, big)
                self.assertEqual(p["bytes"], 5 * MB + 1)
                self.assertEqual(len(p["preview"]), 2048)

    # -- 4. memory growth ------------------------------------------------------------

    def test_memory_growth(self):
        rng = random.Random(7)
        words = ("invoice", "customer", "amount", "total", "tax", "ship", "order", "paid")
        docs = [" ".join(rng.choice(words) for _ in range(50000))[:256 * 1024] for _ in range(4)]
        curves = {}
        for lang in ("python", "node"):
            for kind in ("vulnerable", "hardened"):
                name = f"memory-growth-{lang}-{kind}"
                mem = []
                for i in range(40):
                    p, inv = self.call(name, {"user_id": f"u{i}", "document": docs[i % 4]})
                    self.assertEqual(p["kept"], i + 1 if kind == "vulnerable" else 0)
                    if i > 0:
                        self.assertFalse(inv.cold, f"{name} lost its environment at call {i + 1}")
                    mem.append(max_memory_mb(inv))
                curves[name] = mem
        for lang in ("python", "node"):
            vul = curves[f"memory-growth-{lang}-vulnerable"]
            hard = curves[f"memory-growth-{lang}-hardened"]
            with self.subTest(lang=lang):
                # 40 documents of 256 KB are 10 MB kept.
                self.assertGreaterEqual(vul[-1] - vul[0], 8, f"no clear growth: {vul}")
                self.assertLessEqual(max(hard) - min(hard), 4, f"not flat: {hard}")

    # -- 5. secret exposure --------------------------------------------------------------

    def test_secret_exposure_python(self):
        good = {"order_id": "ord-7", "quantity": 2, "items": [{"sku": "A-1", "qty": 1}, {"sku": "B", "qty": 3}]}
        bad = {"order_id": "ord-8", "quantity": 1, "items": [{"sku": "A-1", "qty": "1"}]}
        want = {"status": "accepted", "order_id": "ORD-7", "quantity": 2, "units": 4}
        vul, hard = "secret-exposure-python-vulnerable", "secret-exposure-python-hardened"

        self.assertEqual(self.call(vul, good)[0], want)
        err, inv = self.fails(vul, bad)
        self.assertEqual(err["errorType"], "RuntimeError")
        self.assertIn(f"postgresql://orders:{SECRET_PASSWORD}@db.internal:5432/orders", err["errorMessage"])
        self.assertIn("order 'ord-8' failed", err["errorMessage"])
        self.assertIn(SECRET_PASSWORD, inv.log, "the password is not in the log tail")

        self.assertEqual(self.call(hard, good)[0], want)
        for event in (bad, {"order_id": 5}, [1], {"order_id": "x", "quantity": True, "items": []}):
            with self.subTest(event=event):
                p, inv = self.call(hard, event)
                self.assertEqual(p, {"error": "invalid order", "request_id": inv.start_id})
                self.assertIn("invalid order: InvalidOrder", inv.log)
                self.assertNotIn("Pa55word", inv.log + json.dumps(p))
                self.assertNotIn("Traceback", inv.log)

    def test_secret_exposure_node(self):
        def url_event(order, b64):
            body = json.dumps(order)
            if b64:
                body = base64.b64encode(body.encode()).decode()
            return {"version": "2.0", "routeKey": "$default", "rawPath": "/orders", "headers": {},
                    "requestContext": {"http": {"method": "POST", "path": "/orders"}},
                    "body": body, "isBase64Encoded": b64}

        good = {"order_id": "ord-7", "quantity": 2, "items": [{"sku": "A-1", "qty": 1}, {"sku": "B", "qty": 3}]}
        bad = {"order_id": 7, "quantity": 1, "items": []}
        want = {"status": "accepted", "order_id": "ORD-7", "quantity": 2, "units": 4}
        vul, hard = "secret-exposure-node-vulnerable", "secret-exposure-node-hardened"
        for b64 in (False, True):
            with self.subTest(base64=b64):
                for name in (vul, hard):
                    p, _ = self.call(name, url_event(good, b64))
                    self.assertEqual(p["statusCode"], 200)
                    self.assertEqual(json.loads(p["body"]), want)

                err, inv = self.fails(vul, url_event(bad, b64))
                self.assertIn(f"order failed using postgresql://orders:{SECRET_PASSWORD}@db.internal",
                              err["errorMessage"])
                self.assertIn(SECRET_PASSWORD, "\n".join(err["trace"]))
                self.assertIn(SECRET_PASSWORD, inv.log)

                p, inv = self.call(hard, url_event(bad, b64))
                self.assertEqual(p["statusCode"], 400)
                self.assertEqual(json.loads(p["body"]), {"error": "invalid order", "request_id": inv.start_id})
                self.assertIn("invalid order: InvalidOrder", inv.log)
                self.assertNotIn("Pa55word", inv.log + json.dumps(p))

    def test_secret_exposure_environment_dump(self):
        """The vulnerable Python sample's failure prints the whole
        environment: API_KEY too, and the environment's AWS credentials."""
        inv = self.lab.invoke("secret-exposure-python-vulnerable", {"order_id": "o", "quantity": "x", "items": []})
        self.assertEqual(inv.function_error, "Unhandled", repr(inv))
        logs = self.lab.find_log_files("secret-exposure-python-vulnerable")
        text = "".join(open(p).read() for p in logs.values() if p)
        self.assertIn(f"'API_KEY': '{SECRET_API_KEY}'", text)
        self.assertIn("'AWS_SECRET_ACCESS_KEY': ", text)


class LabConcurrentSamplesTest(unittest.TestCase):
    """The concurrent-state samples on the lab's Managed Instances
    (max_concurrency 8, one environment): rounds of 8 invocations released
    together, each with its own user id and fields. A vulnerable twin hands
    one user's data to another in at least one round of 4; a hardened twin
    never does, in rounds where the overlap is shown. Overlap is read from
    the order of the environment's log (a request's platform.start before
    another's platform.report), never from durations."""

    VULNERABLE_ROUNDS = 4
    HARDENED_ROUNDS = 8

    @classmethod
    def setUpClass(cls):
        cls.lab = start_lab(CONCURRENT)

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    @staticmethod
    def event(name, user):
        if "-python-" in name:
            return {"user_id": user, "report_name": "q3", "rows": f"date,amount,ref\n2026-07-01,12.50,{user}-row\n"}
        return {"user_id": user, "path": "/profile", "display_name": f"{user}-name", "email": f"{user}@example.com"}

    def one_environment_log(self, name):
        logs = [p for p in self.lab.find_log_files(name).values() if p]
        self.assertEqual(len(logs), 1, f"{name}: {logs}")
        return logs[0]

    def max_in_flight(self, name, request_ids):
        """How many of request_ids were running at once, by the order of
        their platform.start and platform.report lines in the log."""
        running, peak = set(), 0
        with open(self.one_environment_log(name)) as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                rec = json.loads(line)
                rid = (rec.get("record") or {}).get("requestId")
                if rid not in request_ids:
                    continue
                if rec.get("type") == "platform.start":
                    running.add(rid)
                    peak = max(peak, len(running))
                elif rec.get("type") == "platform.report":
                    running.discard(rid)
        return peak

    def round(self, name):
        """One round: (users, answers, leaks, in_flight); leaks are the
        (owner, got) pairs of user ids where got's answer holds owner's id."""
        users = [lf.unique("user") for _ in range(8)]
        invs = self.lab.invoke_parallel(name, [self.event(name, u) for u in users])
        answers = []
        for inv in invs:
            self.assertNotIsInstance(inv, Exception, f"{name}: {inv!r}")
            answers.append(lf.assert_ok(self, inv))
        leaks = [(owner, got) for got, a in zip(users, answers) for owner in users
                 if owner != got and owner in json.dumps(a)]
        return users, answers, leaks, self.max_in_flight(name, {inv.request_id for inv in invs})

    def warm(self, name):
        # the environment starts on the first invocation; the rounds find it ready
        lf.assert_ok(self, self.lab.invoke(name, self.event(name, "warm-up")))

    def test_vulnerable_twins_hand_one_users_data_to_another(self):
        for name in ("concurrent-state-python-vulnerable", "concurrent-state-node-vulnerable",
                     "concurrent-state-node-vulnerable-buffer"):
            with self.subTest(name=name):
                self.warm(name)
                seen = []
                for _ in range(self.VULNERABLE_ROUNDS):
                    users, answers, leaks, in_flight = self.round(name)
                    seen.append((in_flight, len(leaks)))
                    if leaks:
                        owner, got = leaks[0]
                        a = answers[users.index(got)]
                        # the answer of one request carries another request's fields
                        self.assertIn(owner, a["preview"] if "-python-" in name else a["card"])
                        break
                else:
                    self.fail(f"{name}: no leak in {self.VULNERABLE_ROUNDS} rounds (in flight, leaks): {seen}")
                self.assertGreaterEqual(in_flight, 2, "a leak without overlap")

    def test_hardened_twins_never_do(self):
        for name in ("concurrent-state-python-hardened", "concurrent-state-node-hardened"):
            with self.subTest(name=name):
                self.warm(name)
                overlapped = 0
                for _ in range(self.HARDENED_ROUNDS):
                    users, answers, leaks, in_flight = self.round(name)
                    self.assertEqual(leaks, [], name)
                    for user, a in zip(users, answers):
                        self.assertEqual(a["user_id"], user)
                        self.assertIn(f"{user}-row" if "-python-" in name else f"{user}-name",
                                      a["preview"] if "-python-" in name else a["card"])
                    overlapped += in_flight >= 2
                # a round without overlap proves nothing: most must have it
                self.assertGreaterEqual(overlapped, self.HARDENED_ROUNDS // 2, name)

    def test_sequential_requests_are_fine_everywhere(self):
        """The weakness is the overlap: one request at a time, every sample
        answers each user with their own data (what classic Lambda shows)."""
        for name in CONCURRENT:
            with self.subTest(name=name):
                for i in range(3):
                    user = lf.unique(f"seq{i}")
                    a = lf.assert_ok(self, self.lab.invoke(name, self.event(name, user)))
                    self.assertEqual(a["user_id"], user)
                    self.assertIn(f"{user}-row" if "-python-" in name else f"{user}-name",
                                  a["preview"] if "-python-" in name else a["card"])


class LabSamplesFallbackTest(unittest.TestCase):
    """Without the sandbox ephemeral_storage_mb cannot be enforced: the lab
    says so, once per function that sets it."""

    def test_unenforced_ephemeral_storage_is_announced(self):
        lab = start_lab(["tmp-residue-python-vulnerable", "tmp-residue-node-hardened",
                         "cross-user-leak-python-hardened"], sandbox="none")
        try:
            err = lab.stderr_tail()
        finally:
            lab.stop()
        for name in ("tmp-residue-python-vulnerable", "tmp-residue-node-hardened"):
            lines = [l for l in err.splitlines() if f"function {name}: ephemeral_storage_mb 16" in l]
            self.assertEqual(len(lines), 1, err)
            self.assertIn("cannot be enforced without the sandbox", lines[0])
        self.assertNotIn("cross-user-leak-python-hardened", err)


if __name__ == "__main__":
    unittest.main()
