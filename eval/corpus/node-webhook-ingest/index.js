'use strict';
// webhook-ingest: accepts partner webhooks, validates them and queues the work.

const crypto = require('crypto');
const audit = require('./audit');

const KNOWN_TOPICS = new Set(['shipment.updated', 'invoice.paid', 'invoice.failed', 'customer.updated']);

function readBody(event) {
  if (typeof event.body !== 'string') return { raw: JSON.stringify(event), json: event };
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return { raw, json: JSON.parse(raw) };
}

exports.handler = async (event, context) => {
  let body;
  try {
    body = readBody(event);
  } catch (err) {
    return { statusCode: 400, body: JSON.stringify({ accepted: false, reason: 'malformed JSON' }) };
  }

  const { json, raw } = body;
  const topic = json.topic;
  const deliveryId = json.deliveryId || crypto.randomUUID();
  const accepted = KNOWN_TOPICS.has(topic);

  const buffered = audit.record({
    at: new Date().toISOString(),
    requestId: context.awsRequestId,
    deliveryId,
    partner: json.partnerId,
    topic,
    accepted,
    payload: raw,
  });

  // Real code: sqs.sendMessage to the per-topic work queue.
  return {
    statusCode: accepted ? 202 : 422,
    body: JSON.stringify({ accepted, deliveryId, topic, auditBuffered: buffered }),
  };
};
