// fuzz_nested.js: Jazzer.js fuzz target for harness/functions/fuzz-nested-node,
// the in-process peer baseline that `coldsec fuzz` is benchmarked against
// (bench/jazzer/run.sh runs it; ../../shared/reference/fuzzing.md section 4).
//
// Feeds each input to the handler as the lab would: JSON.parse of the bytes
// (inputs that are not JSON are ignored, as the lab refuses them before any
// handler runs). The handler's planted crash is process.exit(3), which would
// end the fuzzer itself without a finding: process.exit is stubbed, only
// while the handler runs, to record the call and throw, and the target then
// throws a HandlerExit error, which Jazzer.js reports as a finding (crash
// artifact saved). The handler is not changed.
//
// When BENCH_FINDING_FILE is set, the first finding writes one JSON line
// {"found_at_ms": epoch ms, "execs": calls so far} there, for run.sh's
// time-to-bug (Jazzer.js's own output has no timestamps).
'use strict';

const fs = require('fs');
const path = require('path');

const { handler } = require(path.join(__dirname, '..', '..', 'harness', 'functions',
  'fuzz-nested-node', 'index.js'));

class HandlerExit extends Error {}

let execs = 0;
const realExit = process.exit;

function exitStub(code) {
  throw new HandlerExit(`handler called process.exit(${code})`);
}

module.exports.fuzz = function fuzz(data) {
  execs += 1;
  let event;
  try {
    event = JSON.parse(data.toString('utf8'));
  } catch (e) {
    return; // not JSON: never reaches a handler in the lab either
  }
  let exited = null;
  process.exit = (code) => {
    exited = code;
    exitStub(code);
  };
  let pending;
  try {
    // The handler is async but reaches process.exit before any await, so
    // the stub has run by the time handler() returns its promise; calling
    // it synchronously keeps Jazzer.js on its fast synchronous path.
    pending = handler(event, {});
  } finally {
    process.exit = realExit;
  }
  pending.catch(() => {}); // the stub's throw rejects the promise: seen via `exited`
  if (exited !== null) {
    if (process.env.BENCH_FINDING_FILE) {
      fs.writeFileSync(process.env.BENCH_FINDING_FILE,
        JSON.stringify({ found_at_ms: Date.now(), execs }) + '\n');
    }
    throw new HandlerExit(`fuzz-nested-node crashed: process.exit(${exited}) on ${JSON.stringify(event)}`);
  }
};
