// VULNERABLE on purpose: a request-scoped global set before an await and
// read after it.
//
// A profile API. The handler keeps "the current request" in a module
// variable so that the logger and the render helpers need not be handed the
// event, then awaits the account service (a downstream call of a few tens of
// ms) and builds the answer from that module variable. On classic Lambda an
// environment serves one request at a time, so this works. On Lambda Managed
// Instances it does not: "each concurrent request handled by the same worker
// thread shares the same handler object and global state"
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-nodejs-runtime.html).
// While one request waits for the account service, the next request on the
// same worker overwrites `current`, and the first answers with the second's
// user id, name and email (and logs them under its own request id).
//
// The avatar cache beside it is safe: it is keyed by the user id and holds
// only what is derived from that id.
//
// Fix (concurrent-state-node-hardened): keep the request context in an
// AsyncLocalStorage store (or pass it down), never in a module variable that
// a request writes.
//
// Event:    {user_id, path, display_name, email}
// Response: {user_id, display_name, email, path, plan, recent_logins,
//           avatar_url, card}
'use strict';

const crypto = require('crypto');

const ACCOUNT_API_LATENCY_MS = 40;
const PLANS = ['free', 'pro', 'team'];
const AVATAR_CACHE_MAX = 1000;

// The request being served, for log() and the render helpers.
let current = null;

// user id -> avatar URL (hashing on every request showed up in profiles).
const avatarCache = new Map();

function log(message) {
  console.log(`${message} path=${current.path} user=${current.userId}`);
}

function digestOf(text) {
  return crypto.createHash('sha256').update(text).digest();
}

function avatarFor(userId) {
  let url = avatarCache.get(userId);
  if (url === undefined) {
    url = `https://avatars.example.com/${digestOf(userId).toString('hex').slice(0, 16)}.png`;
    if (avatarCache.size >= AVATAR_CACHE_MAX) avatarCache.delete(avatarCache.keys().next().value);
    avatarCache.set(userId, url);
  }
  return url;
}

// The account service: plan and recent sign-ins of a user.
async function fetchAccount(userId) {
  await new Promise((resolve) => setTimeout(resolve, ACCOUNT_API_LATENCY_MS));
  const d = digestOf(`account:${userId}`);
  return { plan: PLANS[d[0] % PLANS.length], recentLogins: d[1] % 20 };
}

function renderProfile(account) {
  return {
    user_id: current.userId,
    display_name: current.displayName,
    email: current.email,
    path: current.path,
    plan: account.plan,
    recent_logins: account.recentLogins,
    avatar_url: avatarFor(current.userId),
    card: `${current.displayName} <${current.email}> - ${account.plan} plan`,
  };
}

exports.handler = async (event, context) => {
  current = {
    requestId: context.awsRequestId,
    userId: String(event.user_id ?? ''),
    displayName: String(event.display_name ?? ''),
    email: String(event.email ?? ''),
    path: String(event.path ?? '/profile'),
  };
  log('profile requested');
  const account = await fetchAccount(current.userId);
  const profile = renderProfile(account);
  log('profile served');
  return profile;
};
