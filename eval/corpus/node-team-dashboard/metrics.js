'use strict';
// Fake warehouse queries for the team dashboard. Deterministic per org so
// the numbers are stable between invocations (the real thing hits Redshift).

const crypto = require('crypto');

function seeded(orgId, label) {
  const h = crypto.createHash('sha1').update(`${orgId}:${label}`).digest();
  return h.readUInt32BE(0);
}

function weeklyTotals(orgId, range) {
  const days = range === '30d' ? 30 : 7;
  const base = seeded(orgId, 'orders') % 400;
  const series = [];
  for (let d = 0; d < days; d++) {
    series.push(base + ((seeded(orgId, `day${d}`) % 90) - 45));
  }
  return {
    days,
    orders: series.reduce((a, b) => a + b, 0),
    series,
  };
}

function openTickets(orgId) {
  return seeded(orgId, 'tickets') % 37;
}

function activeSeats(orgId) {
  return 5 + (seeded(orgId, 'seats') % 120);
}

module.exports = { weeklyTotals, openTickets, activeSeats };
