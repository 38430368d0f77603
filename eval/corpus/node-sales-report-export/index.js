'use strict';
// sales-report-export: returns the monthly sales CSV for a tenant.

const fs = require('fs');
const path = require('path');
const { toCsv } = require('./report');

const REPORT_DIR = process.env.REPORT_DIR || '/tmp';

function safePart(s, fallback) {
  const v = String(s || '').toLowerCase().replace(/[^a-z0-9-]/g, '');
  return v.slice(0, 40) || fallback;
}

function parse(event) {
  if (typeof event.body === 'string') {
    return JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body);
  }
  return event;
}

exports.handler = async (event) => {
  let req;
  try {
    req = parse(event);
  } catch (e) {
    return { statusCode: 400, body: 'invalid request' };
  }

  const tenant = safePart(req.tenant, 'default');
  const month = /^\d{4}-\d{2}$/.test(req.month || '') ? req.month : new Date().toISOString().slice(0, 7);
  const requestedBy = String(req.requestedBy || 'unknown');

  // Generating the report takes a few seconds against the warehouse; reuse
  // the file if this container has already produced it.
  const file = path.join(REPORT_DIR, `sales-${tenant}-${month}.csv`);
  let source = 'cache';
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, toCsv({ tenant, month, requestedBy }));
    source = 'generated';
  }

  const csv = fs.readFileSync(file, 'utf8');
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv',
      'content-disposition': `attachment; filename="sales-${tenant}-${month}.csv"`,
      'x-report-source': source,
    },
    body: csv,
  };
};
