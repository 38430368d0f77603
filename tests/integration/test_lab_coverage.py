"""coldsec-lab --coverage-dir: handler coverage for `coldsec fuzz`.

The contract (lab_pool.h, the runtimes' Coverage classes): DIR/NAME.cov per
function, 65552 bytes, "CSCOV001", a generation only the fuzzer writes, 65536
saturating counters; bound at /var/runtime/coverage ($COLDSEC_COVERAGE) in
every environment; the runtime adds an invocation's counts before it posts
the result, unless the generation changed meanwhile. Python counts lines
(crc32("<path under the task root>:<line>") & 0xFFFF), Node the blocks of its
source (crc32("<path>:<offset of the block>"), or ":else" appended for the
missing else of an if; harness/runtimes/node/coverage.js), or with
COLDSEC_NODE_COVERAGE=inspector V8's block ranges (":skip" appended for a
block skipped inside an executed one).
"""
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import zlib

import labfixture as lf
from labfixture import Lab, fn

COV_SIZE = 16 + 65536

PY_SOURCE = '''\
import os
import time


def handler(event, context):
    a = event.get("a")
    if a == "x":
        r = "ex"
    elif a == "y":
        r = "why"
    else:
        r = "other"
    if event.get("sleep"):
        time.sleep(event["sleep"])
    n = 0
    for _ in range(event.get("loop", 0)):
        n += 1
    if event.get("probe"):
        return probe(event["probe"])
    return {"r": r, "n": n}


def probe(host_path):
    out = {"cov": os.environ.get("COLDSEC_COVERAGE"),
           "exists": os.path.exists("/var/runtime/coverage"),
           "host_path_visible": os.path.exists(host_path),
           "runtime_dir": sorted(os.listdir("/var/runtime")) if os.path.isdir("/var/runtime") else None}
    try:
        with open("/var/runtime/planted", "w") as f:
            f.write("x")
        out["runtime_writable"] = True
    except OSError:
        out["runtime_writable"] = False
    return out


def noop(event, context):
    return None
'''

NODE_SOURCE = '''\
exports.handler = async (event) => {
  let r;
  if (event.a === 'x') {
    r = 'ex';
  } else if (event.a === 'y') {
    r = 'why';
  } else {
    r = 'other';
  }
  if (event.sleep) await new Promise((res) => setTimeout(res, event.sleep * 1000));
  let n = 0;
  for (let i = 0; i < (event.loop || 0); i++) {
    n += 1;
  }
  return { r, n, cov: process.env.COLDSEC_COVERAGE || null };
};
exports.noop = async () => null;
'''

# Only the handler's own code counts: index.js and the dependency it keeps in
# node_modules under the task root (as the Python runtime counts every file
# under the task root), never Node's modules, however much of them a branch
# runs.
NODE_OWN_INDEX = '''\
const dep = require('dep');
exports.handler = async (event) => {
  if (event.heavy) {
    const zlib = require('zlib');
    const http = require('http');
    const crypto = require('crypto');
    const z = zlib.gzipSync(JSON.stringify(event)).length;
    return { z, m: http.METHODS.length, h: crypto.createHash('sha256').update('x').digest('hex'), d: dep.pick(event.d) };
  }
  return { z: 0, d: dep.pick(event.d) };
};
'''

NODE_OWN_DEP = '''\
exports.pick = (v) => {
  if (v === 1) {
    return 'one';
  }
  return 'other';
};
'''

NODE_OWN_ESM = '''\
export const handler = async (event) => {
  if (event.a === 'x') {
    return 'ex';
  }
  return event.a === 'y' ? 'why' : 'other';
};
'''


def indices_of(rel, source):
    """Every index a block of source (at rel under the task root) could have."""
    out = set()
    for off in range(len(source.encode()) + 1):
        for tag in (b"", b":else", b":skip"):
            out.add(zlib.crc32(b"%s:%d%s" % (rel.encode(), off, tag)) & 0xFFFF)
    return out


