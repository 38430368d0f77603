"""scripts/matrix.py, the check `make demo` ends with, on hand-made reports:
the cell rules (a vulnerable sample needs a finding of its own class at
medium or above, a hardened twin none at medium or above, of any class),
sample variants (CLASS-LANG-KIND-VARIANT counts in the CLASS/LANG/KIND cell,
which is good only when every variant is), the printed layout and the exit
status. Starts no lab.
"""
import json
import os
import subprocess
import sys
import unittest

from labfixture import REPO, tmp_dir

MATRIX = os.path.join(REPO, "scripts", "matrix.py")


def finding(target, cls, severity):
    return {"target": target, "class": cls, "severity": severity, "scenario": cls, "title": "t"}


def report(targets, findings):
    return {"results": [{"target": t, "scenario": "x", "status": "passed"} for t in targets],
            "findings": findings}


def row(cls, *cells):
    """A matrix line as matrix.py pads it (widths 24, 20, 18, 18, 16)."""
    return "".join(f"{c:{w}}" for c, w in zip((cls,) + cells, (24, 20, 18, 18, 16)))


class MatrixTest(unittest.TestCase):
    def run_matrix(self, rep):
        d = tmp_dir("coldsec-matrix-", self)
        path = os.path.join(d, "report.json")
        with open(path, "w") as f:
            json.dump(rep, f)
        r = subprocess.run([sys.executable, MATRIX, path], capture_output=True, text=True, timeout=30)
        lines = r.stdout.splitlines()
        rows = {l.split()[0]: l for l in lines if l and not l.startswith(("class ", "matrix:"))}
        return r.returncode, lines, rows

    def test_every_cell_as_expected(self):
        targets = ["cross-user-leak-python-vulnerable", "cross-user-leak-python-hardened",
                   "cross-user-leak-node-vulnerable", "cross-user-leak-node-hardened",
                   "concurrent-state-python-vulnerable", "concurrent-state-python-hardened",
                   "concurrent-state-node-vulnerable", "concurrent-state-node-vulnerable-buffer",
                   "concurrent-state-node-hardened", "config-python-vulnerable", "config-python-hardened"]
        findings = [finding("cross-user-leak-python-vulnerable", "cross-user-leak", "high"),
                    finding("cross-user-leak-node-vulnerable", "cross-user-leak", "critical"),
                    finding("cross-user-leak-node-hardened", "config", "low"),   # low: still clean
                    finding("concurrent-state-python-vulnerable", "concurrent-state", "high"),
                    finding("concurrent-state-node-vulnerable", "concurrent-state", "high"),
                    finding("concurrent-state-node-vulnerable-buffer", "concurrent-state", "medium"),
                    finding("concurrent-state-node-vulnerable-buffer", "concurrent-state", "low"),
                    finding("config-python-vulnerable", "config", "medium")]
        rc, lines, rows = self.run_matrix(report(targets, findings))
        self.assertEqual(rc, 0, "\n".join(lines))
        self.assertIn(row("class", "python vulnerable", "python hardened", "node vulnerable", "node hardened"), lines)
        self.assertEqual(rows["cross-user-leak"], row("cross-user-leak", "high", "clean", "critical", "clean"))
        # the buffer variant's medium is the cell's least severity
        self.assertEqual(rows["concurrent-state"], row("concurrent-state", "high", "clean", "medium", "clean"))
        self.assertEqual(rows["config"], row("config", "medium", "clean", "-", "-"))
        self.assertEqual(rows["tmp-residue"], row("tmp-residue", "-", "-", "-", "-"))
        self.assertEqual(list(rows), ["injection-persistence", "cross-user-leak", "tmp-residue", "memory-growth",
                                      "secret-exposure", "concurrent-state", "config"])
        self.assertTrue(lines[-1].startswith("matrix: as expected ("), lines[-1])

    def test_a_variant_without_a_finding_fails_its_cell(self):
        targets = ["concurrent-state-node-vulnerable", "concurrent-state-node-vulnerable-buffer",
                   "concurrent-state-node-hardened"]
        for missing, label in (("concurrent-state-node-vulnerable-buffer", "buffer"),
                               ("concurrent-state-node-vulnerable", "base")):
            with self.subTest(missing=missing):
                found = [t for t in targets[:2] if t != missing]
                # a finding of another class does not count for the sample's own
                findings = [finding(t, "concurrent-state", "high") for t in found] + \
                           [finding(missing, "cross-user-leak", "high"),
                            finding(missing, "concurrent-state", "low")]
                rc, lines, rows = self.run_matrix(report(targets, findings))
                self.assertEqual(rc, 1)
                self.assertEqual(rows["concurrent-state"],
                                 row("concurrent-state", "-", "-", "NOT FOUND " + label, "clean"))
                self.assertTrue(lines[-1].startswith("matrix: NOT AS EXPECTED ("), lines[-1])

    def test_single_sample_cells_keep_their_text(self):
        rc, _, rows = self.run_matrix(report(["tmp-residue-node-vulnerable", "tmp-residue-node-hardened"],
                                             [finding("tmp-residue-node-hardened", "cross-user-leak", "high"),
                                              finding("tmp-residue-node-hardened", "tmp-residue", "medium")]))
        self.assertEqual(rc, 1)
        self.assertEqual(rows["tmp-residue"],
                         row("tmp-residue", "-", "-", "NOT FOUND", "FINDING cross-user-leak,tmp-residue"))

    def test_a_hardened_variant_with_a_finding_fails_its_cell(self):
        targets = ["concurrent-state-python-vulnerable", "concurrent-state-python-hardened",
                   "concurrent-state-python-hardened-locked"]
        findings = [finding("concurrent-state-python-vulnerable", "concurrent-state", "high"),
                    finding("concurrent-state-python-hardened-locked", "concurrent-state", "medium")]
        rc, _, rows = self.run_matrix(report(targets, findings))
        self.assertEqual(rc, 1)
        self.assertEqual(rows["concurrent-state"],
                         row("concurrent-state", "high", "FINDING concurrent-state", "-", "-"))

    def test_shipped_suite_names_parse(self):
        """Every sample target of scenarios.yaml is a cell of the matrix: a
        name the pattern did not take would silently drop out of it."""
        sys.path.insert(0, os.path.join(REPO, "scripts"))
        try:
            import matrix
        finally:
            sys.path.pop(0)
        import re
        names = re.findall(r"\{function: ([a-z0-9-]+)", open(os.path.join(REPO, "scenarios.yaml")).read())
        self.assertIn("concurrent-state-node-vulnerable-buffer", names)
        for name in names:
            with self.subTest(name=name):
                p = matrix.parse(name)
                self.assertIsNotNone(p)
                self.assertIn(p[0], matrix.CLASSES)
        self.assertEqual(matrix.parse("concurrent-state-node-vulnerable-buffer"),
                         ("concurrent-state", "node", "vulnerable", "buffer"))
        self.assertEqual(matrix.parse("cross-user-leak-python-hardened"),
                         ("cross-user-leak", "python", "hardened", ""))
        self.assertIsNone(matrix.parse("hello-python"))


if __name__ == "__main__":
    unittest.main()
