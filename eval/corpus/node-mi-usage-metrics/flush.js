'use strict';
// CloudWatch / billing-table stand-in: per-account totals, answered after
// a network round trip.

const totals = new Map();
const rtt = () => new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 20)));

exports.send = async (batch) => {
  await rtt();
  for (const b of batch) totals.set(b.account, (totals.get(b.account) || 0) + b.calls);
};

exports.totalFor = async (account) => {
  await rtt();
  return totals.get(account) || 0;
};
