"""The lab's Node and Python bootstraps as Managed Instances runtimes (issue 14).

Functions with max_concurrency N run in one environment with
AWS_LAMBDA_MAX_CONCURRENCY=N and AWS_LAMBDA_LOG_FORMAT=JSON; the bootstraps
then serve N requests at once as AWS documents:
- Node (functions/mi-node): worker threads, init once per worker, module
  state shared by the requests of one worker, async handlers overlapping on
  a worker, a synchronous one serving one at a time; console.* as JSON lines
  carrying the requestId of the request whose code logs, across awaits.
- Python (functions/mi-python): N processes, each its own init and memory,
  one request at a time each, /tmp shared; logging as JSON lines with the
  process's current requestId; print() raw.

Ordering is by the test, never by time: an invocation with {"hold": PORT}
connects back to a socket of the test and waits for its byte, so "N running
at once" is N accepted connections, and the test decides when they end.
"""
import concurrent.futures
import json
import os
import socket
import unittest
import uuid

import labfixture as lf
from labfixture import Lab, fn

MI_NODE = os.path.join(lf.FUNCTIONS, "mi-node")
MI_PYTHON = os.path.join(lf.FUNCTIONS, "mi-python")
N = 4
N_PY = 3


def node_mi(name, workers, handler="index.handler", n=N):
    return fn(name, runtime="nodejs22.x", handler=handler, code=MI_NODE, network="host",
              timeout_s=30, max_concurrency=n,
              environment={"AWS_LAMBDA_NODEJS_WORKER_COUNT": str(workers)})


class Holder:
    """A listening socket the held invocations connect to."""

    def __init__(self, test):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(60)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        test.addCleanup(self.close)

    def accept(self, n):
        """Waits until n more invocations are running (connected)."""
        for _ in range(n):
            c, _ = self.sock.accept()
            self.conns.append(c)

    def release(self):
        for c in self.conns:
            try:
                c.sendall(b"x")
            finally:
                c.close()
        self.conns = []

    def close(self):
        self.release()
        self.sock.close()


class ManagedRuntimesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab([
            node_mi("mi-node-1w", 1),
            node_mi("mi-node-2w", 2),
            node_mi("mi-node-logs", 1),
            node_mi("mi-node-busy", 1, handler="index.busy"),
            fn("mi-python", runtime="python3.13", handler="handler.handler", code=MI_PYTHON,
               network="host", timeout_s=30, max_concurrency=N_PY),
            fn("mi-python-logs", runtime="python3.13", handler="handler.handler", code=MI_PYTHON,
               network="host", timeout_s=30, max_concurrency=N_PY),
            dict(node_mi("mi-node-timeout", 1, n=2), timeout_s=2),
            fn("mi-python-timeout", runtime="python3.13", handler="handler.handler", code=MI_PYTHON,
               network="host", timeout_s=2, max_concurrency=2),
        ]).start()
        cls.pool = concurrent.futures.ThreadPoolExecutor(16)

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown(wait=True)
        cls.lab.stop()

    def submit(self, name, event):
        def one():
            try:
                return self.lab.invoke(name, event)
            except Exception as e:  # noqa: BLE001 - returned to the test
                return e
        return self.pool.submit(one)

    def result(self, fut):
        r = fut.result(60)
        self.assertNotIsInstance(r, Exception, repr(r))
        lf.assert_ok(self, r)
        return r

    def held_round(self, name, events):
        """Sends the events at once, each held until all are running; returns
        the Invocations in the events' order."""
        h = Holder(self)
        futs = [self.submit(name, dict(e, hold=h.port)) for e in events]
        h.accept(len(events))
        h.release()
        return [self.result(f) for f in futs]

    def env_log(self, name, stream):
        files = self.lab.find_log_files(name)
        self.assertIn(stream, files, files)
        with open(files[stream], encoding="utf-8") as f:
            return f.read()

    @staticmethod
    def json_lines(text):
        return [json.loads(line) for line in text.split("\n") if line.startswith("{")]

    def timed_out_worker_goes_on(self, name):
        """A held request times out alone; once released, its late /response
        is refused and its worker serves again: both slots take a request at
        once."""
        h = Holder(self)
        slow = self.submit(name, {"hold": h.port})
        h.accept(1)
        other = self.result(self.submit(name, {}))
        r = slow.result(60)
        self.assertNotIsInstance(r, Exception, repr(r))
        self.assertEqual(r.payload["errorType"], "Sandbox.Timedout", r.payload)
        h.release()
        again = [r.payload for r in self.held_round(name, [{}, {}])]
        self.assertEqual({a["stream"] for a in again}, {other.payload["stream"]}, again)
        return again

    # -- Node ---------------------------------------------------------------

    def test_node_timed_out_request_leaves_its_worker_serving(self):
        again = self.timed_out_worker_goes_on("mi-node-timeout")
        self.assertEqual(len({a["initId"] for a in again}), 1, again)

    def test_node_one_worker_overlapping_requests_share_its_state(self):
        answers = [r.payload for r in self.held_round("mi-node-1w", [{} for _ in range(N)])]
        self.assertEqual(len({a["stream"] for a in answers}), 1, answers)
        self.assertEqual(len({a["initId"] for a in answers}), 1, answers)
        # All N were in flight on the one worker at once: the last to count saw N.
        self.assertEqual(max(a["peak"] for a in answers), N, answers)

    def test_node_two_workers_init_apart(self):
        # N running at once needs every slot, and each worker has N/2 of them.
        answers = [r.payload for r in self.held_round("mi-node-2w", [{} for _ in range(N)])]
        self.assertEqual(len({a["stream"] for a in answers}), 1, answers)
        per_init = {}
        for a in answers:
            per_init[a["initId"]] = per_init.get(a["initId"], 0) + 1
        self.assertEqual(sorted(per_init.values()), [N // 2, N // 2], answers)
        self.assertEqual(len({a["threadId"] for a in answers}), 2, answers)
        log = self.env_log("mi-node-2w", answers[0]["stream"])
        inits = [rec for rec in self.json_lines(log) if rec.get("message", "").startswith("init ")]
        self.assertEqual(sorted(rec["message"][5:] for rec in inits), sorted(per_init), log[-2000:])

    def test_node_synchronous_handler_never_overlaps_on_its_worker(self):
        streams = set()
        for _ in range(3):
            futs = [self.submit("mi-node-busy", {}) for _ in range(N)]
            for f in futs:
                a = self.result(f).payload
                self.assertEqual(a["peak"], 1, a)
                streams.add(a["stream"])
        self.assertEqual(len(streams), 1, streams)

    def test_node_json_console_lines_carry_their_request_across_awaits(self):
        markers = ["n%d-%s" % (i, uuid.uuid4().hex[:8]) for i in range(N)]
        results = self.held_round("mi-node-logs", [{"marker": m} for m in markers])
        stream = results[0].payload["stream"]
        log = self.env_log("mi-node-logs", stream)
        recs = self.json_lines(log)
        for m, r in zip(markers, results):
            mine = [rec for rec in recs if rec.get("message") in ("before " + m, "after " + m)]
            self.assertEqual([rec["message"] for rec in mine], ["before " + m, "after " + m], log[-3000:])
            for rec in mine:
                self.assertEqual(rec["requestId"], r.request_id, rec)
                self.assertEqual(rec["level"], "INFO")
                self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn("\nraw %s\n" % m, log)
            # The request's own tail holds its lines, attributed to it.
            tail = self.json_lines(r.log)
            self.assertTrue(any(rec.get("message") == "after " + m and rec.get("requestId") == r.request_id
                                for rec in tail), r.log)
        for rec in recs:
            if rec.get("message", "").startswith("init "):
                self.assertNotIn("requestId", rec)

    # -- Python -------------------------------------------------------------

    def test_python_processes_own_init_and_memory_share_tmp(self):
        tag = "coldsec-mi-" + uuid.uuid4().hex
        self.addCleanup(lambda: self.lab.invoke("mi-python", {"cleanup": tag}))
        results = self.held_round("mi-python", [{"dir": tag} for _ in range(N_PY)])
        answers = [r.payload for r in results]
        self.assertEqual(len({a["stream"] for a in answers}), 1, answers)
        self.assertEqual(len({a["pid"] for a in answers}), N_PY, answers)
        self.assertEqual(len({a["init"] for a in answers}), N_PY, answers)
        for a in answers:
            self.assertEqual(a["peak"], 1, a)  # module globals are per process
            # Every request wrote its file before it was held: each sees all of them.
            self.assertEqual(a["seen"], sorted(r.request_id for r in results), a)
        log = self.env_log("mi-python", answers[0]["stream"])
        inits = [rec for rec in self.json_lines(log) if rec.get("message", "").startswith("init ")]
        self.assertEqual(sorted(rec["message"][5:] for rec in inits), sorted(a["init"] for a in answers),
                         log[-2000:])
        removed = lf.assert_ok(self, self.lab.invoke("mi-python", {"cleanup": tag}))
        self.assertEqual(removed, {"removed": tag})

    def test_python_timed_out_request_leaves_its_process_serving(self):
        again = self.timed_out_worker_goes_on("mi-python-timeout")
        self.assertEqual(len({a["pid"] for a in again}), 2, again)

    def test_python_logging_json_with_request_id_print_raw(self):
        markers = ["p%d-%s" % (i, uuid.uuid4().hex[:8]) for i in range(N_PY)]
        results = self.held_round("mi-python-logs", [{"marker": m} for m in markers])
        log = self.env_log("mi-python-logs", results[0].payload["stream"])
        recs = self.json_lines(log)
        for m, r in zip(markers, results):
            mine = [rec for rec in recs if rec.get("message") in ("before " + m, "after " + m)]
            self.assertEqual([rec["message"] for rec in mine], ["before " + m, "after " + m], log[-3000:])
            for rec in mine:
                self.assertEqual(rec["requestId"], r.request_id, rec)
                self.assertEqual((rec["level"], rec["logger"]), ("INFO", "mi"), rec)
                self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertIn("\nraw %s\n" % m, log)
        for rec in recs:
            if rec.get("message", "").startswith("init "):
                self.assertEqual(rec["requestId"], "", rec)  # as awslambdaric: no request yet


if __name__ == "__main__":
    unittest.main()
