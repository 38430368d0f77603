'use strict';
// promo-calculator: applies a campaign's discount formula to a basket.

const { evaluate } = require('./expr');

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/;

// Dates arrive as strings; turn them into Date objects while parsing and
// drop anything that looks like an attempt to smuggle object internals.
function reviver(key, value) {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') return undefined;
  if (typeof value === 'string' && ISO_DATE.test(value) && /(At|Until|From)$/.test(key)) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : d;
  }
  return value;
}

function reply(statusCode, body) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

exports.handler = async (event) => {
  let req;
  try {
    req = JSON.parse(typeof event.body === 'string' ? event.body : JSON.stringify(event), reviver);
  } catch (err) {
    return reply(400, { message: 'malformed JSON' });
  }

  const campaign = req.campaign || {};
  const basket = req.basket || {};
  const items = Array.isArray(basket.items) ? basket.items : [];
  const vars = {
    subtotal: items.reduce((s, i) => s + (Number(i.priceCents) || 0) * (Number(i.qty) || 1), 0),
    items: items.reduce((s, i) => s + (Number(i.qty) || 1), 0),
    loyaltyTier: Number(req.loyaltyTier) || 0,
  };

  const now = new Date();
  if (campaign.validUntil instanceof Date && campaign.validUntil < now) {
    return reply(200, { customerId: req.customerId, campaign: campaign.code, discountCents: 0, reason: 'campaign expired' });
  }

  let discount;
  try {
    discount = evaluate(String(campaign.formula ?? '0'), vars);
  } catch (err) {
    return reply(422, { message: `formula rejected: ${err.message}` });
  }
  discount = Math.max(0, Math.min(Math.round(discount), vars.subtotal));

  return reply(200, {
    customerId: req.customerId,
    campaign: campaign.code,
    subtotalCents: vars.subtotal,
    discountCents: discount,
    totalCents: vars.subtotal - discount,
  });
};
