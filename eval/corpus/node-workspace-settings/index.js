'use strict';
// workspace-settings: HTTP API (payload v2) to read and update a workspace's settings.

const { DEFAULTS, mergeSettings, changedPaths, isObject } = require('./settings');

const send = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function principal(event) {
  const ctx = event.requestContext?.authorizer?.lambda ?? {};
  return { userId: ctx.userId, workspaceId: ctx.workspaceId };
}

async function updateSettings(event, who) {
  let body;
  try {
    body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body ?? '{}');
  } catch (err) {
    return send(400, { message: 'body is not valid JSON' });
  }
  if (!isObject(body.settings)) return send(422, { message: 'settings must be an object' });

  const current = mergeSettings(DEFAULTS, {}); // stored settings would be loaded here
  const next = mergeSettings(current, body.settings);
  return send(200, {
    workspaceId: who.workspaceId,
    updatedBy: who.userId,
    settings: next,
    changed: changedPaths(current, next),
  });
}

exports.handler = async (event) => {
  const who = principal(event);
  if (!who.userId) return send(403, { message: 'Forbidden' });

  switch (event.routeKey) {
    case 'GET /workspace/settings':
      return send(200, { workspaceId: who.workspaceId, settings: mergeSettings(DEFAULTS, {}) });
    case 'PATCH /workspace/settings':
      return updateSettings(event, who);
    default:
      return send(404, { message: 'Not Found' });
  }
};
