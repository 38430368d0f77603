"""No leaks (issue 2, last "Done means" bullet): after 10,000 invocations and
after SIGTERM, no leaked processes, file descriptors, threads or zombies.

The invocations go to the `provided` C hello function (build/functions/
hello-c, built by `make`; the Python probe when it has not been built) from
16 threads, each on one keep-alive connection, every request SigV4-signed.
The function retires its environments after 2 s idle, so between phases the
lab must come back to exactly the fds, threads and children it had: a
warm-up phase first pays any one-time lazy set-up, then 10,000 invocations
must not move the numbers at all.
"""
import concurrent.futures
import http.client
import json
import time
import unittest

import botocore.auth
import botocore.awsrequest
import botocore.credentials

import labfixture as lf
from labfixture import Lab, fn

THREADS = 16
TOTAL = 10_000


def _function():
    d = lf.hello_c_dir()
    if d is not None:
        return fn("leak-fn", runtime="provided", handler=None, code=d, timeout_s=3,
                  reserved_concurrency=THREADS, idle_timeout_s=2)
    return fn("leak-fn", timeout_s=3, reserved_concurrency=THREADS, idle_timeout_s=2)


class LabLeaksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.function = _function()
        cls.lab = Lab([cls.function]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def _worker(self, count):
        """count signed invocations on one keep-alive connection; returns
        (ok, failures, reconnects)."""
        lab = self.lab
        auth = botocore.auth.SigV4Auth(botocore.credentials.Credentials(lab.key, lab.secret),
                                       "lambda", lab.region)
        path = lab.invocations_path("leak-fn")
        url = lab.url + path
        conn = http.client.HTTPConnection("127.0.0.1", lab.port, timeout=30)
        ok, failures, reconnects = 0, [], 0
        try:
            for _ in range(count):
                for attempt in range(2):
                    req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=b"{}")
                    auth.add_auth(req)
                    try:
                        conn.request("POST", path, body=b"{}", headers=dict(req.headers.items()))
                        r = conn.getresponse()
                        body = r.read()
                        break
                    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                        # the lab closed an idle keep-alive connection: reconnect once
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", lab.port, timeout=30)
                        reconnects += 1
                        if attempt == 1:
                            raise
                if r.status != 200 or r.getheader("X-Amz-Function-Error"):
                    failures.append((r.status, r.getheader("X-Amz-Function-Error"), body[:300]))
                    continue
                try:
                    json.loads(body)
                except ValueError:
                    failures.append((r.status, "not JSON", body[:300]))
                    continue
                ok += 1
        finally:
            conn.close()
        return ok, failures, reconnects

    def _run(self, total):
        per = [total // THREADS + (1 if i < total % THREADS else 0) for i in range(THREADS)]
        with concurrent.futures.ThreadPoolExecutor(THREADS) as ex:
            results = list(ex.map(self._worker, per))
        ok = sum(r[0] for r in results)
        failures = [f for r in results for f in r[1]]
        self.assertEqual(ok + len(failures), total)
        return failures, sum(r[2] for r in results)

    def _settle(self, children0):
        """Waits for every environment to retire (idle timeout 2 s) and the
        lab's connection fds to close; returns (fds, threads, children)."""
        lab = self.lab

        def quiet():
            return (not lf.processes_with(lab.marker) and not lab.zombies()
                    and len(lab.children()) == len(children0))

        self.assertTrue(lf.wait_for(quiet, 30, 0.1),
                        f"environments not retired 30 s after the last invocation: "
                        f"children {lab.children()}, zombies {lab.zombies()}, "
                        f"marked {lf.processes_with(lab.marker)}")

        def stable():
            a = lab.fds()
            time.sleep(0.3)
            return a if a == lab.fds() else None

        fds = lf.wait_for(stable, 10)
        self.assertTrue(fds, "the lab's file descriptors never settled")
        return fds, lab.threads(), lab.children()

    def test_1_ten_thousand_invocations_leak_nothing(self):
        lab = self.lab
        children0 = lab.children()
        warm_failures, _ = self._run(THREADS * 25)  # warm-up: every environment started once
        fds1, threads1, children1 = self._settle(children0)
        t0 = time.monotonic()
        failures, reconnects = self._run(TOTAL)
        took = time.monotonic() - t0
        # one line for the report: how fast this machine ran it
        print(f"\n    {TOTAL} invocations in {took:.1f} s ({TOTAL / took:.0f}/s, "
              f"{reconnects} reconnects) with {self.function['runtime']}", flush=True)
        self.assertTrue(lab.alive(), f"coldsec-lab died; stderr:\n{lab.stderr_tail()}")
        fds2, threads2, children2 = self._settle(children0)
        grown = {fd: target for fd, target in fds2.items() if fds1.get(fd) != target}
        self.assertEqual(len(fds2), len(fds1),
                         f"fds after warm-up {len(fds1)}, after {TOTAL} invocations {len(fds2)}; "
                         f"new or changed: {dict(list(grown.items())[:20])}")
        self.assertEqual(threads2, threads1, "the lab's thread count changed")
        self.assertEqual(sorted(p.comm for p in children2), sorted(p.comm for p in children1),
                         "the lab's child processes changed")
        self.assertEqual(lab.zombies(), [])
        # checked last, so that a failing invocation does not hide a leak
        self.assertEqual(warm_failures[:3], [], f"{len(warm_failures)} warm-up invocations failed")
        self.assertEqual(failures[:3], [], f"{len(failures)} of {TOTAL} invocations failed")

    def test_2_sigterm_leaves_no_process_behind(self):
        lab = self.lab
        results = lab.invoke_parallel("leak-fn", [{}] * THREADS)
        for r in results:
            self.assertNotIsInstance(r, Exception, repr(r))
            lf.assert_ok(self, r)
        self.assertTrue(lf.runtime_procs(lab.marker), "control failed: no environment process found")
        tree = lab.children()
        self.assertTrue(tree)
        lab.stop(timeout=15)  # exit 0, no signal, nothing carrying the marker left
        self.assertEqual(lf.still_running(tree), [])
        self.assertEqual(lf.processes_with(lab.marker), [])


if __name__ == "__main__":
    unittest.main()
