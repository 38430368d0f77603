'use strict';
// invoice-formatter: renders the summary line and totals for an invoice email.

const { renderLine, money } = require('./render');

const DEFAULT_TEMPLATE = 'Invoice ${invoice.number} for ${customer.name}: ${money(invoice.total, invoice.currency)}';

function totals(lines) {
  const net = lines.reduce((s, l) => s + Math.round((l.unitCents || 0) * (l.qty || 1)), 0);
  const vat = Math.round(net * 0.21);
  return { net, vat, total: net + vat };
}

exports.handler = async (event) => {
  const invoice = event.invoice || {};
  const lines = Array.isArray(invoice.lines) ? invoice.lines : [];
  const t = totals(lines);
  const enriched = { ...invoice, ...t, currency: invoice.currency || 'EUR' };
  const customer = { id: event.customerId, name: event.customerName || event.customerId };

  let summary;
  try {
    summary = renderLine(event.template || DEFAULT_TEMPLATE, enriched, customer);
  } catch (err) {
    return { statusCode: 422, error: 'template could not be rendered' };
  }

  return {
    statusCode: 200,
    tenantId: event.tenantId,
    customerId: event.customerId,
    summary,
    net: money(t.net, enriched.currency),
    vat: money(t.vat, enriched.currency),
    total: money(t.total, enriched.currency),
  };
};