def make_own_code(root):
    own = os.path.join(root, "node-own")
    os.makedirs(os.path.join(own, "node_modules", "dep"))
    for rel, text in (("index.js", NODE_OWN_INDEX), ("node_modules/dep/index.js", NODE_OWN_DEP),
                      ("esm.mjs", NODE_OWN_ESM)):
        with open(os.path.join(own, rel), "w") as f:
            f.write(text)
    return own


def _bwrap_usable():
    if shutil.which("bwrap") is None:
        return False
    r = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                        "--proc", "/proc", "true"], capture_output=True)
    return r.returncode == 0


def py_index(line):
    return zlib.crc32(b"handler.py:%d" % line) & 0xFFFF


def py_line_of(text):
    """1-based line number of the first line of PY_SOURCE containing text."""
    for i, line in enumerate(PY_SOURCE.splitlines(), 1):
        if text in line:
            return i
    raise AssertionError(text)


def node_indices():
    """Every index a range of index.js could have."""
    out = set()
    for off in range(len(NODE_SOURCE.encode()) + 1):
        out.add(zlib.crc32(b"index.js:%d" % off) & 0xFFFF)
        out.add(zlib.crc32(b"index.js:%d:skip" % off) & 0xFFFF)
        out.add(zlib.crc32(b"index.js:%d:else" % off) & 0xFFFF)
    return out


class CoverageFile:
    def __init__(self, path):
        self.path = path

    def read(self):
        with open(self.path, "rb") as f:
            return f.read()

    def counters(self):
        """{index: count} of the non-zero counters."""
        data = self.read()[16:]
        return {i: b for i, b in enumerate(data) if b}

    def zero(self):
        with open(self.path, "r+b") as f:
            f.seek(16)
            f.write(bytes(65536))

    def set_generation(self, g):
        with open(self.path, "r+b") as f:
            f.seek(8)
            f.write(struct.pack("<Q", g))


def make_code(root):
    py = os.path.join(root, "py")
    node = os.path.join(root, "node")
    os.mkdir(py)
    os.mkdir(node)
    with open(os.path.join(py, "handler.py"), "w") as f:
        f.write(PY_SOURCE)
    with open(os.path.join(node, "index.js"), "w") as f:
        f.write(NODE_SOURCE)
    return py, node


