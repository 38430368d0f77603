'use strict';
// inventory-lookup: stock levels for the SKUs in a picker's request.

const { getClient } = require('./inventory-client');

const client = getClient();

exports.handler = async (event) => {
  const skus = Array.isArray(event.skus) ? event.skus.slice(0, 25).map(String) : [];
  if (skus.length === 0) return { ok: false, error: 'skus must be a non-empty array' };

  const items = [];
  for (const sku of skus) {
    const levels = await client.stockFor(sku);
    const available = levels.reduce((s, l) => s + Math.max(0, l.onHand - l.reserved), 0);
    items.push({ sku, available, levels });
  }

  return {
    ok: true,
    pickerId: event.pickerId,
    site: event.site || 'DUB1',
    items,
    client: client.stats(),
  };
};
