'use strict';
// invoice-pdf: renders an invoice to a text document and returns it with a
// detached signature. Managed Instances (nodejs22.x).
//
// Rendering goes through one scratch buffer allocated at start-up: invoices
// are small and allocating per request showed up in the profile.

const { sign } = require('./signer');

const SCRATCH = Buffer.alloc(16 * 1024);

function renderInto(buf, inv) {
  let off = 0;
  const put = (s) => { off += buf.write(s, off, 'utf8'); };
  put(`INVOICE ${inv.number}\n`);
  put(`Bill to: ${inv.customer}\n`);
  put(`Address: ${inv.address}\n`);
  for (const l of inv.lines || []) put(`  ${l.qty} x ${l.item} @ ${l.price}\n`);
  put(`Notes: ${inv.notes || '-'}\n`);
  return off;
}

exports.handler = async (event) => {
  const inv = typeof event.body === 'string' ? JSON.parse(event.body) : event;
  if (!inv.number || !inv.customer) return { statusCode: 400, body: 'number and customer are required' };
  const len = renderInto(SCRATCH, inv);
  const signature = await sign(SCRATCH.subarray(0, len));
  const document = SCRATCH.toString('utf8', 0, len);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ document, signature }) };
};
