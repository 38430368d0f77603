'use strict';
// product-page: server-rendered product detail fragment for the storefront.

const { LruCache } = require('./lru');
const { product } = require('./catalog');

const MAX_PAGES = 50;
const pages = new LruCache(MAX_PAGES);

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function renderProduct(p) {
  const rows = p.specs.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return [
    `<section class="pdp" data-sku="${escapeHtml(p.sku)}">`,
    `<h1>${escapeHtml(p.title)}</h1>`,
    `<p class="price">&euro;${(p.priceCents / 100).toFixed(2)}</p>`,
    `<div class="description">${escapeHtml(p.description)}</div>`,
    `<table class="specs">${rows}</table>`,
    '</section>',
  ].join('\n');
}

exports.handler = async (event) => {
  const req = typeof event.body === 'string' ? JSON.parse(event.body) : event;
  const sku = String(req.sku ?? '').trim().toUpperCase();

  let html = pages.get(sku);
  const cached = html !== undefined;
  if (!cached) {
    const p = product(sku);
    if (!p) return { statusCode: 404, body: JSON.stringify({ message: 'no such product' }) };
    html = renderProduct(p);
    pages.set(sku, html);
  }

  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      sku,
      cached,
      cacheSize: pages.size,
      sessionId: req.sessionId,
      html,
    }),
  };
};
