// account-portal: HTTP API backend for the self-service account pages.
import { accountFromSession } from './session.mjs';
import * as pages from './pages.mjs';

const routes = {
  'GET /account': pages.overview,
  'GET /account/billing': pages.billing,
  'GET /account/security': pages.security,
};

// Page builds call three services in production; memoise them per path for
// a short while so the SPA's repeated navigation stays snappy.
const memo = new Map();
const MEMO_MS = 60_000;

function memoised(path, build) {
  const hit = memo.get(path);
  if (hit && hit.expires > Date.now()) return hit.value;
  const value = build();
  memo.set(path, { value, expires: Date.now() + MEMO_MS });
  return value;
}

const reply = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'private, no-store' },
  body: JSON.stringify(body),
});

export const handler = async (event) => {
  const account = accountFromSession(event);
  if (!account) return reply(401, { message: 'sign in required' });

  const method = event.requestContext?.http?.method ?? 'GET';
  const path = (event.rawPath || '/').replace(/\/+$/, '') || '/';
  const page = routes[`${method} ${path}`];
  if (!page) return reply(404, { message: 'not found' });

  const body = memoised(path, () => page(account));
  return reply(200, body);
};
