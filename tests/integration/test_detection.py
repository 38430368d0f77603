"""Detection on shapes the samples were not written for (issue 12), each on a
small function of its own in tests/integration/functions/detect-*:

- identity canaries and shared keys: a cache keyed by a value every user
  sends alike, whose answer carries only the first caller's identity;
- omitted fields: state merged from requests shows only to a caller who
  leaves the field out;
- nested and in-body merges: prototype pollution one object down, inside an
  HTTP API's JSON string body;
- computed markers: stored text shown to others is a cross-user leak of
  stored data, never an executed injection;
- memory growth proven by running out of memory: a Node handler that makes
  lots of garbage and keeps none is clean.

Each was missed (or falsely reported) by the engine before this issue."""
import os
import shutil
import tempfile
import unittest

from labfixture import REPO
from test_scenarios import coldsec_run

FUNCS = os.path.join(REPO, "tests", "integration", "functions")
SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

LAB = """functions:
  - {name: detect-org-greeting, runtime: python3.12, handler: handler.handler, code: @F@/detect-org-greeting}
  - {name: detect-merged-settings, runtime: nodejs20.x, handler: index.handler, code: @F@/detect-merged-settings}
  - {name: detect-nested-prefs, runtime: nodejs20.x, handler: index.handler, code: @F@/detect-nested-prefs}
  - {name: detect-notice-board, runtime: python3.12, handler: handler.handler, code: @F@/detect-notice-board}
  - {name: detect-node-garbage, runtime: nodejs20.x, handler: index.handler, code: @F@/detect-node-garbage,
     memory_mb: 128}
"""

SUITE = """lab: {config: functions.yaml}
scenario_dir: @S@
targets:
  - {function: detect-org-greeting, baseline: {org: acme, user_id: "{{user.id}}"}, scenarios: [cross-user-leak]}
  - {function: detect-merged-settings, scenarios: [cross-user-leak],
     baseline: {user_id: "{{user.id}}", message: "see you at ten",
                settings: {signature: "Regards, Ann", reply_to: "ann@example.com"}}}
  - {function: detect-nested-prefs, envelope: apigw-v2, scenarios: [injection-persistence],
     baseline: {user_id: "{{user.id}}", prefs: {theme: dark, locale: de}}}
  - {function: detect-notice-board, baseline: {user_id: "{{user.id}}", notice: "standup moved to 10:30"},
     scenarios: [injection-persistence]}
  - {function: detect-node-garbage, baseline: {user_id: "{{user.id}}", document: "a short text"},
     scenarios: [memory-growth]}
"""


class Detection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="coldsec-detect-")
        with open(os.path.join(cls.dir, "functions.yaml"), "w") as f:
            f.write(LAB.replace("@F@", FUNCS))
        suite = os.path.join(cls.dir, "suite.yaml")
        with open(suite, "w") as f:
            f.write(SUITE.replace("@S@", os.path.join(REPO, "scenarios")))
        cls.r, cls.report, cls.run_dir = coldsec_run(suite, "--jobs", "4", "--seed", "7", timeout=600)
        if cls.run_dir:
            shutil.rmtree(os.path.dirname(cls.run_dir), ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def findings(self, target, at_least="medium"):
        return [f for f in self.report["findings"]
                if f["target"] == target and SEV[f["severity"]] >= SEV[at_least]]

    def test_everything_was_tested(self):
        self.assertEqual({r["status"] for r in self.report["results"]} - {"passed", "findings"}, set(),
                         self.r.stderr)

    def test_shared_key_leaks_the_callers_identity(self):
        (f,) = self.findings("detect-org-greeting")
        self.assertEqual((f["class"], f["severity"]), ("cross-user-leak", "high"))
        ex = f["evidence"]["examples"][0]
        planted, seen = ex["planted"], ex["seen"]
        self.assertNotEqual(planted["user"], seen["user"])
        # the whole identity of the first user, in the second user's answer
        self.assertEqual(ex["canary"], planted["user_id"])
        self.assertIn(planted["user_id"], seen["response"])
        self.assertNotIn(planted["user_id"], seen["request"])
        self.assertEqual(f["evidence"]["environments_at_least"], 1)

    def test_field_one_user_sent_shows_to_one_who_omits_it(self):
        (f,) = self.findings("detect-merged-settings")
        self.assertEqual(f["class"], "cross-user-leak")
        steps = {(e["planted"]["step"], e["seen"]["step"]) for e in f["evidence"]["examples"]}
        self.assertTrue(any(s in ("omitted", "emptied") for _, s in steps), steps)
        for e in f["evidence"]["examples"]:
            self.assertNotEqual(e["planted"]["user"], e["seen"]["user"])
            self.assertIn(e["canary"], e["seen"]["response"])

    def test_pollution_through_a_nested_object_in_the_body(self):
        got = self.findings("detect-nested-prefs")
        self.assertEqual({f["class"] for f in got}, {"injection-persistence"}, got)
        (f,) = [f for f in got if f["assertion"] == "persisted"]
        self.assertEqual(f["severity"], "critical")
        self.assertNotIn("stored_not_executed", f["evidence"])
        self.assertGreaterEqual(f["evidence"]["environments_reached_inferred"], 1)
        self.assertEqual(f["evidence"]["environments_revisited_inferred"],
                         f["evidence"]["environments_reached_inferred"])

    def test_stored_text_is_a_leak_not_an_execution(self):
        got = self.findings("detect-notice-board")
        self.assertEqual({f["class"] for f in got}, {"cross-user-leak"}, [f["title"] for f in got])
        for f in got:
            self.assertIs(f["evidence"]["stored_not_executed"], True)
            self.assertEqual(f["severity"], "high")
        self.assertEqual([f for f in self.report["findings"] if f["target"] == "detect-notice-board"
                          and f["class"] == "injection-persistence"], [])

    def test_node_garbage_is_not_growth(self):
        self.assertEqual(self.findings("detect-node-garbage"), [])
        (res,) = [r for r in self.report["results"] if r["target"] == "detect-node-garbage"]
        # the series was long enough to judge: it flattened, and stopped there
        self.assertGreaterEqual(res["invocations"], 60)


if __name__ == "__main__":
    unittest.main()
