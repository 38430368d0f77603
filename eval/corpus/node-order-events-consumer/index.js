'use strict';
// order-events-consumer: SQS consumer that turns order events into customer notifications.

const TEMPLATES = {
  ORDER_PLACED: (e) => `Thanks ${e.customerName || ''}, we received order ${e.orderId}.`,
  ORDER_SHIPPED: (e) => `Order ${e.orderId} is on its way (${e.carrier || 'DHL'}).`,
  ORDER_DELIVERED: (e) => `Order ${e.orderId} was delivered.`,
};

// The producer occasionally publishes the same event twice in a row (retry
// after a timeout), so remember what we handled last and skip exact repeats.
let lastHandled = null;

function sameEvent(a, b) {
  return Boolean(a && b && a.orderId === b.orderId && a.type === b.type && a.customerId === b.customerId);
}

function notify(evt) {
  const render = TEMPLATES[evt.type];
  if (!render) throw new Error(`unsupported event type ${evt.type}`);
  // Real code: ses.sendEmail / sns.publish to the customer's channel.
  return { channel: evt.channel || 'email', to: evt.customerId, text: render(evt) };
}

exports.handler = async (event) => {
  const batchItemFailures = [];
  const results = [];

  for (const record of event.Records || []) {
    let evt;
    try {
      evt = JSON.parse(record.body);
    } catch (err) {
      console.warn('dropping unparsable message', record.messageId);
      continue;
    }

    const previous = lastHandled;
    if (sameEvent(previous, evt)) {
      results.push({ messageId: record.messageId, orderId: evt.orderId, status: 'duplicate' });
      continue;
    }

    try {
      const sent = notify(evt);
      results.push({
        messageId: record.messageId,
        orderId: evt.orderId,
        status: 'notified',
        notification: sent,
        previous: previous && { orderId: previous.orderId, customerId: previous.customerId, type: previous.type },
      });
      lastHandled = { orderId: evt.orderId, customerId: evt.customerId, type: evt.type };
    } catch (err) {
      console.error('notification failed', record.messageId, err.name);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }

  return { batchItemFailures, results };
};
