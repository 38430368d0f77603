'use strict';
// tenant-settings: returns the settings a signed-in user sees for their
// tenant. Managed Instances (nodejs22.x).
//
// The request context is carried with AsyncLocalStorage; tenant defaults
// are cached per tenant at module level (they are the same for every user
// of a tenant), and the user's own overrides are never cached.

const { AsyncLocalStorage } = require('node:async_hooks');
const settingsDb = require('./settings-db');

const requestContext = new AsyncLocalStorage();
const tenantDefaults = new Map(); // tenant -> {at, value}
const TTL_MS = 60 * 1000;

function current() {
  return requestContext.getStore();
}

function log(msg) {
  const c = current();
  console.log(JSON.stringify({ msg, tenant: c && c.tenant }));
}

async function defaultsFor(tenant) {
  const hit = tenantDefaults.get(tenant);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const value = await settingsDb.tenantDefaults(tenant);
  tenantDefaults.set(tenant, { at: Date.now(), value });
  return value;
}

async function handle(body) {
  const c = current();
  const defaults = await defaultsFor(c.tenant);
  const own = await settingsDb.userOverrides(c.tenant, c.user);
  log('settings served');
  return { tenant: c.tenant, user: c.user, settings: { ...defaults, ...own, display_name: body.display_name } };
}

exports.handler = async (event) => {
  const body = typeof event.body === 'string' ? JSON.parse(event.body || '{}') : event;
  const ctx = { tenant: String(body.tenant || 'default'), user: String(body.user || '') };
  if (!ctx.user) return { statusCode: 400, body: JSON.stringify({ message: 'user is required' }) };
  const result = await requestContext.run(ctx, () => handle(body));
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
};
