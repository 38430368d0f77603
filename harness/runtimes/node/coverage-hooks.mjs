/**
 * coldsec-lab's Node.js runtime: the module.register() hooks that add
 * coverage counters to the function's ES modules (coverage.js says what and
 * why). They run on Node's hooks thread; the counters they insert run on the
 * main thread, and each module first tells coverage.js which sites it has
 * (__coldsecCovSites), since this thread cannot.
 */
import { createRequire } from 'node:module';

let root = null;
let instrumenter = null;

export function initialize(data) {
  root = data.root;
  const { Instrumenter, loadAcorn } = createRequire(data.coverage)(data.coverage);
  const acorn = loadAcorn();
  if (acorn) instrumenter = new Instrumenter(acorn);
}

export async function load(url, context, nextLoad) {
  const out = await nextLoad(url, context);
  if (!instrumenter || out.format !== 'module' || out.source == null || !url.startsWith(root)) return out;
  const source = typeof out.source === 'string' ? out.source : Buffer.from(out.source).toString('utf8');
  const rel = decodeURIComponent(url.slice(root.length));
  const done = instrumenter.instrument(source, rel, 'module');
  if (!done) return out;
  // Before the first statement, on line 1 (after a hashbang line), so no line moves.
  const code = done.code;
  const at = code.startsWith('#!') ? code.indexOf('\n') + 1 : 0;
  const say = `__coldsecCovSites([${done.sites.join(',')}]);`;
  return { ...out, source: at > 0 || !code.startsWith('#!') ? code.slice(0, at) + say + code.slice(at) : code };
}
