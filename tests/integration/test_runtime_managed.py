"""The Managed Instances paths of the Node and Python bootstraps, without the lab.

With AWS_LAMBDA_MAX_CONCURRENCY=N > 1 the bootstraps keep N GET /next out at
once (Node: worker threads, each running its share of N loops; Python: N
forked worker processes). The fake Runtime API of test_runtime_contract.py
(a ThreadingHTTPServer: every /next waits on the one queue of events) serves
them. Concurrency is shown by order, never by timing: a request marks
itself started (a file in a scratch folder) and waits until the test, having
seen enough started marks at once, writes a release file; a runtime that
kept fewer /next out would never get there and the wait_post fails.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from test_runtime_contract import NODE, NODE_BOOTSTRAP, PY_BOOTSTRAP, PYTHON, WAIT, RuntimeCase

# A Node handler that waits, without timers of its own beyond a 5 ms poll,
# until the file `release` exists in the folder the event names.
NODE_GATE = """
const fs = require('fs');
const path = require('path');
const { threadId } = require('worker_threads');
const initId = `${process.pid}-${threadId}-${Math.random()}`;
let inFlight = 0;
let peak = 0;
console.log('init line');
function released(dir) {
  return new Promise((resolve) => {
    const poll = () => (fs.existsSync(path.join(dir, 'release')) ? resolve() : setTimeout(poll, 5));
    poll();
  });
}
exports.handler = async (event, context) => {
  inFlight++;
  peak = Math.max(peak, inFlight);
  console.log('before', event.marker);
  fs.writeFileSync(path.join(event.dir, `started-${context.awsRequestId}`), '');
  await released(event.dir);
  console.log('after', event.marker);
  process.stdout.write(`raw ${event.marker}\\n`);
  const seen = peak;
  inFlight--;
  return { initId, threadId, peak: seen, id: context.awsRequestId };
};
exports.busy = (event, context) => {
  inFlight++;
  peak = Math.max(peak, inFlight);
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += i % 7;
  const seen = peak;
  inFlight--;
  return { peak: seen, x };
};
"""

PY_GATE = """
import json, logging, os, time
logger = logging.getLogger("gate")
logger.setLevel(logging.INFO)
INIT = "%d-%f" % (os.getpid(), time.time())
in_flight = 0
peak = 0
logger.info("init %s", INIT)

def handler(event, context):
    global in_flight, peak
    in_flight += 1
    peak = max(peak, in_flight)
    d = event["dir"]
    logger.info("before %s", event["marker"])
    print("raw %s" % event["marker"])
    with open(os.path.join(d, "started-%s" % context.aws_request_id), "w") as f:
        f.write(str(os.getpid()))
    while not os.path.exists(os.path.join(d, "release")):
        time.sleep(0.005)
    others = sorted(n for n in os.listdir(d) if n.startswith("started-"))
    logger.info("after %s", event["marker"])
    seen = peak
    in_flight -= 1
    return {"pid": os.getpid(), "init": INIT, "peak": seen, "others": len(others)}

def broken(event, context):
    return "never"