class LabCoverageTest(unittest.TestCase):
    FUNCS = ("cov-py", "cov-py-noop", "cov-py-stale", "cov-node", "cov-node-noop", "cov-node-stale",
             "cov-node-own", "cov-node-esm", "cov-node-inspector")

    @classmethod
    def setUpClass(cls):
        if not _bwrap_usable():
            raise unittest.SkipTest("bubblewrap with namespaces is not usable on this machine")
        cls.tmp = tempfile.mkdtemp(prefix="coldsec-cov-test-")
        cls.py, cls.node = make_code(cls.tmp)
        cls.cov_dir = os.path.join(cls.tmp, "cov")
        # A stale file must be replaced by a zeroed one of the right size.
        os.mkdir(cls.cov_dir, 0o700)
        with open(os.path.join(cls.cov_dir, "cov-py.cov"), "wb") as f:
            f.write(b"junk" * 40000)
        os.chmod(os.path.join(cls.cov_dir, "cov-py.cov"), 0o644)
        node = dict(runtime="nodejs20.x", code=cls.node)
        own = dict(runtime="nodejs20.x", code=make_own_code(cls.tmp))
        cls.lab = Lab([
            fn("cov-py", code=cls.py),
            fn("cov-py-noop", code=cls.py, handler="handler.noop"),
            fn("cov-py-stale", code=cls.py, timeout_s=10),
            fn("cov-node", handler="index.handler", **node),
            fn("cov-node-noop", handler="index.noop", **node),
            fn("cov-node-stale", handler="index.handler", timeout_s=10, **node),
            fn("cov-node-own", handler="index.handler", **own),
            fn("cov-node-esm", handler="esm.handler", **own),
            fn("cov-node-inspector", handler="index.handler", environment={"COLDSEC_NODE_COVERAGE": "inspector"},
               **node),
        ], sandbox="bwrap", extra_args=["--coverage-dir", cls.cov_dir]).start()
        cls.files = {name: CoverageFile(os.path.join(cls.cov_dir, name + ".cov")) for name in cls.FUNCS}
        cls.initial = {name: (os.stat(f.path), f.read()) for name, f in cls.files.items()}

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_once(self, name, event):
        """Zeroes the counters, invokes, returns (payload, counters)."""
        f = self.files[name]
        f.zero()
        inv = self.lab.invoke(name, event, tail=False)
        return lf.assert_ok(self, inv), f.counters()

    # -- the file ---------------------------------------------------------------

    def test_files_created_for_every_function(self):
        self.assertEqual(sorted(os.listdir(self.cov_dir)), sorted(n + ".cov" for n in self.FUNCS))
        for name, (st, data) in self.initial.items():
            with self.subTest(function=name):
                self.assertTrue(stat.S_ISREG(st.st_mode))
                self.assertEqual(st.st_size, COV_SIZE)
                self.assertEqual(len(data), COV_SIZE)
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
                self.assertEqual(data[:8], b"CSCOV001")
                self.assertEqual(data[8:16], bytes(8), "generation starts at 0")
                self.assertEqual(data[16:], bytes(65536), "counters start at 0")

    # -- Python -------------------------------------------------------------------

    def test_python_branches_light_different_counters(self):
        _, x = self.run_once("cov-py", {"a": "x"})
        _, y = self.run_once("cov-py", {"a": "y"})
        _, x2 = self.run_once("cov-py", {"a": "x"})
        ex, why = py_index(py_line_of('r = "ex"')), py_index(py_line_of('r = "why"'))
        self.assertIn(ex, x)
        self.assertNotIn(why, x)
        self.assertIn(why, y)
        self.assertNotIn(ex, y)
        self.assertEqual(x, x2, "the same input lights the same counters")
        self.assertEqual(x[py_index(py_line_of('a = event.get("a")'))], 1)

    def test_python_counts_only_task_root_lines(self):
        handler_lines = {py_index(i) for i in range(1, PY_SOURCE.count("\n") + 2)}
        _, got = self.run_once("cov-py", {"a": "y", "loop": 3})
        self.assertTrue(got)
        self.assertLessEqual(set(got), handler_lines, "a counter outside handler.py's lines")
        _, noop = self.run_once("cov-py-noop", {})
        self.assertEqual(noop, {py_index(py_line_of("return None")): 1})

    def test_python_exact_counts_and_saturation(self):
        body = py_index(py_line_of("n += 1"))
        _, c100 = self.run_once("cov-py", {"loop": 100})
        self.assertEqual(c100[body], 100)
        _, c1000 = self.run_once("cov-py", {"loop": 1000})
        self.assertEqual(c1000[body], 255, "1000 iterations saturate at 255, never wrap")
        # Adding to a counter that is already high saturates too.
        self.lab.invoke("cov-py", {"loop": 200}, tail=False)
        self.assertEqual(self.files["cov-py"].counters()[body], 255)

    def test_python_same_counters_in_fresh_environment(self):
        self.fresh_check("cov-py")

    def test_python_stale_generation_writes_nothing(self):
        self.stale_check("cov-py-stale", py_index(py_line_of('r = "other"')))

    # -- Node ---------------------------------------------------------------------

    def test_node_branches_light_different_counters(self):
        _, x = self.run_once("cov-node", {"a": "x"})
        _, y = self.run_once("cov-node", {"a": "y"})
        _, x2 = self.run_once("cov-node", {"a": "x"})
        self.assertTrue(x and y)
        self.assertNotEqual(set(x), set(y))
        self.assertEqual(x, x2, "the same input lights the same counters")
        self.assertLessEqual(set(x) | set(y), node_indices(), "a counter outside index.js")

    def test_node_counts_only_task_root_code(self):
        _, noop = self.run_once("cov-node-noop", {})
        self.assertGreaterEqual(len(noop), 1)
        self.assertLessEqual(len(noop), 3, f"a no-op handler lit {noop}")
        self.assertLessEqual(set(noop), node_indices())

    def test_node_exact_counts_and_saturation(self):
        _, c100 = self.run_once("cov-node", {"loop": 100})
        self.assertIn(100, c100.values())
        _, c1000 = self.run_once("cov-node", {"loop": 1000})
        self.assertIn(255, c1000.values(), "1000 iterations saturate at 255, never wrap")
        self.assertNotIn(1000 % 256, c1000.values())
        # Counts reset between invocations: the same input gives the same counts.
        _, again = self.run_once("cov-node", {"loop": 100})
        self.assertEqual(again, c100)

    def test_node_same_counters_in_fresh_environment(self):
        self.fresh_check("cov-node")

    def test_node_stale_generation_writes_nothing(self):
        self.stale_check("cov-node-stale", None)

    def test_node_runtime_work_lights_no_counter(self):
        own = indices_of("index.js", NODE_OWN_INDEX) | indices_of("node_modules/dep/index.js", NODE_OWN_DEP)
        _, plain = self.run_once("cov-node-own", {"d": 2})
        _, heavy = self.run_once("cov-node-own", {"heavy": True, "d": 2})
        _, again = self.run_once("cov-node-own", {"heavy": True, "d": 2})
        self.assertTrue(plain and heavy)
        self.assertLessEqual(set(plain) | set(heavy), own, "a counter outside the handler's files")
        # Loading and running zlib, http and crypto (Node's code, hundreds of
        # functions) adds only the handler's own branch: one block.
        self.assertEqual(len(set(heavy) - set(plain)), 1, f"{plain} -> {heavy}")
        self.assertEqual(again, heavy, "the same input, once warm, gives the same counts")

    def test_node_counts_dependencies_under_task_root(self):
        dep = indices_of("node_modules/dep/index.js", NODE_OWN_DEP)
        _, one = self.run_once("cov-node-own", {"d": 1})
        _, other = self.run_once("cov-node-own", {"d": 2})
        self.assertTrue(set(one) & dep and set(other) & dep)
        self.assertNotEqual(set(one) & dep, set(other) & dep)

    def test_node_es_module_branches_light_different_counters(self):
        esm = indices_of("esm.mjs", NODE_OWN_ESM)
        got = [self.run_once("cov-node-esm", {"a": a})[1] for a in ("x", "y", "z", "x")]
        self.assertTrue(all(got))
        self.assertEqual(len({frozenset(g) for g in got[:3]}), 3, got)
        self.assertEqual(got[0], got[3])
        self.assertLessEqual(set().union(*got), esm)

    def test_node_inspector_fallback_branches(self):
        _, x = self.run_once("cov-node-inspector", {"a": "x"})
        _, y = self.run_once("cov-node-inspector", {"a": "y"})
        self.assertTrue(x and y)
        self.assertNotEqual(set(x), set(y))
        self.assertLessEqual(set(x) | set(y), node_indices())

    # -- shared ---------------------------------------------------------------------

    def fresh_check(self, name):
        event = {"a": "x", "loop": 2}
        _, before = self.run_once(name, event)
        self.assertTrue(before)
        c = self.lab.client()
        c.update_function_configuration(FunctionName=name,
                                        Environment={"Variables": self.lab.env_of(name, FRESH=lf.unique())})
        self.lab.wait_updated(name)
        self.files[name].zero()
        inv = self.lab.invoke(name, event)
        lf.assert_ok(self, inv)
        self.assertTrue(inv.cold, "the update must give a new environment")
        self.assertEqual(self.files[name].counters(), before)

    def stale_check(self, name, must_light):
        f = self.files[name]
        # Control: the same slow invocation without a generation change counts.
        f.set_generation(7)
        _, control = self.run_once(name, {"sleep": 0.6})
        self.assertTrue(control, "a slow invocation must count when the generation holds")
        if must_light is not None:
            self.assertIn(must_light, control)
        f.zero()
        result = {}
        t = threading.Thread(target=lambda: result.update(inv=self.lab.invoke(name, {"sleep": 1.0})))
        t.start()
        time.sleep(0.4)
        f.set_generation(8)
        t.join(15)
        self.assertFalse(t.is_alive())
        lf.assert_ok(self, result["inv"])
        self.assertEqual(f.counters(), {}, "counts of a stale generation were written")
        self.assertEqual(f.read()[8:16], struct.pack("<Q", 8), "the runtime wrote the generation")

    def test_environment_sees_only_its_file(self):
        host_path = self.files["cov-py"].path
        out, _ = self.run_once("cov-py", {"probe": host_path})
        self.assertEqual(out["cov"], "/var/runtime/coverage")
        self.assertTrue(out["exists"])
        self.assertFalse(out["host_path_visible"], "the coverage folder must not be visible")
        self.assertEqual(out["runtime_dir"], ["bootstrap.py", "coverage"])
        self.assertFalse(out["runtime_writable"], "/var/runtime must stay read-only")
        out, _ = self.run_once("cov-node", {})
        self.assertEqual(out["cov"], "/var/runtime/coverage")


