'use strict';
// profile-api: GET/PUT of a member's profile behind an HTTP API.
//
// Runs on Lambda Managed Instances (nodejs22.x, several requests per
// worker). The request context lives in a module-level object so that the
// logger and the audit helper can read it without threading it through
// every call.

const repo = require('./repo');

const ctx = { requestId: null, memberId: null, locale: 'en' };

function log(level, msg, extra) {
  console.log(JSON.stringify({ level, msg, requestId: ctx.requestId, member: ctx.memberId, ...extra }));
}

function audit(action) {
  return { action, by: ctx.memberId, at: new Date().toISOString() };
}

function json(statusCode, body) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

exports.handler = async (event, context) => {
  const body = typeof event.body === 'string' ? JSON.parse(event.body || '{}') : (event.body || event);
  ctx.requestId = context.awsRequestId;
  ctx.memberId = String(body.member_id || '');
  ctx.locale = body.locale || 'en';
  if (!ctx.memberId) return json(400, { error: 'member_id is required' });

  log('info', 'profile request');
  const stored = await repo.load(ctx.memberId);
  const profile = { ...stored, display_name: body.display_name || stored.display_name, bio: body.bio || stored.bio };
  await repo.save(ctx.memberId, profile);

  return json(200, {
    member_id: ctx.memberId,
    locale: ctx.locale,
    profile,
    last_change: audit('profile.update'),
  });
};
