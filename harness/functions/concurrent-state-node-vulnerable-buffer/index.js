// VULNERABLE on purpose: one module-level buffer reused by concurrent
// requests.
//
// The profile API of concurrent-state-node-vulnerable, with the request
// context done right (it is passed down) but a signed profile card rendered
// into a scratch buffer allocated once at init "for performance". The card is
// written into the buffer, the signing service is awaited (a downstream call
// of a few tens of ms), and the card is then read back from the buffer. On
// classic Lambda an environment serves one request at a time, so the buffer
// is only ever in use by one. On Lambda Managed Instances "each concurrent
// request handled by the same worker thread shares the same handler object
// and global state"
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-nodejs-runtime.html):
// a second request renders its own card into the same buffer while the first
// waits for its signature, and the first answers with the second user's card
// (name, email and user id), signed with the first one's signature.
//
// The avatar cache beside it is safe: it is keyed by the user id and holds
// only what is derived from that id.
//
// Fix (concurrent-state-node-hardened): a buffer per request (Buffer.alloc
// in the handler), or copy what the request needs out of shared scratch
// space before any await.
//
// Event:    {user_id, path, display_name, email}
// Response: {user_id, display_name, email, path, plan, recent_logins,
//           avatar_url, card, card_signature}
'use strict';

const crypto = require('crypto');

const ACCOUNT_API_LATENCY_MS = 40;
const SIGNER_LATENCY_MS = 30;
const PLANS = ['free', 'pro', 'team'];
const AVATAR_CACHE_MAX = 1000;
const CARD_MAX_BYTES = 8 * 1024;

// Scratch space for rendering cards: allocated once, reused by every request.
const cardBuffer = Buffer.alloc(CARD_MAX_BYTES);

// user id -> avatar URL (hashing on every request showed up in profiles).
const avatarCache = new Map();

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

// The signing service: takes the card's digest, answers a signature.
async function signDigest(digest) {
  await new Promise((resolve) => setTimeout(resolve, SIGNER_LATENCY_MS));
  return crypto.createHmac('sha256', 'card-signing-demo-key').update(digest).digest('hex').slice(0, 32);
}

// Writes the card into cardBuffer; returns its length in bytes.
function renderCard(profile) {
  let n = cardBuffer.write(`${profile.display_name} <${profile.email}>\n`, 0);
  n += cardBuffer.write(`user ${profile.user_id} - ${profile.plan} plan - ${profile.path}\n`, n);
  return n;
}

exports.handler = async (event, context) => {
  const userId = String(event.user_id ?? '');
  const account = await fetchAccount(userId);
  const profile = {
    user_id: userId,
    display_name: String(event.display_name ?? ''),
    email: String(event.email ?? ''),
    path: String(event.path ?? '/profile'),
    plan: account.plan,
    recent_logins: account.recentLogins,
    avatar_url: avatarFor(userId),
  };
  const length = renderCard(profile);
  const signature = await signDigest(digestOf(cardBuffer.subarray(0, length)));
  return { ...profile, card: cardBuffer.toString('utf8', 0, length), card_signature: signature };
};