class LabNoCoverageTest(unittest.TestCase):
    """Without --coverage-dir: no variable, no file, nothing new."""

    @classmethod
    def setUpClass(cls):
        if not _bwrap_usable():
            raise unittest.SkipTest("bubblewrap with namespaces is not usable on this machine")
        cls.tmp = tempfile.mkdtemp(prefix="coldsec-cov-test-")
        cls.py, cls.node = make_code(cls.tmp)
        cls.lab = Lab([
            fn("nocov-py", code=cls.py),
            fn("nocov-node", runtime="nodejs20.x", handler="index.handler", code=cls.node),
        ], sandbox="bwrap").start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_no_variable_no_file(self):
        out = lf.assert_ok(self, self.lab.invoke("nocov-py", {"probe": "/nonexistent"}, tail=False))
        self.assertIsNone(out["cov"])
        self.assertFalse(out["exists"])
        self.assertEqual(out["runtime_dir"], ["bootstrap.py"])
        self.assertFalse(out["runtime_writable"])
        out = lf.assert_ok(self, self.lab.invoke("nocov-node", {}, tail=False))
        self.assertIsNone(out["cov"])


class LabCoverageUnsandboxedTest(unittest.TestCase):
    """--sandbox none: the variable names the real file; indices are the same
    as in the sandbox, since paths are hashed relative to the task root."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="coldsec-cov-test-")
        cls.py, cls.node = make_code(cls.tmp)
        cls.cov_dir = os.path.join(cls.tmp, "cov")  # created by the lab
        cls.lab = Lab([fn("cov-none-py", code=cls.py),
                       fn("cov-none-node", runtime="nodejs20.x", handler="index.handler", code=cls.node)],
                      sandbox="none", extra_args=["--coverage-dir", cls.cov_dir]).start()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_real_path_and_same_indices(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.cov_dir).st_mode), 0o700)
        path = os.path.realpath(os.path.join(self.cov_dir, "cov-none-py.cov"))
        f = CoverageFile(path)
        out = lf.assert_ok(self, self.lab.invoke("cov-none-py", {"probe": path}, tail=False))
        self.assertEqual(out["cov"], path)
        self.assertTrue(out["host_path_visible"])
        f.zero()
        lf.assert_ok(self, self.lab.invoke("cov-none-py", {"a": "x"}, tail=False))
        got = f.counters()
        self.assertIn(py_index(py_line_of('r = "ex"')), got)
        self.assertLessEqual(set(got), {py_index(i) for i in range(1, PY_SOURCE.count("\n") + 2)})
        node = CoverageFile(os.path.realpath(os.path.join(self.cov_dir, "cov-none-node.cov")))
        out = lf.assert_ok(self, self.lab.invoke("cov-none-node", {"a": "x"}, tail=False))
        self.assertEqual(out["cov"], node.path)
        self.assertTrue(node.counters())
        self.assertLessEqual(set(node.counters()), node_indices())


# Statements and expressions whose counters are easy to get wrong: an if as a
# loop's unbraced body, dangling else, directives, arrow bodies that are
# objects, switch fallthrough, labels, short circuits, getters, generators.
TRICKY_JS = r'''
'use strict';
function f(xs) {
  'use strict';
  const out = [];
  outer: for (const x of xs) if (x > 2) out.push(x); else if (x < 0) continue outer;
  for (let i = 0; i < 3; i++) if (i) out.push(i)
  let k = 0;
  do k++; while (k < 4)
  while (k > 0) k -= 2
  if (k) out.push('k'); else out.push('!k')
  switch (xs.length) { case 0: case 1: out.push('few'); break; case 2: out.push('two'); default: out.push('d') }
  const g = (o) => ({ a: o && o.a, b: o ?? 'none', c: o ? 'y' : 'n' });
  const obj = { get v() { return this.w || 7; }, w: 0 };
  function* gen() { yield 1; if (xs.length) yield 2 }
  try { if (xs.length > 3) throw new Error('many') } catch (e) { out.push(e.message) } finally { out.push('fin') }
  return [out, g(xs[0]), g(null), obj.v, [...gen()], (function () { return typeof this; })(), (() => typeof this)()];
}
module.exports = [[], [1], [1, 2], [3, -1, 5, 0], [9, 9, 9, 9, 9]].map(f);
'''

INSTRUMENT_CHECK_JS = r'''
const { Instrumenter, loadAcorn } = require(process.argv[1]);
const vm = require('vm');
const fs = require('fs');
const acorn = loadAcorn();
const ins = new Instrumenter(acorn);
globalThis.__coldsecCov = new Uint32Array(65536);
const run = (code) => { const m = { exports: {} }; vm.compileFunction(code, ['exports', 'module'])(m.exports, m); return m.exports; };
const tricky = fs.readFileSync(process.argv[2], 'utf8');
const t = ins.instrument(tricky, 't.js', 'script');
const plain = JSON.stringify(run(tricky));
const counted = JSON.stringify(run(t.code));
// acorn parsing its own source, instrumented: a large real program.
const src = process.binding('natives')['internal/deps/acorn/acorn/dist/acorn'];
const a = ins.instrument(src, 'acorn.js', 'script');
const same = JSON.stringify(run(a.code).parse(src, { ecmaVersion: 'latest' })) === JSON.stringify(acorn.parse(src, { ecmaVersion: 'latest' }));
const lines = (x) => x.split('\n').length;
console.log(JSON.stringify({ plain, counted, tsites: t.sites.length, asites: a.sites.length, same,
  lines: [lines(tricky) === lines(t.code), lines(src) === lines(a.code)], hits: globalThis.__coldsecCov.filter((v) => v).length }));
'''


class NodeInstrumenterTest(unittest.TestCase):
    """The counters coverage.js adds change no behaviour and no line number."""

    def test_instrumented_code_behaves_the_same(self):
        node = shutil.which("node")
        if node is None:
            self.skipTest("node is not installed")
        tmp = tempfile.mkdtemp(prefix="coldsec-cov-test-")
        try:
            tricky = os.path.join(tmp, "t.js")
            with open(tricky, "w") as f:
                f.write(TRICKY_JS)
            cov_js = os.path.join(lf.REPO, "harness", "runtimes", "node", "coverage.js")
            r = subprocess.run([node, "-e", INSTRUMENT_CHECK_JS, cov_js, tricky],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = __import__("json").loads(r.stdout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(out["counted"], out["plain"])
        self.assertGreater(out["tsites"], 20)
        self.assertGreater(out["asites"], 1000)
        self.assertTrue(out["same"], "instrumented acorn parses its own source differently")
        self.assertEqual(out["lines"], [True, True], "instrumenting moved lines")
        self.assertGreater(out["hits"], 100)


if __name__ == "__main__":
    unittest.main()
