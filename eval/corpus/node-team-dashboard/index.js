'use strict';
// team-dashboard: builds the landing-page dashboard for an organisation.

const metrics = require('./metrics');

const CACHE_TTL_MS = Number(process.env.DASHBOARD_TTL_MS || 5 * 60 * 1000);

// Dashboard queries are slow on the warehouse side, so keep the rendered
// payload per org for a few minutes. Most orgs have a handful of people
// refreshing the same page all day.
const dashboards = new Map();

class DashboardBuilder {
  constructor(orgId, range) {
    this.orgId = orgId;
    this.range = range;
  }

  build(viewer) {
    const totals = metrics.weeklyTotals(this.orgId, this.range);
    return {
      orgId: this.orgId,
      range: this.range,
      greeting: `Welcome back, ${viewer.name}`,
      viewer: { id: viewer.id, name: viewer.name },
      widgets: [
        { type: 'orders', value: totals.orders, series: totals.series },
        { type: 'open_tickets', value: metrics.openTickets(this.orgId) },
        { type: 'active_seats', value: metrics.activeSeats(this.orgId) },
      ],
      generatedAt: new Date().toISOString(),
    };
  }
}

function parseBody(event) {
  if (!event || event.body == null) return event || {};
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').toString('utf8')
    : event.body;
  return typeof raw === 'string' ? JSON.parse(raw) : raw;
}

function respond(statusCode, payload) {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  };
}

exports.handler = async (event) => {
  let req;
  try {
    req = parseBody(event);
  } catch (e) {
    return respond(400, { message: 'body must be JSON' });
  }

  const orgId = String(req.orgId || '').trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(orgId)) return respond(400, { message: 'orgId is missing or malformed' });
  const range = req.range === '30d' ? '30d' : '7d';
  const viewer = { id: String(req.viewerId || 'anonymous'), name: String(req.viewerName || 'there') };

  const key = `${orgId}:${range}`;
  const hit = dashboards.get(key);
  if (hit && Date.now() - hit.at < CACHE_TTL_MS) {
    return respond(200, { ...hit.payload, cached: true });
  }

  const payload = new DashboardBuilder(orgId, range).build(viewer);
  dashboards.set(key, { at: Date.now(), payload });
  return respond(200, { ...payload, cached: false });
};
