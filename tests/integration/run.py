#!/usr/bin/env python3
"""Runs the integration tests (tests/integration/test_*.py, unittest style).

Each test module starts its own coldsec-lab on an ephemeral port through
tests/integration/labfixture.py. Prints one line per test and ends with
"N passed, N failed" (", N skipped" when any), which tests/run.sh sums.
Usage: COLDSEC_BUILD=build python3 tests/integration/run.py [-k SUBSTRING]
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class LineResult(unittest.TextTestResult):
    """Prints a single line per test with its wall time."""

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def _line(self, test, verdict):
        # setUpClass failures are reported without a startTest
        ms = (time.monotonic() - getattr(self, "_t0", time.monotonic())) * 1000
        self.stream.write(f"{verdict:5} {test.id()} ({ms:.0f} ms)\n")
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self._line(test, "ok")

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._line(test, "FAIL")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._line(test, "ERROR")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._line(subtest, "FAIL")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._line(test, "skip")


def main():
    sys.path.insert(0, HERE)
    pattern = None
    if len(sys.argv) > 2 and sys.argv[1] == "-k":
        pattern = sys.argv[2]
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [f"*{pattern}*"]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0, resultclass=LineResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    line = f"{passed} passed, {failed} failed"
    if result.skipped:
        line += f", {len(result.skipped)} skipped"
    print(line)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
