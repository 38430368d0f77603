// HARDENED twin of injection-persistence-node-vulnerable.
//
// Follows seed 003 ("Serverless Function Security": rigorous input
// validation against code injection) for seed 002's payment handler: the
// amount is data, never code (it must match ^\d{1,9}(\.\d{1,2})?$ and is
// parsed with Number); the merge copies own keys only (Object.keys) and skips
// __proto__, constructor and prototype, so no request can reach
// Object.prototype; the response is an object literal, never a for...in copy.
//
// Event:    {user_id, card_number, amount, currency, ...nested objects}
// Response: {status: "accepted", user_id, amount, currency, card_last4} or
//           {status: "rejected", reason: "invalid amount"}
'use strict';

const AMOUNT_RE = /^\d{1,9}(\.\d{1,2})?$/;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function merge(dst, src) {
  for (const k of Object.keys(src)) {
    if (UNSAFE_KEYS.has(k)) continue;
    const v = src[k];
    if (typeof v === 'object' && v !== null) {
      if (!Object.prototype.hasOwnProperty.call(dst, k) || typeof dst[k] !== 'object' || dst[k] === null) {
        dst[k] = {};
      }
      merge(dst[k], v);
    } else {
      dst[k] = v;
    }
  }
  return dst;
}

exports.handler = async (event, context) => {
  if (typeof event !== 'object' || event === null || typeof event.amount !== 'string' ||
      !AMOUNT_RE.test(event.amount)) {
    return { status: 'rejected', reason: 'invalid amount' };
  }
  const order = merge({}, event);
  return {
    status: 'accepted',
    user_id: order.user_id,
    amount: Number(order.amount),
    currency: order.currency,
    card_last4: String(order.card_number === undefined ? '' : order.card_number).slice(-4),
  };
};
