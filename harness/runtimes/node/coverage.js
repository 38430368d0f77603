/**
 * coldsec-lab's Node.js runtime: coverage of the function's own code for
 * `coldsec fuzz` (loaded by bootstrap.js only when the lab sets
 * COLDSEC_COVERAGE).
 *
 * The file at COLDSEC_COVERAGE (harness/lab_pool.h): 8 bytes magic, a
 * generation only the fuzzer writes, 65536 saturating counters. Node cannot
 * mmap, so it is read and written with pread/pwrite once per invocation; the
 * page cache keeps that coherent with the fuzzer's mapping. Counts are added
 * only when the generation is still the one seen at begin(): a fuzzer that
 * moved on must not get this invocation's counts in its next input.
 *
 * What is counted: code of files under the task root (node_modules there
 * included, as the Python runtime counts every file under the task root),
 * never the runtime's or Node's own. Two ways, the first when it can:
 *
 * 1. Counters in the source (Instrumenter below). Files under the task root
 *    are parsed when they are loaded (CommonJS through
 *    Module.prototype._compile; ES modules, when the handler is one, through
 *    a module.register() load hook, coverage-hooks.mjs) with the acorn
 *    parser Node ships for its own
 *    REPL, and every block gets `__coldsecCov[i]++`: function bodies, blocks,
 *    both sides of an if (an if with no else gets one, so the untaken side
 *    counts too), loop bodies, switch cases, the two results of `?:` and the
 *    right side of `&&`, `||`, `??`. i is crc32("<path relative to the task
 *    root>:<offset>[:else]") & 0xFFFF, the same in every environment. An
 *    invocation costs no inspector call: an increment per block, and a flush
 *    over the sites that exist.
 * 2. V8 precise block coverage through the inspector (InspectorCoverage),
 *    when acorn cannot be had. It costs ~2.5 ms per invocation, because
 *    Profiler.takePreciseCoverage reports every function that ran, the
 *    runtime's HTTP client and Node's streams included, and V8 has no filter.
 *
 * Instrumenting keeps line numbers (nothing inserted holds a newline);
 * columns in stack traces move. Only fuzzing runs it.
 */
'use strict';

const fs = require('fs');
const vm = require('vm');
const { pathToFileURL } = require('url');

const COV_MAGIC = 'CSCOV001';
const COV_HEADER = 16;
const COV_COUNTERS = 65536;
const COV_SIZE = COV_HEADER + COV_COUNTERS;
const GLOBAL_NAME = '__coldsecCov';
const SITES_NAME = '__coldsecCovSites';

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) ? (0xedb88320 ^ (c >>> 1)) : (c >>> 1);
    t[n] = c;
  }
  return t;
})();

