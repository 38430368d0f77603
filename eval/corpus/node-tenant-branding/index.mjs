// tenant-branding: returns the white-label branding and the signed-in user's header for the web app.
import { createHash } from 'node:crypto';

const TTL_MS = Number(process.env.BRANDING_TTL_MS ?? 10 * 60 * 1000);
const PALETTE = ['#0b5fff', '#00875a', '#de350b', '#6554c0', '#ff8b00', '#172b4d'];

// tenantId -> { expires, branding }. Branding is per tenant, identical for
// every user of that tenant, so it's safe to share across invocations.
const brandingCache = new Map();

async function loadBranding(tenantId) {
  // Production reads this from the TenantSettings table.
  const h = createHash('sha256').update(tenantId).digest();
  return Object.freeze({
    tenantId,
    displayName: tenantId.replace(/(^|-)([a-z])/g, (_, s, c) => `${s ? ' ' : ''}${c.toUpperCase()}`),
    primaryColor: PALETTE[h[0] % PALETTE.length],
    logoUrl: `https://cdn.example.com/tenants/${encodeURIComponent(tenantId)}/logo.svg`,
    supportEmail: `support+${h.toString('hex').slice(0, 6)}@example.com`,
    features: Object.freeze({ darkMode: h[1] % 2 === 0, chatWidget: h[2] % 3 === 0 }),
  });
}

async function getBranding(tenantId) {
  const hit = brandingCache.get(tenantId);
  if (hit && hit.expires > Date.now()) return { branding: hit.branding, cached: true };
  const branding = await loadBranding(tenantId);
  brandingCache.set(tenantId, { expires: Date.now() + TTL_MS, branding });
  return { branding, cached: false };
}

export const handler = async (event) => {
  const req = typeof event?.body === 'string' ? JSON.parse(event.body) : event ?? {};
  const tenantId = String(req.tenantId ?? '').toLowerCase().trim();
  if (!/^[a-z0-9-]{2,63}$/.test(tenantId)) {
    return { statusCode: 400, body: JSON.stringify({ message: 'unknown tenant' }) };
  }

  const { branding, cached } = await getBranding(tenantId);
  const user = { id: String(req.userId ?? ''), name: String(req.displayName ?? '') };

  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      branding,
      header: { greeting: `Hi ${user.name || user.id}`, userId: user.id },
      cached,
    }),
  };
};
