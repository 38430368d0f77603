"""coldsec-lab's process life (issue 2, "The lab"): the one readiness line,
SIGTERM and SIGINT stop it cleanly with every environment killed (even one
in the middle of an invocation), configuration errors name file:line:column,
a busy port is a clean failure. Each test starts its own lab.
"""
import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import labfixture as lf
from labfixture import Lab, fn


class LabLifecycleTest(unittest.TestCase):
    def _stop_with_live_environments(self, sig):
        lab = Lab([fn("life-probe", timeout_s=30)]).start()
        try:
            results = lab.invoke_parallel("life-probe", [{"action": "sleep", "seconds": 0.5}] * 3)
            envs = {lf.assert_ok(self, r)["env_id"] for r in results}
            self.assertEqual(len(envs), 3)
            with concurrent.futures.ThreadPoolExecutor(1) as ex:
                busy = ex.submit(lab.invoke, "life-probe", {"action": "sleep", "seconds": 25}, None, False)
                marked = lf.wait_for(lambda: len(lf.runtime_procs(lab.marker)) >= 3, 5)
                self.assertTrue(marked, "control failed: the environments' processes cannot be found")
                time.sleep(0.3)  # the 25 s invocation is in flight
                tree = lab.children()
                self.assertTrue(tree, "control failed: the lab has no child processes")
                took = lab.stop(sig, timeout=10)
                try:
                    busy.result(timeout=10)
                except Exception:  # noqa: BLE001 - the lab went away under it: any outcome is fine
                    pass
            self.assertLess(took, 10)
            self.assertEqual(lf.still_running(tree), [], "processes of the lab survived it")
            self.assertEqual(lf.processes_with(lab.marker), [], "environments survived the lab")
        finally:
            lab.kill()

    def test_sigterm_stops_cleanly_and_kills_every_environment(self):
        self._stop_with_live_environments(signal.SIGTERM)

    def test_sigint_stops_cleanly_and_kills_every_environment(self):
        self._stop_with_live_environments(signal.SIGINT)

    def test_readiness_line_is_the_only_stdout(self):
        lab = Lab([fn("life-ready")]).start()
        try:
            self.assertEqual(lab.stdout_lines, [f"coldsec-lab listening on http://127.0.0.1:{lab.port}\n"])
            lf.assert_ok(self, lab.invoke("life-ready", {"action": "print", "text": "to the log, not stdout"}))
            lab.stop()  # fails when anything else reached stdout
        finally:
            lab.kill()

    def _run_lab(self, config_text, listen="127.0.0.1:0", timeout=15):
        tmp = tempfile.mkdtemp(prefix="coldsec-lab-test-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "lab.yaml")
        with open(path, "w") as f:
            f.write(config_text.replace("@CODE@", os.path.relpath(lf.PROBE_PY, tmp)))
        proc = subprocess.Popen([lf.lab_binary(), "--config", path, "--listen", listen],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail(f"coldsec-lab kept running on a bad start: stdout {out!r} stderr {err[-2000:]!r}")
        return path, proc.returncode, out.decode(), err.decode()

    def test_config_errors_name_file_line_column(self):
        base = ('region: "us-east-1"\n'
                'functions:\n'
                '  - name: "cfg"\n'
                '    runtime: "python3.11"\n'
                '    handler: "handler.handler"\n'
                '    code: "@CODE@"\n')
        cases = [
            # (text, line, column) of the offending node, 1-based
            (base + "    memroy_mb: 128\n", 7, 5),
            (base + "    memory_mb: lots\n", 7, 16),
            (base.replace('runtime: "python3.11"', 'runtime: "cobol85"'), 4, 14),
        ]
        for text, line, col in cases:
            with self.subTest(line=line, col=col):
                path, rc, out, err = self._run_lab(text)
                self.assertNotEqual(rc, 0, "a bad config was accepted")
                self.assertGreater(rc, 0, f"the lab died of signal {-rc} on a bad config")
                self.assertEqual(out, "", "readiness line printed for a bad config")
                self.assertIn(f"{path}:{line}:{col}", err, f"error does not name file:line:column: {err!r}")

    def test_missing_config_and_code_folder_are_clean_errors(self):
        path, rc, out, err = self._run_lab('functions:\n  - name: "x"\n    runtime: "python3.11"\n'
                                           '    handler: "h.h"\n    code: "no/such/folder"\n')
        self.assertGreater(rc, 0)
        self.assertEqual(out, "")
        self.assertIn(path, err)
        proc = subprocess.run([lf.lab_binary(), "--config", "/nonexistent/coldsec.yaml",
                               "--listen", "127.0.0.1:0"], capture_output=True, timeout=15)
        self.assertGreater(proc.returncode, 0)
        self.assertEqual(proc.stdout, b"")
        self.assertIn(b"/nonexistent/coldsec.yaml", proc.stderr)

    def test_port_in_use_is_a_clean_error(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        try:
            _path, rc, out, err = self._run_lab(
                'functions:\n  - name: "p"\n    runtime: "python3.11"\n    handler: "handler.handler"\n'
                '    code: "@CODE@"\n', listen=f"127.0.0.1:{port}")
        finally:
            s.close()
        self.assertGreater(rc, 0, f"status {rc} with the port taken")
        self.assertEqual(out, "")
        self.assertTrue(err.strip(), "no diagnostic on stderr")


if __name__ == "__main__":
    unittest.main()
