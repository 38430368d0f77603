'use strict';
// usage-metrics: records an API call for billing and returns the caller's
// running total. Managed Instances (nodejs22.x).
//
// Counts are aggregated at module level and flushed in batches (one
// PutMetricData per 50 calls), which is why there is shared mutable state
// here at all.

const flush = require('./flush');

const pending = []; // {account, calls}: counts only
let sinceFlush = 0;

async function record(account) {
  pending.push({ account, calls: 1 });
  sinceFlush += 1;
  if (sinceFlush >= 50) {
    const batch = pending.splice(0, pending.length);
    sinceFlush = 0;
    await flush.send(batch);
  }
}

exports.handler = async (event) => {
  const req = typeof event.body === 'string' ? JSON.parse(event.body || '{}') : event;
  const account = String(req.account || '');
  const endpoint = String(req.endpoint || '/');
  if (!account) return { statusCode: 400, body: JSON.stringify({ message: 'account is required' }) };
  await record(account);
  const total = await flush.totalFor(account);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account, endpoint, label: req.label, calls_this_month: total }),
  };
};
