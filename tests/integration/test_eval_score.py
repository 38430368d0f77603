"""make eval's scoring (scripts/eval.py, issue 12): a weakness is found only
when every run found it at medium or above; a finding at medium or above in
a class the function neither expects nor allows is a false positive; a
target that could not be tested is neither a pass nor a find. Fixture
reports, no lab."""
import importlib.util
import json
import os
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("coldsec_eval", os.path.join(ROOT, "scripts", "eval.py"))
ev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ev)


def fn(name, expect=(), allow=()):
    return {"name": name, "expect": list(expect), "allow": list(allow), "kind": "corpus", "why": ""}


def report(findings=(), results=None):
    """findings: (target, class, severity) tuples; every target gets a result."""
    targets = {t for t, _, _ in findings}
    rs = results if results is not None else [
        {"target": t, "scenario": "cross-user-leak", "status": "findings"} for t in sorted(targets)]
    return {"results": rs, "findings": [
        {"target": t, "class": c, "severity": s, "scenario": c, "assertion": "a"} for t, c, s in findings]}


def ok_results(*names):
    return [{"target": n, "scenario": "cross-user-leak", "status": "passed"} for n in names]


class ScoreTest(unittest.TestCase):
    def test_found_only_when_every_run_finds_it(self):
        fns = [fn("steady", ["cross-user-leak"]), fn("flaky", ["injection-persistence"])]
        r1 = report([("steady", "cross-user-leak", "high"), ("flaky", "injection-persistence", "critical")])
        r2 = report([("steady", "cross-user-leak", "high")], results=ok_results("steady", "flaky"))
        res = ev.score(fns, [("seed 1 jobs 1", r1), ("seed 1 jobs 4", r2)])
        self.assertEqual(res["classes"]["cross-user-leak"]["found"], ["steady"])
        self.assertEqual(res["classes"]["injection-persistence"]["found"], [])
        self.assertIn("missed in 1 of 2 runs (seed 1 jobs 4)", res["classes"]["injection-persistence"]["missed"]["flaky"])
        self.assertFalse(ev.passed(res))

    def test_low_is_neither_a_find_nor_a_false_positive(self):
        fns = [fn("weak", ["memory-growth"]), fn("control")]
        r = report([("weak", "memory-growth", "low"), ("control", "memory-growth", "low")])
        res = ev.score(fns, [("run", r)])
        self.assertEqual(res["classes"]["memory-growth"]["found"], [])
        self.assertIn("weak", res["classes"]["memory-growth"]["missed"])
        self.assertEqual(res["false_positives"], {})

    def test_false_positive_unless_expected_or_allowed(self):
        fns = [fn("control"), fn("tmpcache", ["tmp-residue"], allow=["cross-user-leak"]),
               fn("leaky", ["cross-user-leak"])]
        r = report([("control", "memory-growth", "medium"), ("tmpcache", "tmp-residue", "high"),
                    ("tmpcache", "cross-user-leak", "high"), ("leaky", "cross-user-leak", "high"),
                    ("leaky", "injection-persistence", "critical")])
        res = ev.score(fns, [("run", r)])
        self.assertEqual(sorted(res["false_positives"]), ["control", "leaky"])
        self.assertIn("memory-growth", res["false_positives"]["control"][0])
        self.assertIn("injection-persistence", res["false_positives"]["leaky"][0])
        self.assertEqual(res["classes"]["tmp-residue"]["found"], ["tmpcache"])
        self.assertFalse(ev.passed(res))

    def test_untested_target_fails_the_evaluation(self):
        fns = [fn("control"), fn("gone")]
        r = report(results=ok_results("control") + [
            {"target": "control", "scenario": "tmp-residue", "status": "untestable", "detail": "lab died"}])
        res = ev.score(fns, [("run", r)])
        self.assertIn("control", res["untested"])
        self.assertIn("gone", res["untested"])
        self.assertFalse(ev.passed(res))

    def test_clean_evaluation_passes_and_renders_recall(self):
        fns = [fn("a", ["secret-exposure"]), fn("b")]
        r = report([("a", "secret-exposure", "high")], results=ok_results("a", "b"))
        res = ev.score(fns, [("run", r)])
        self.assertTrue(ev.passed(res))
        text = ev.render(res, fns, "make eval", [("run", 12.0)])
        self.assertIn("| secret-exposure | 1 | 1 | 100 % | none |", text)
        self.assertIn("False positives (medium or above, a class the function neither expects nor allows): "
                      "0 of 2 functions, 0 of 1 controls", text)

    def test_concurrent_state_applies_exactly_to_managed_instances(self):
        classic, mi = fn("classic"), dict(fn("mi", ["concurrent-state"]), concurrency=8)
        good = report([("mi", "concurrent-state", "high")], results=[
            {"target": "classic", "scenario": "concurrent-state", "status": "not_applicable"},
            {"target": "mi", "scenario": "concurrent-state", "status": "findings"}])
        res = ev.score([classic, mi], [("run", good)])
        self.assertTrue(ev.passed(res), res)
        # a pass where it cannot apply, or "not applicable" where it must
        bad = report(results=[
            {"target": "classic", "scenario": "concurrent-state", "status": "passed"},
            {"target": "mi", "scenario": "concurrent-state", "status": "not_applicable"}])
        res = ev.score([classic, fn("mi-control") | {"name": "mi", "concurrency": 8}], [("run", bad)])
        self.assertEqual(sorted(res["untested"]), ["classic", "mi"])
        self.assertIn("concurrent-state: passed on a function with max concurrency 1", res["untested"]["classic"][0])
        # another scenario is never "not applicable"
        other = report(results=[{"target": "classic", "scenario": "tmp-residue", "status": "not_applicable"}])
        self.assertIn("classic", ev.score([classic], [("run", other)])["untested"])

    def test_corpus_entry_errors_name_the_file(self):
        with tempfile.TemporaryDirectory(prefix="coldsec-eval-") as d:
            os.mkdir(os.path.join(d, "py-x"))
            path = os.path.join(d, "py-x", "eval.json")
            with open(path, "w") as f:
                json.dump({"runtime": "python3.12", "handler": "h.h", "baseline": {}, "expect": ["leaks"]}, f)
            with self.assertRaisesRegex(ev.EvalError, r"py-x/eval.json: expect: 'leaks' is not one of"):
                ev.load_corpus(d)
            with open(path, "w") as f:
                f.write('{"runtime": "python3.12",\n "handler": }')
            with self.assertRaisesRegex(ev.EvalError, r"py-x/eval.json:2:13: "):
                ev.load_corpus(d)


class CorpusTest(unittest.TestCase):
    """The corpus itself (eval/README.md): loadable, at least 30 functions,
    Python and Node, at least 40 % controls."""

    def test_corpus_shape(self):
        fns = ev.load_corpus(os.path.join(ROOT, "eval", "corpus"))
        self.assertGreaterEqual(len(fns), 30)
        controls = [f for f in fns if not f["expect"]]
        self.assertGreaterEqual(len(controls) / len(fns), 0.4)
        runtimes = {f["lab"]["runtime"].rstrip("0123456789.x") for f in fns}
        self.assertEqual(runtimes, {"python", "nodejs"})
        for f in fns:
            self.assertTrue(f["why"], f"{f['name']}: eval.json needs a 'why'")


if __name__ == "__main__":
    unittest.main()