/** zlib's crc32 (zlib.crc32 itself is missing before Node 20.15). */
function crc32(str) {
  const b = Buffer.from(str, 'utf8');
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * The acorn Node bundles (lib/internal/deps/acorn, used by its REPL), or null.
 * Its module is internal (require() refuses it without --expose-internals,
 * which NODE_OPTIONS does not allow), but its source is one of the builtins'
 * sources that process.binding('natives') hands out: compiled here as the
 * CommonJS module it is. process.binding is deprecated (DEP0111) with a
 * warning only under --pending-deprecation, silenced for this one call.
 */
function loadAcorn() {
  const quiet = process.noDeprecation;
  let src;
  try {
    process.noDeprecation = true;
    // eslint-disable-next-line node/no-deprecated-api
    src = process.binding('natives')['internal/deps/acorn/acorn/dist/acorn'];
  } catch (_e) {
    src = undefined;
  } finally {
    process.noDeprecation = quiet;
  }
  if (typeof src !== 'string') return null;
  const mod = { exports: {} };
  vm.compileFunction(src, ['exports', 'module'], { filename: 'node:internal/deps/acorn' })(mod.exports, mod);
  return typeof mod.exports.parse === 'function' ? mod.exports : null;
}

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const LOOPS = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement']);

/**
 * Adds counters to one file's source. instrument() answers { code, sites }
 * (sites: the counter indices the code increments) or null when acorn cannot
 * parse it (the file is then loaded as it is, and Node reports its own error).
 */
class Instrumenter {
  constructor(acorn) {
    this.acorn = acorn;
  }

  instrument(source, relPath, sourceType) {
    let ast;
    try {
      ast = this.acorn.parse(source, {
        ecmaVersion: 'latest',
        sourceType,
        allowHashBang: true,
        allowReturnOutsideFunction: sourceType === 'script',
        allowAwaitOutsideFunction: sourceType === 'module',
      });
    } catch (_e) {
      return null;
    }
    const edits = [];
    const sites = new Set();
    const counter = (offset, tag) => {
      const i = crc32(`${relPath}:${offset}${tag}`) & 0xffff;
      sites.add(i);
      return `${GLOBAL_NAME}[${i}]++`;
    };
    // An edit opens (1) or closes (0) at pos; depth orders edits at one
    // position: a node ending there closes before one starting there opens,
    // inner nodes close first and open last.
    const open = (pos, depth, text) => edits.push({ pos, kind: 1, depth, text });
    const close = (pos, depth, text) => edits.push({ pos, kind: 0, depth, text });
    const wrapStatement = (node, depth) => {
      // A statement that is not a block becomes one with a counter first.
      if (node.type === 'BlockStatement') return;
      open(node.start, depth, `{${counter(node.start, '')};`);
      close(node.end, depth, '}');
    };
    const wrapExpression = (node, depth) => {
      open(node.start, depth, `(${counter(node.start, '')}, `);
      close(node.end, depth, ')');
    };

    const visit = (node, parent, depth) => {
      switch (node.type) {
        case 'BlockStatement': {
          let at = node.start + 1;
          if (parent && FUNCTIONS.has(parent.type) && parent.body === node) {
            // After the directive prologue, or 'use strict' stops being one.
            for (const s of node.body) {
              if (s.type !== 'ExpressionStatement' || typeof s.directive !== 'string') break;
              at = s.end;
            }
          }
          open(at, depth + 1, `${counter(node.start, '')};`);
          break;
        }
        case 'ArrowFunctionExpression':
          if (node.expression) wrapExpression(node.body, depth + 1);
          break;
        case 'IfStatement':
          wrapStatement(node.consequent, depth + 1);
          if (node.alternate) wrapStatement(node.alternate, depth + 1);
          // Inside whatever wraps the if itself (a loop body's braces, at depth).
          else close(node.end, depth + 0.5, ` else{${counter(node.start, ':else')};}`);
          break;
        case 'SwitchCase':
          open(node.consequent.length ? node.consequent[0].start : node.end, depth + 1,
            `${counter(node.start, '')};`);
          break;
        case 'ConditionalExpression':
          wrapExpression(node.consequent, depth + 1);
          wrapExpression(node.alternate, depth + 1);
          break;
        case 'LogicalExpression':
          wrapExpression(node.right, depth + 1);
          break;
        default:
          if (LOOPS.has(node.type)) wrapStatement(node.body, depth + 1);
      }
      for (const key of Object.keys(node)) {
        const v = node[key];
        if (Array.isArray(v)) {
          for (const c of v) if (c && typeof c.type === 'string') visit(c, node, depth + 1);
        } else if (v && typeof v.type === 'string' && key !== 'regex') {
          visit(v, node, depth + 1);
        }
      }
    };
    visit(ast, null, 0);
    if (!edits.length) return { code: source, sites: [] };
    edits.sort((a, b) => (a.pos - b.pos) || (a.kind - b.kind) ||
      (a.kind ? a.depth - b.depth : b.depth - a.depth));
    const parts = [];
    let last = 0;
    for (const e of edits) {
      parts.push(source.slice(last, e.pos), e.text);
      last = e.pos;
    }
    parts.push(source.slice(last));
    return { code: parts.join(''), sites: [...sites] };
  }
}

/** The counter file, opened and checked. */
function openCounterFile(file) {
  const fd = fs.openSync(file, 'r+');
  const head = Buffer.alloc(COV_HEADER);
  if (fs.readSync(fd, head, 0, COV_HEADER, 0) !== COV_HEADER ||
    head.toString('latin1', 0, 8) !== COV_MAGIC) {
    fs.closeSync(fd);
    throw new Error(`${file}: no ${COV_MAGIC} header`);
  }
  return fd;
}

/**
 * Counters in the function's source. Counts live in one Uint32Array of 65536
 * (a global the instrumented code increments, not enumerable, not writable);
 * flush() adds the non-zero ones of the sites that exist to the file.
 */
class SourceCoverage {
  constructor(file, taskRoot, acorn) {
    this.fd = openCounterFile(file);
    this.rootPath = taskRoot.replace(/\/*$/, '/');
    this.rootUrl = pathToFileURL(taskRoot).href.replace(/\/*$/, '/');
    this.instrumenter = new Instrumenter(acorn);
    this.counts = new Uint32Array(COV_COUNTERS);
    this.siteSet = new Set();
    this.sites = [];
    this.generation = Buffer.alloc(8);
    this.now = Buffer.alloc(COV_SIZE);
    Object.defineProperty(globalThis, GLOBAL_NAME, { value: this.counts });
    // ES modules are instrumented on the hooks thread: each says its sites
    // first thing when it runs.
    Object.defineProperty(globalThis, SITES_NAME, { value: (list) => this.addSites(list) });
    this.hookCommonJs();
    this.esmHooked = false;
  }

  addSites(list) {
    for (const i of list) {
      if (!this.siteSet.has(i)) {
        this.siteSet.add(i);
        this.sites.push(i);
      }
    }
  }

  hookCommonJs() {
    // eslint-disable-next-line global-require
    const Module = require('module');
    const compile = Module.prototype._compile;
    const self = this;
    Module.prototype._compile = function coldsecCompile(content, filename) {
      if (typeof filename === 'string' && filename.startsWith(self.rootPath) && typeof content === 'string') {
        const out = self.instrumenter.instrument(content, filename.slice(self.rootPath.length), 'script');
        if (out) {
          self.addSites(out.sites);
          return compile.call(this, out.code, filename);
        }
      }
      return compile.call(this, content, filename);
    };
  }

  /**
   * Before the handler is imported as an ES module. ES modules a CommonJS
   * handler imports itself go uncounted (their hooks would have to run
   * before any handler code, on a thread a CommonJS handler never needs).
   */
  beforeImport() {
    if (this.esmHooked) return;
    this.esmHooked = true;
    // eslint-disable-next-line global-require
    const Module = require('module');
    if (typeof Module.register !== 'function') return; // Node < 20.6: ES modules go uncounted
    Module.register(pathToFileURL(`${__dirname}/coverage-hooks.mjs`).href, {
      data: { root: this.rootUrl, coverage: __filename },
    });
  }

  /** Once the handler is loaded: its init is no invocation's coverage. */
  reset() {
    this.counts.fill(0);
  }

  begin() {
    fs.readSync(this.fd, this.generation, 0, 8, 8);
  }

  flush() {
    const { counts, sites } = this;
    let any = false;
    for (let k = 0; k < sites.length; k++) {
      if (counts[sites[k]] !== 0) {
        any = true;
        break;
      }
    }
    if (!any) return;
    const buf = this.now;
    if (fs.readSync(this.fd, buf, 0, COV_SIZE, 0) === COV_SIZE &&
      buf.compare(this.generation, 0, 8, 8, 16) === 0) {
      for (let k = 0; k < sites.length; k++) {
        const i = sites[k];
        const n = counts[i];
        if (n !== 0) {
          const v = buf[COV_HEADER + i] + n;
          buf[COV_HEADER + i] = v < 255 ? v : 255;
        }
      }
      fs.writeSync(this.fd, buf, COV_HEADER, COV_COUNTERS, COV_HEADER);
    }
    counts.fill(0);
  }
}

/**
 * V8 precise block coverage, the fallback. Precise coverage (callCount,
 * detailed) runs from start-up; Profiler.takePreciseCoverage returns the
 * counts since the previous take and resets them, and an in-process
 * inspector.Session answers synchronously, inside post().
 *
 * For scripts under the task root, every range executed (count > 0) adds
 * min(count, 255) at crc32("<path relative to the task root>:<startOffset>")
 * & 0xFFFF. V8 leaves out a block that ran as often as its parent, so the
 * taken side of an if has no range of its own and only the untaken side is
 * reported (count 0): a range with count 0 inside an executed parent
 * therefore adds the parent's count at crc32("...:<startOffset>:skip"), or
 * the two sides of a branch would look the same.
 */
class InspectorCoverage {
  constructor(file, taskRoot) {
    // eslint-disable-next-line global-require
    const inspector = require('inspector');
    this.fd = openCounterFile(file);
    this.root = pathToFileURL(taskRoot).href.replace(/\/*$/, '/');
    this.generation = Buffer.alloc(8);
    this.now = Buffer.alloc(COV_SIZE);
    this.hits = new Map();
    this.scripts = new Map(); // scriptId -> per-script index cache, or null when not ours
    this.session = new inspector.Session();
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  post(method, params) {
    let out;
    let error;
    this.session.post(method, params, (err, res) => { error = err; out = res; });
    if (error) throw error;
    return out;
  }

  script(s) {
    let info = this.scripts.get(s.scriptId);
    if (info === undefined) {
      info = s.url.startsWith(this.root)
        ? { prefix: `${decodeURIComponent(s.url.slice(this.root.length))}:`, index: new Map() }
        : null;
      this.scripts.set(s.scriptId, info);
    }
    return info;
  }

  add(info, offset, skipped, count) {
    const key = skipped ? -1 - offset : offset;
    let i = info.index.get(key);
    if (i === undefined) {
      i = crc32(info.prefix + offset + (skipped ? ':skip' : '')) & 0xffff;
      info.index.set(key, i);
    }
    this.hits.set(i, (this.hits.get(i) || 0) + count);
  }

  reset() {
    this.post('Profiler.takePreciseCoverage');
  }

  // eslint-disable-next-line class-methods-use-this
  beforeImport() {}

  /**
   * Start of an invocation. No take here: one costs 0.4 ms even when little
   * ran, and between a post and the next /next only the runtime (not
   * counted) runs, or what the handler left scheduled, which on Lambda too
   * runs in the next invocation's window.
   */
  begin() {
    fs.readSync(this.fd, this.generation, 0, 8, 8);
    this.hits.clear();
  }

  flush() {
    const taken = this.post('Profiler.takePreciseCoverage');
    for (const s of taken.result) {
      const info = this.script(s);
      if (!info) continue;
      for (const f of s.functions) {
        const ranges = f.ranges;
        if (!ranges.length || ranges[0].count === 0) continue;
        const open = [];
        for (const r of ranges) {
          while (open.length && open[open.length - 1].endOffset <= r.startOffset) open.pop();
          const parent = open.length ? open[open.length - 1] : null;
          if (r.count > 0) this.add(info, r.startOffset, false, r.count);
          else if (parent && parent.count > 0) this.add(info, r.startOffset, true, parent.count);
          open.push(r);
        }
      }
    }
    if (this.hits.size === 0) return;
    const buf = this.now;
    if (fs.readSync(this.fd, buf, 0, COV_SIZE, 0) === COV_SIZE &&
      buf.compare(this.generation, 0, 8, 8, 16) === 0) {
      for (const [i, n] of this.hits) {
        const v = buf[COV_HEADER + i] + n;
        buf[COV_HEADER + i] = v < 255 ? v : 255;
      }
      fs.writeSync(this.fd, buf, COV_HEADER, COV_COUNTERS, COV_HEADER);
    }
    this.hits.clear();
  }
}

/**
 * Coverage for this process, or null when the lab asked for none or the file
 * cannot be used. Call before the handler is loaded. COLDSEC_NODE_COVERAGE=
 * inspector picks the fallback (for comparison).
 */
function openCoverage(taskRoot) {
  const file = process.env.COLDSEC_COVERAGE;
  if (!file) return null;
  try {
    const acorn = process.env.COLDSEC_NODE_COVERAGE === 'inspector' ? null : loadAcorn();
    return acorn ? new SourceCoverage(file, taskRoot, acorn) : new InspectorCoverage(file, taskRoot);
  } catch (e) {
    // A fuzzer with no coverage still finds crashes: say so and go on.
    process.stderr.write(`coldsec-node-runtime: coverage off: ${e && e.message}\n`);
    return null;
  }
}

module.exports = { openCoverage, Instrumenter, loadAcorn, crc32 };
