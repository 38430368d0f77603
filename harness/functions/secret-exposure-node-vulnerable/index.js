// VULNERABLE on purpose: secrets in global scope, leaked by error handling.
//
// Seed 000 (cold-start security article, "Credentials in global scope" and
// "Environment Variable Leakage": plain-text variables, no KMS) and seed 001
// ("Error handling": revealing too much in error messages). The password is
// read when the module loads and baked into DB_URL; any failure logs the
// whole environment (API_KEY and the environment's AWS credentials included)
// and throws an unhandled error whose message carries DB_URL, so the password
// reaches the caller's errorMessage and the log.
//
// Event:    a Lambda function URL event; body (base64 when isBase64Encoded) is
//           JSON {order_id: string, quantity: number, items: [{sku, qty: number}]}
// Response: {statusCode: 200, headers, body: JSON {status: "accepted",
//           order_id upper-cased, quantity, units: sum of qty}}; any bad input
//           is an unhandled Error "order failed using <DB_URL>: <message>"
'use strict';

const DB_URL = `postgresql://orders:${process.env.DB_PASSWORD}@db.internal:5432/orders`;
// Held in global scope as in the seed; it leaks through the environment dump.
const API_KEY = process.env.API_KEY;

exports.handler = async (event, context) => {
  try {
    const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const order = JSON.parse(body);
    const orderId = order.order_id.toUpperCase();
    const quantity = Number(order.quantity.toFixed(0));
    const units = order.items.map((item) => Number(item.qty.toFixed(0))).reduce((a, b) => a + b, 0);
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'accepted', order_id: orderId, quantity, units }),
    };
  } catch (e) {
    console.error('order failed', JSON.stringify(process.env));
    throw new Error(`order failed using ${DB_URL}: ${e.message}`);
  }
};
