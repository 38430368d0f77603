'use strict';
// Builds the monthly sales CSV. Deterministic fake data per tenant/month.

const crypto = require('crypto');

const REGIONS = ['north', 'south', 'east', 'west'];

function rowsFor(tenant, month) {
  const rows = [];
  for (const region of REGIONS) {
    const h = crypto.createHash('md5').update(`${tenant}|${month}|${region}`).digest();
    rows.push({ region, orders: h[0] * 3 + h[1], revenueCents: h.readUInt32BE(2) % 5_000_000 });
  }
  return rows;
}

function toCsv({ tenant, month, requestedBy }) {
  const lines = [
    `# Sales report ${tenant} ${month}`,
    `# Prepared for ${requestedBy} at ${new Date().toISOString()}`,
    'region,orders,revenue_eur',
  ];
  for (const r of rowsFor(tenant, month)) {
    lines.push(`${r.region},${r.orders},${(r.revenueCents / 100).toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

module.exports = { toCsv };