"""


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return "zombie" not in f.read()
    except OSError:
        return False


def json_lines(log):
    out = []
    for line in log.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


class ManagedCase(RuntimeCase):
    def scratch(self):
        d = tempfile.mkdtemp(prefix="coldsec-rtmi-")
        self._rt_cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
        return d

    def wait_started(self, proc, d, n):
        """Waits (by polling the folder, up to WAIT) until n requests are in flight."""
        import time

        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            if sum(1 for x in os.listdir(d) if x.startswith("started-")) >= n:
                return
            time.sleep(0.01)
        self.fail("only %d of %d requests in flight at once; output:\n%s"
                  % (sum(1 for x in os.listdir(d) if x.startswith("started-")), n, proc.output()[-2000:]))

    def gate_round(self, api, proc, n, d):
        ids = {api.add({"dir": d, "marker": "m%d" % i}): "m%d" % i for i in range(n)}
        self.wait_started(proc, d, n)
        with open(os.path.join(d, "release"), "w"):
            pass
        posts = [api.wait_post() for _ in range(n)]
        self.assertEqual({p["id"] for p in posts}, set(ids))
        for p in posts:
            self.assertEqual(p["kind"], "response", p)
        return ids, {p["id"]: json.loads(p["body"]) for p in posts}


@unittest.skipUnless(NODE, "node not installed")
class NodeManaged(ManagedCase):
    def node(self, root, handler, env):
        base = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
        base.update(env)
        return self.start([NODE, NODE_BOOTSTRAP], root, handler, base)

    def test_one_worker_runs_n_at_once_sharing_module_state(self):
        root = self.task_root({"index.js": NODE_GATE})
        api, proc = self.node(root, "index.handler",
                              {"AWS_LAMBDA_MAX_CONCURRENCY": "4", "AWS_LAMBDA_NODEJS_WORKER_COUNT": "1"})
        ids, results = self.gate_round(api, proc, 4, self.scratch())
        self.assertEqual(len({r["initId"] for r in results.values()}), 1, results)
        self.assertEqual(max(r["peak"] for r in results.values()), 4, results)
        self.assertEqual(len(api.peers), 4, "one Runtime API connection per slot")

    def test_two_workers_init_apart_and_share_out_the_slots(self):
        root = self.task_root({"index.js": NODE_GATE})
        api, proc = self.node(root, "index.handler",
                              {"AWS_LAMBDA_MAX_CONCURRENCY": "4", "AWS_LAMBDA_NODEJS_WORKER_COUNT": "2"})
        # 4 in flight at once needs both workers: each has 2 of the 4 slots.
        _, results = self.gate_round(api, proc, 4, self.scratch())
        inits = {}
        for r in results.values():
            inits.setdefault(r["initId"], 0)
            inits[r["initId"]] += 1
        self.assertEqual(sorted(inits.values()), [2, 2], results)
        self.assertEqual(len({r["threadId"] for r in results.values()}), 2, results)
        out = proc.output()
        self.assertEqual(out.count('"message":"init line"'), 2, out[-2000:])

    def test_json_console_lines_carry_their_request_across_awaits(self):
        root = self.task_root({"index.js": NODE_GATE})
        api, proc = self.node(root, "index.handler",
                              {"AWS_LAMBDA_MAX_CONCURRENCY": "3", "AWS_LAMBDA_NODEJS_WORKER_COUNT": "1"})
        ids, _ = self.gate_round(api, proc, 3, self.scratch())
        out = proc.output()
        lines = json_lines(out)
        by_marker = {}
        for rec in lines:
            self.assertEqual(set(rec) >= {"timestamp", "level", "message"}, True, rec)
            self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            m = re.match(r"^(before|after) (m\d)$", rec["message"])
            if m:
                self.assertEqual(rec["level"], "INFO")
                by_marker.setdefault(m.group(2), []).append(rec["requestId"])
            elif rec["message"] == "init line":
                self.assertNotIn("requestId", rec)
        for rid, marker in ids.items():
            self.assertEqual(by_marker.get(marker), [rid, rid], (marker, by_marker))
        for marker in ids.values():
            self.assertIn("\nraw %s\n" % marker, out)

    def test_synchronous_handler_serves_one_at_a_time_per_worker(self):
        root = self.task_root({"index.js": NODE_GATE})
        api, proc = self.node(root, "index.busy",
                              {"AWS_LAMBDA_MAX_CONCURRENCY": "4", "AWS_LAMBDA_NODEJS_WORKER_COUNT": "1"})
        ids = [api.add({}) for _ in range(8)]
        posts = [api.wait_post() for _ in ids]
        self.assertEqual({p["id"] for p in posts}, set(ids))
        for p in posts:
            self.assertEqual(p["kind"], "response", p)
            self.assertEqual(json.loads(p["body"])["peak"], 1, p)

    def test_init_error_posted_once_then_exit(self):
        root = self.task_root({"index.js": "throw new Error('boom at init');\n"})
        api, proc = self.node(root, "index.handler",
                              {"AWS_LAMBDA_MAX_CONCURRENCY": "4", "AWS_LAMBDA_NODEJS_WORKER_COUNT": "3"})
        post = api.wait_post()
        self.assertEqual(post["kind"], "init_error", post)
        self.assertEqual(json.loads(post["body"])["errorMessage"], "boom at init")
        self.assert_exits(proc, 129)
        self.assertTrue(api.posts.empty(), "a second /init/error")

    def test_coverage_is_off_with_a_note(self):
        root = self.task_root({"index.js": NODE_GATE})
        api, proc = self.node(root, "index.busy", {"AWS_LAMBDA_MAX_CONCURRENCY": "2",
                                                   "COLDSEC_COVERAGE": os.path.join(root, "nope")})
        self.invoke(api, {})
        self.assertIn("coverage off: not supported with AWS_LAMBDA_MAX_CONCURRENCY > 1", proc.output())

    def test_uncaught_exception_fails_the_workers_requests_and_the_others_go_on(self):
        root = self.task_root({"index.js": """
            const { threadId } = require('worker_threads');
            exports.handler = async (event) => {
              if (event.crash) { setImmediate(() => { throw new Error('kaboom'); }); return new Promise(() => {}); }
              return { threadId };
            };
        """})
        api, proc = self.node(root, "index.handler",
                              {"AWS_LAMBDA_MAX_CONCURRENCY": "2", "AWS_LAMBDA_NODEJS_WORKER_COUNT": "2"})
        rid = api.add({"crash": True})
        post = api.wait_post()
        self.assertEqual((post["id"], post["kind"]), (rid, "error"), post)
        self.assertEqual(json.loads(post["body"])["errorMessage"], "kaboom")
        # The other worker still serves; once both are gone the runtime ends.
        post = self.invoke(api, {})
        self.assertEqual(post["kind"], "response", post)
        api.add({"crash": True})
        self.assertEqual(api.wait_post()["kind"], "error")
        self.assert_exits(proc, 129)

    def test_bad_worker_count_is_named_and_replaced(self):
        root = self.task_root({"index.js": NODE_GATE})
        for value, says, workers in (("zero", "is not a positive integer: ", None),
                                     ("9", "is more than AWS_LAMBDA_MAX_CONCURRENCY=2: 2 workers", 2)):
            api, proc = self.node(root, "index.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": "2",
                                                          "AWS_LAMBDA_NODEJS_WORKER_COUNT": value})
            _, results = self.gate_round(api, proc, 2, self.scratch())
            self.assertIn('AWS_LAMBDA_NODEJS_WORKER_COUNT="%s" %s' % (value, says), proc.output())
            if workers:
                self.assertEqual(len({r["threadId"] for r in results.values()}), workers, results)

    def test_classic_when_max_concurrency_is_one(self):
        root = self.task_root({"index.js": NODE_GATE})
        api, proc = self.node(root, "index.busy", {"AWS_LAMBDA_MAX_CONCURRENCY": "1"})
        post = self.invoke(api, {})
        self.assertEqual(post["kind"], "response")
        self.assertEqual(len(api.peers), 1)


class PythonManaged(ManagedCase):
    def py(self, root, handler, env):
        base = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
        base.update(env)
        return self.start([PYTHON, PY_BOOTSTRAP], root, handler, base)

    def test_n_processes_own_init_and_memory_share_tmp(self):
        root = self.task_root({"fn.py": PY_GATE})
        api, proc = self.py(root, "fn.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": "3"})
        ids, results = self.gate_round(api, proc, 3, self.scratch())
        self.assertEqual(len({r["pid"] for r in results.values()}), 3, results)
        self.assertEqual(len({r["init"] for r in results.values()}), 3, results)
        for r in results.values():
            self.assertEqual(r["peak"], 1, r)
            self.assertEqual(r["others"], 3, r)  # every process saw the others' files
        out = proc.output()
        inits = [rec for rec in json_lines(out) if rec.get("message", "").startswith("init ")]
        self.assertEqual(len(inits), 3, out[-2000:])
        for rec in inits:
            self.assertEqual(rec["requestId"], "")
            self.assertEqual(rec["logger"], "gate")

    def test_logging_json_with_request_id_print_raw(self):
        root = self.task_root({"fn.py": PY_GATE})
        api, proc = self.py(root, "fn.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
        ids, _ = self.gate_round(api, proc, 2, self.scratch())
        out = proc.output()
        by_marker = {}
        for rec in json_lines(out):
            self.assertEqual(set(rec) >= {"timestamp", "level", "message", "logger", "requestId"}, True, rec)
            self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            m = re.match(r"^(before|after) (m\d)$", rec["message"])
            if m:
                self.assertEqual(rec["level"], "INFO")
                by_marker.setdefault(m.group(2), []).append(rec["requestId"])
        for rid, marker in ids.items():
            self.assertEqual(by_marker.get(marker), [rid, rid])
            self.assertIn("\nraw %s\n" % marker, out)

    def test_init_error_posted_once_then_exit(self):
        root = self.task_root({"fn.py": "raise ValueError('boom at init')\n"})
        api, proc = self.py(root, "fn.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": "3"})
        post = api.wait_post()
        self.assertEqual(post["kind"], "init_error", post)
        self.assertEqual(json.loads(post["body"])["errorMessage"], "boom at init")
        self.assert_exits(proc, 1)
        self.assertTrue(api.posts.empty(), "a second /init/error")
        err = [r for r in json_lines(proc.output()) if r.get("log_level") == "ERROR"]
        self.assertEqual(err[0]["errorType"], "ValueError")

    def test_a_crashed_worker_leaves_the_others(self):
        root = self.task_root({"fn.py": """
            import os
            def handler(event, context):
                if event.get("crash"):
                    os._exit(3)
                return os.getpid()
        """})
        api, proc = self.py(root, "fn.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
        api.add({"crash": True})
        post = self.invoke(api, {})
        self.assertEqual(post["kind"], "response")
        pid = json.loads(post["body"])
        for _ in range(3):
            self.assertEqual(json.loads(self.invoke(api, {})["body"]), pid)
        api.add({"crash": True})
        self.assert_exits(proc, 3)

    def test_children_die_with_the_parent(self):
        root = self.task_root({"fn.py": PY_GATE})
        api, proc = self.py(root, "fn.handler", {"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
        import time

        end = time.monotonic() + WAIT
        kids = []
        while time.monotonic() < end and len(kids) < 2:
            out = subprocess.run(["pgrep", "-P", str(proc.proc.pid)], capture_output=True, text=True)
            kids = [int(x) for x in out.stdout.split()]
        self.assertEqual(len(kids), 2, kids)
        while time.monotonic() < end and len(api.peers) < 2:  # both past their set-up, at /next
            time.sleep(0.01)
        os.kill(proc.proc.pid, 9)
        proc.proc.wait(WAIT)
        end = time.monotonic() + WAIT
        while time.monotonic() < end and any(os.path.exists("/proc/%d" % k) for k in kids):
            time.sleep(0.01)
        self.assertFalse([k for k in kids if alive(k)])


if __name__ == "__main__":
    unittest.main()
