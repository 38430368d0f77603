'use strict';
// Signs a rendered document. In production this is a KMS Sign call; here a
// local HMAC after the round trip KMS takes.

const crypto = require('crypto');
const KEY = process.env.SIGNING_KEY_ID || 'alias/invoices';

exports.sign = async (bytes) => {
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 20)));
  return crypto.createHmac('sha256', KEY).update(bytes).digest('base64');
};
