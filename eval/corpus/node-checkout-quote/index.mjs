// checkout-quote: prices a cart and returns the quote shown on the review step.
import { lineTotal, taxFor } from './pricing.mjs';

// Defaults for anything the storefront doesn't send.
const quoteDefaults = {
  currency: 'EUR',
  country: 'DE',
  channel: 'web',
  shippingMethod: 'standard',
};

const SHIPPING = { standard: 495, express: 1295, pickup: 0 };

function readRequest(event) {
  if (event && typeof event.body === 'string') return JSON.parse(event.body);
  return event ?? {};
}

export const handler = async (event) => {
  const request = readRequest(event);
  const ctx = Object.assign(quoteDefaults, request);

  if (!ctx.customerId) {
    return { ok: false, error: 'customerId is required' };
  }

  const lines = (Array.isArray(ctx.items) ? ctx.items : [])
    .map(lineTotal)
    .filter(Boolean);
  const subtotal = lines.reduce((sum, l) => sum + l.cents, 0);
  const shipping = SHIPPING[ctx.shippingMethod] ?? SHIPPING.standard;
  const tax = taxFor(ctx.country, subtotal + shipping);

  return {
    ok: true,
    quote: {
      customerId: ctx.customerId,
      cartId: ctx.cartId ?? null,
      currency: ctx.currency,
      lines,
      subtotal,
      shipping,
      tax,
      total: subtotal + shipping + tax,
      shippingMethod: ctx.shippingMethod,
      deliveryNote: ctx.deliveryNote ?? '',
      giftMessage: ctx.giftMessage ?? null,
      promoCode: ctx.promoCode ?? null,
    },
  };
};
