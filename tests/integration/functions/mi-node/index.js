/**
 * A Managed Instances test function for test_lab_managed_runtimes (Node).
 *
 * Module-level state is what the test looks at: initId is made once per
 * worker thread's init, inFlight/peak count the requests of this worker that
 * overlap. {"hold": PORT} connects back to the test's socket and waits for a
 * byte, so the test decides when the request ends (no timing); "marker" is
 * logged with console.log before and after that await, and once raw.
 */
'use strict';

const net = require('net');
const { threadId } = require('worker_threads');

const initId = `${process.pid}-${threadId}-${Math.random().toString(16).slice(2)}`;
let inFlight = 0;
let peak = 0;
console.log(`init ${initId}`);

function hold(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('data', () => { s.destroy(); resolve(); });
    s.on('error', reject);
  });
}

function answer(extra) {
  return Object.assign({ stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, initId, threadId }, extra);
}

exports.handler = async (event) => {
  inFlight++;
  peak = Math.max(peak, inFlight);
  try {
    if (event.marker) console.log(`before ${event.marker}`);
    if (event.hold) await hold(event.hold);
    if (event.marker) {
      console.log(`after ${event.marker}`);
      process.stdout.write(`raw ${event.marker}\n`);
    }
    return answer({ peak });
  } finally {
    inFlight--;
  }
};

/** Synchronous and busy: nothing else of this worker runs meanwhile. */
exports.busy = (event) => {
  inFlight++;
  peak = Math.max(peak, inFlight);
  let x = 0;
  for (let i = 0; i < (event.spins || 3e6); i++) x = (x + i) % 7919;
  const seen = peak;
  inFlight--;
  return answer({ peak: seen, x });
};
