#!/usr/bin/env node
// Renders a coldsec report.html in Debian's headless Chromium (driven by
// playwright-core) and checks that it is a self-contained, error-free page:
// any request other than the file itself, any console error or warning and
// any page error fails it. Counts what the page shows (finding sections,
// timeline and memory-chart SVGs) and checks that every finding's title is in
// the rendered text, so a test can compare with report.json.
// Prints one JSON line:
//   {"console_errors":[...],"page_errors":[...],"requests":[...],"findings":N,
//    "timelines":N,"memory_charts":N,"title":"...","screenshot":"...","bytes":N}
// and exits 1 on any failure (also a missing or empty screenshot), 2 on usage.
// Usage: node tests/tools/render_html.js FILE.html SCREENSHOT.png
//   COLDSEC_NPM: node_modules with playwright-core (default ./build/npm/node_modules;
//   `make build/npm/.report-tools-5.7.0-8.20.0-3.0.1-1.65.1.stamp` installs it).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {pathToFileURL} = require('url');

const TOTAL_MS = 120000; // the whole run, launch to screenshot
const STEP_MS = 60000;   // one navigation or screenshot

function usage() {
  console.error('usage: render_html.js FILE.html SCREENSHOT.png');
  process.exit(2);
}

async function main() {
  if (process.argv.length !== 4)
    usage();
  const file = path.resolve(process.argv[2]);
  const shot = path.resolve(process.argv[3]);
  const npm = process.env.COLDSEC_NPM || path.join(process.cwd(), 'build', 'npm', 'node_modules');
  const {chromium} = require(path.join(npm, 'playwright-core'));
  const url = pathToFileURL(file).href;
  const out = {console_errors: [], page_errors: [], requests: [], findings: 0, timelines: 0,
               memory_charts: 0, title: '', screenshot: shot, bytes: 0};
  const problems = [];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'coldsec-chromium-'));
  let context = null;

  // A hung browser must not hang the test: past TOTAL_MS, kill and fail.
  const watchdog = setTimeout(() => {
    problems.push(`timed out after ${TOTAL_MS} ms`);
    finish(out, problems, profile, context).finally(() => process.exit(1));
  }, TOTAL_MS);

  try {
    fs.rmSync(shot, {force: true});
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      timeout: STEP_MS,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: {width: 1280, height: 900},
      offline: true,
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning')
        out.console_errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => out.page_errors.push(String(e && e.message || e)));
    // Every request but the page itself is a failure; abort it so nothing
    // leaves the machine even if the page asks.
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u === url)
        return route.continue();
      out.requests.push(u);
      return route.abort();
    });
    context.on('request', (r) => {
      const u = r.url();
      if (u !== url && !out.requests.includes(u))
        out.requests.push(u);
    });

    const resp = await page.goto(url, {waitUntil: 'load', timeout: STEP_MS});
    if (!resp)
      problems.push('no response for the file');
    const dom = await page.evaluate(() => {
      const norm = (t) => t.replace(/\s+/g, ' ').trim();
      const text = norm(document.body ? document.body.innerText : '');
      const titles = Array.from(document.querySelectorAll('article.finding h3 .ftitle'))
        .map((h) => norm(h.textContent));
      return {
        title: document.title,
        findings: document.querySelectorAll('article.finding').length,
        timelines: document.querySelectorAll('svg.timeline').length,
        memory_charts: document.querySelectorAll('svg.memchart').length,
        scripts: document.querySelectorAll('script').length,
        handlers: Array.from(document.querySelectorAll('*'))
          .filter((el) => Array.from(el.attributes).some((a) => /^on/i.test(a.name))).length,
        missing_titles: titles.filter((t) => !text.includes(t)).length +
          document.querySelectorAll('article.finding').length - titles.length,
        svgs_without_title: Array.from(document.querySelectorAll('svg[role="img"]'))
          .filter((s) => !s.querySelector(':scope > title')).length,
      };
    });
    out.title = dom.title;
    out.findings = dom.findings;
    out.timelines = dom.timelines;
    out.memory_charts = dom.memory_charts;
    if (dom.scripts)
      problems.push(`${dom.scripts} script elements`);
    if (dom.handlers)
      problems.push(`${dom.handlers} elements with on* attributes`);
    if (dom.missing_titles)
      problems.push(`${dom.missing_titles} finding titles missing from the rendered text`);
    if (dom.svgs_without_title)
      problems.push(`${dom.svgs_without_title} SVG images without a <title>`);
    await page.screenshot({path: shot, fullPage: true, timeout: STEP_MS});
  } catch (e) {
    problems.push(String(e && e.message || e).split('\n')[0]);
  }
  clearTimeout(watchdog);
  const code = await finish(out, problems, profile, context);
  process.exit(code);
}

// Closes the browser, removes the profile, prints the JSON line; returns
// the exit status.
async function finish(out, problems, profile, context) {
  if (context) {
    try {
      await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10000))]);
    } catch (e) {
      problems.push(`closing the browser: ${e.message}`);
    }
  }
  fs.rmSync(profile, {recursive: true, force: true});
  try {
    out.bytes = fs.statSync(out.screenshot).size;
  } catch (e) {
    out.bytes = 0;
  }
  if (out.bytes === 0)
    problems.push('screenshot missing or empty');
  const failed = problems.length || out.console_errors.length || out.page_errors.length || out.requests.length;
  if (problems.length)
    out.problems = problems;
  console.log(JSON.stringify(out));
  return failed ? 1 : 0;
}

main();
