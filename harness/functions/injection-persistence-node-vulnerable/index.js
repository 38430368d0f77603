// VULNERABLE on purpose: code injection and prototype pollution that persist
// in a warm environment.
//
// Seed 002 ("AWS Lambda Stateless & Ephemeral?", Check Point): a payment
// handler evaluates the caller's "amount expression" with eval(), so injected
// code (say, a patched JSON.stringify) stays in the runtime process for every
// later invocation. The order is also copied with a naive recursive merge:
// JSON.parse keeps "__proto__" as an ordinary key, so
// {"__proto__": {...}} or {"constructor": {"prototype": {...}}} writes into
// Object.prototype, and the receipt copied with for...in then carries the
// polluted properties into every later response of this environment.
//
// Event:    {user_id, card_number, amount, currency, ...nested objects}
// Response: {status: "accepted", user_id, amount (0 when eval did not give a
//           finite number), currency, card_last4, ...inherited pollution}
//
// Not strict mode on purpose: direct eval in sloppy mode can declare
// variables in the handler's scope, as in the code the seed describes.

function merge(dst, src) {
  for (const k in src) {
    if (typeof src[k] === 'object' && src[k] !== null) {
      if (!dst[k]) dst[k] = {};
      merge(dst[k], src[k]);
    } else {
      dst[k] = src[k];
    }
  }
  return dst;
}

exports.handler = async (event, context) => {
  const amount = eval(event.amount); // the seed's bug, kept on purpose
  const order = merge({}, event);
  const receipt = {
    status: 'accepted',
    user_id: order.user_id,
    amount: typeof amount === 'number' && Number.isFinite(amount) ? amount : 0,
    currency: order.currency,
    card_last4: String(order.card_number === undefined ? '' : order.card_number).slice(-4),
  };
  const out = {};
  for (const k in receipt) out[k] = receipt[k];
  return out;
};
