'use strict';
// Thin client for the warehouse inventory service. One instance per
// execution environment so the keep-alive connection pool is reused.

const crypto = require('crypto');

const WAREHOUSES = ['DUB1', 'FRA2', 'AMS1'];

class InventoryClient {
  constructor({ baseUrl, timeoutMs }) {
    this.baseUrl = baseUrl;
    this.timeoutMs = timeoutMs;
    this.clientId = crypto.randomBytes(4).toString('hex');
    this.createdAt = new Date().toISOString();
    this.requestCount = 0;
  }

  async stockFor(sku) {
    this.requestCount += 1;
    // GET {baseUrl}/v2/stock/{sku} in production; deterministic stand-in here.
    const h = crypto.createHash('sha1').update(String(sku)).digest();
    return WAREHOUSES.map((code, i) => ({ warehouse: code, onHand: h[i] % 60, reserved: h[i + 3] % 5 }));
  }

  stats() {
    return { clientId: this.clientId, createdAt: this.createdAt, requests: this.requestCount };
  }
}

let instance;
function getClient() {
  if (!instance) {
    instance = new InventoryClient({
      baseUrl: process.env.INVENTORY_URL || 'https://inventory.internal.example.com',
      timeoutMs: Number(process.env.INVENTORY_TIMEOUT_MS || 800),
    });
  }
  return instance;
}

module.exports = { getClient };
