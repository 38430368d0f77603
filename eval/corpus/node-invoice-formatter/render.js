'use strict';
// Invoice line templates: tenants configure a one-line summary such as
//   "Invoice ${invoice.number} for ${customer.name}: ${money(invoice.total)}"
// in the billing settings page and the storefront sends it with each request.

const compiled = new Map();
const MAX_TEMPLATES = 200;
const MAX_TEMPLATE_LENGTH = 2000;

function money(cents, currency = 'EUR') {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency }).format((cents || 0) / 100);
}

function date(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 10);
}

function compile(template) {
  if (template.length > MAX_TEMPLATE_LENGTH) throw new RangeError('template too long');
  let fn = compiled.get(template);
  if (!fn) {
    if (compiled.size >= MAX_TEMPLATES) compiled.clear();
    // Treat the template as a template literal so ${...} placeholders work;
    // escape backslashes and backticks so the literal stays closed.
    const source = template.replace(/\\/g, '\\\\').replace(/`/g, '\\`');
    fn = new Function('invoice', 'customer', 'money', 'date', `return \`${source}\`;`);
    compiled.set(template, fn);
  }
  return fn;
}

function renderLine(template, invoice, customer) {
  return compile(template)(invoice, customer, money, date);
}

module.exports = { renderLine, money };
