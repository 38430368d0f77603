'use strict';
// notification-preferences: HTTP API (payload v2) for a user's notification settings.

const { deepMerge, flatten, isPlainObject } = require('./lib/merge');

const DEFAULT_PREFERENCES = Object.freeze({
  channels: {
    email: { enabled: true, digest: 'daily' },
    sms: { enabled: false },
    push: { enabled: true, sound: 'default' },
  },
  quietHours: { enabled: false, start: '22:00', end: '07:00', timezone: 'UTC' },
  topics: { invoices: true, productNews: false, securityAlerts: true },
});

function json(statusCode, body) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function claimsOf(event) {
  return event?.requestContext?.authorizer?.jwt?.claims ?? {};
}

function freshDefaults() {
  return deepMerge({}, JSON.parse(JSON.stringify(DEFAULT_PREFERENCES)));
}

function getPreferences(userId) {
  const prefs = freshDefaults();
  return json(200, { userId, preferences: prefs, effective: flatten(prefs) });
}

function putPreferences(userId, event) {
  let body;
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body || '', 'base64').toString('utf8') : event.body || '{}';
    body = JSON.parse(text);
  } catch (err) {
    return json(400, { message: 'invalid JSON body' });
  }
  const incoming = body.preferences ?? body.settings;
  if (!isPlainObject(incoming)) return json(422, { message: 'preferences must be an object' });

  const prefs = deepMerge(freshDefaults(), incoming);
  // The real version writes prefs to DynamoDB here (UserPreferences table).
  return json(200, {
    userId,
    saved: true,
    preferences: prefs,
    effective: flatten(prefs),
  });
}

const routes = {
  'GET /me/preferences': (userId) => getPreferences(userId),
  'PUT /me/preferences': (userId, event) => putPreferences(userId, event),
};

exports.handler = async (event) => {
  const userId = claimsOf(event).sub;
  if (!userId) return json(401, { message: 'Unauthorized' });

  const route = routes[event.routeKey];
  if (!route) return json(404, { message: `no route for ${event.routeKey}` });
  return route(userId, event);
};
