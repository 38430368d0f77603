'use strict';
// Product catalogue stand-in: 500 SKUs with long descriptions and spec tables.

const crypto = require('crypto');

const CATEGORIES = ['kitchen', 'garden', 'office', 'outdoor', 'lighting'];

function skuAt(i) {
  return `SKU-${String(i).padStart(4, '0')}`;
}

const SKUS = new Set(Array.from({ length: 500 }, (_, i) => skuAt(i)));

function product(sku) {
  if (!SKUS.has(sku)) return null;
  const h = crypto.createHash('sha256').update(sku).digest('hex');
  return {
    sku,
    title: `${CATEGORIES[parseInt(h.slice(0, 2), 16) % CATEGORIES.length]} item ${sku}`,
    priceCents: 500 + (parseInt(h.slice(2, 6), 16) % 20000),
    specs: Array.from({ length: 120 }, (_, i) => [`spec_${i}`, h.slice(i % 60, (i % 60) + 4)]),
    description: `Product ${sku}. `.repeat(1500),
  };
}

module.exports = { product };
