// HARDENED twin of concurrent-state-node-vulnerable and
// concurrent-state-node-vulnerable-buffer.
//
// The same profile API, safe when one worker serves many requests at once,
// as Lambda Managed Instances do ("each concurrent request handled by the
// same worker thread shares the same handler object and global state";
// AWS's advice: no global state for mutable objects, or AsyncLocalStorage:
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-nodejs-runtime.html).
// The request context lives in an AsyncLocalStorage store, which follows
// each request's own chain of awaits; the card is rendered into a buffer
// allocated for the request. What stays at module level is shared on
// purpose and safe to share: the AsyncLocalStorage instance itself (one
// instance, one store per request), a frozen configuration, and an avatar
// cache keyed by the verified user id that holds only what is derived from
// that id.
//
// Event:    {user_id, path, display_name, email}
// Response: {user_id, display_name, email, path, plan, recent_logins,
//           avatar_url, card, card_signature}, or {error: "invalid request"}
//           when user_id is not a string of 1 to 256 characters
'use strict';

const { AsyncLocalStorage } = require('async_hooks');
const crypto = require('crypto');

const CONFIG = Object.freeze({
  accountApiLatencyMs: 40,
  signerLatencyMs: 30,
  plans: Object.freeze(['free', 'pro', 'team']),
  avatarCacheMax: 1000,
  cardMaxBytes: 8 * 1024,
});

// One instance for the module; run() gives every request its own store.
const requestContext = new AsyncLocalStorage();

// verified user id -> avatar URL, derived from that id alone.
const avatarCache = new Map();

function log(message) {
  const ctx = requestContext.getStore();
  console.log(`${message} path=${ctx.path} user=${ctx.userId}`);
}

function digestOf(text) {
  return crypto.createHash('sha256').update(text).digest();
}

function avatarFor(userId) {
  let url = avatarCache.get(userId);
  if (url === undefined) {
    url = `https://avatars.example.com/${digestOf(userId).toString('hex').slice(0, 16)}.png`;
    if (avatarCache.size >= CONFIG.avatarCacheMax) avatarCache.delete(avatarCache.keys().next().value);
    avatarCache.set(userId, url);
  }
  return url;
}

// The account service: plan and recent sign-ins of a user.
async function fetchAccount(userId) {
  await new Promise((resolve) => setTimeout(resolve, CONFIG.accountApiLatencyMs));
  const d = digestOf(`account:${userId}`);
  return { plan: CONFIG.plans[d[0] % CONFIG.plans.length], recentLogins: d[1] % 20 };
}

// The signing service: takes the card's digest, answers a signature.
async function signDigest(digest) {
  await new Promise((resolve) => setTimeout(resolve, CONFIG.signerLatencyMs));
  return crypto.createHmac('sha256', 'card-signing-demo-key').update(digest).digest('hex').slice(0, 32);
}

// Writes the card into this request's buffer; returns its length in bytes.
function renderCard(buffer, profile) {
  let n = buffer.write(`${profile.display_name} <${profile.email}>\n`, 0);
  n += buffer.write(`user ${profile.user_id} - ${profile.plan} plan - ${profile.path}\n`, n);
  return n;
}

async function serveProfile() {
  const ctx = requestContext.getStore();
  log('profile requested');
  const account = await fetchAccount(ctx.userId);
  const profile = {
    user_id: ctx.userId,
    display_name: ctx.displayName,
    email: ctx.email,
    path: ctx.path,
    plan: account.plan,
    recent_logins: account.recentLogins,
    avatar_url: avatarFor(ctx.userId),
  };
  const card = Buffer.alloc(CONFIG.cardMaxBytes);
  const length = renderCard(card, profile);
  const signature = await signDigest(digestOf(card.subarray(0, length)));
  log('profile served');
  return { ...profile, card: card.toString('utf8', 0, length), card_signature: signature };
}

exports.handler = async (event, context) => {
  const userId = event.user_id;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
    return { error: 'invalid request' };
  }
  const ctx = {
    requestId: context.awsRequestId,
    userId,
    displayName: String(event.display_name ?? ''),
    email: String(event.email ?? ''),
    path: String(event.path ?? '/profile'),
  };
  return requestContext.run(ctx, serveProfile);
};
