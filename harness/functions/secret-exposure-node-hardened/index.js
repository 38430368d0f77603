// HARDENED twin of secret-exposure-node-vulnerable.
//
// Follows seed 000's "Lazy Loading Credentials" (nothing secret at module
// level: the database password stays in Parameter Store, named by
// DB_PASSWORD_PARAM, to be read inside the handler when a write needs it; the
// lab never calls AWS, so this sample stops at the name), seed 003 (variables
// encrypted with a customer KMS key: see kms_key_arn in functions.yaml;
// rigorous input validation) and seed 001 ("Error handling": log what
// debugging needs without exposing system details). Errors answer 400 with a
// generic message and the request id; the log gets the error's class name
// only.
//
// Event:    a Lambda function URL event; body (base64 when isBase64Encoded) is
//           JSON {order_id: string, quantity: number, items: [{sku, qty: number}]}
// Response: {statusCode: 200, headers, body: JSON {status: "accepted",
//           order_id upper-cased, quantity, units: sum of qty}} or
//           {statusCode: 400, headers, body: JSON {error: "invalid order", request_id}}
'use strict';

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_ITEMS = 100;
const MAX_QTY = 10000;
const JSON_HEADERS = { 'content-type': 'application/json' };

class InvalidOrder extends Error {}

function count(value) {
  if (!Number.isInteger(value) || value < 1 || value > MAX_QTY) throw new InvalidOrder('quantity');
  return value;
}

function validate(event) {
  if (typeof event !== 'object' || event === null || typeof event.body !== 'string') {
    throw new InvalidOrder('event');
  }
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const order = JSON.parse(body);
  if (typeof order !== 'object' || order === null) throw new InvalidOrder('order');
  if (typeof order.order_id !== 'string' || !ID_RE.test(order.order_id)) throw new InvalidOrder('order_id');
  const quantity = count(order.quantity);
  if (!Array.isArray(order.items) || order.items.length < 1 || order.items.length > MAX_ITEMS) {
    throw new InvalidOrder('items');
  }
  let units = 0;
  for (const item of order.items) {
    if (typeof item !== 'object' || item === null || typeof item.sku !== 'string' || !ID_RE.test(item.sku)) {
      throw new InvalidOrder('item');
    }
    units += count(item.qty);
  }
  return { orderId: order.order_id, quantity, units };
}

exports.handler = async (event, context) => {
  let order;
  try {
    order = validate(event);
  } catch (e) {
    console.log('invalid order:', e.constructor.name);
    return {
      statusCode: 400,
      headers: JSON_HEADERS,
      body: JSON.stringify({ error: 'invalid order', request_id: context.awsRequestId }),
    };
  }
  console.log('order accepted; the database password is read from parameter',
    process.env.DB_PASSWORD_PARAM, 'when the order is written');
  return {
    statusCode: 200,
    headers: JSON_HEADERS,
    body: JSON.stringify({
      status: 'accepted', order_id: order.orderId.toUpperCase(), quantity: order.quantity, units: order.units,
    }),
  };
};
