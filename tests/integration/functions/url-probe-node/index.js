// url-probe-node: echoes the function URL event it got, or answers as the
// request's JSON body tells it (tests/integration/test_lab_function_url.py).
//
// The body (a JSON object; base64 bodies are decoded first) picks the answer:
//   {}                     {event, env_id, count, request_id}
//   {"respond": R}         R itself (a statusCode response, a string, ...)
//   {"raise": "message"}   throws ProbeError(message)
//   {"sleep": seconds}     waits, then echoes
// env_id is drawn at load (one per execution environment), count is module state.
'use strict';

const crypto = require('crypto');

const ENV_ID = crypto.randomBytes(16).toString('hex');
let count = 0;

class ProbeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProbeError';
  }
}

function instructions(event) {
  let body = event && event.body;
  if (!body) return {};
  if (event.isBase64Encoded) body = Buffer.from(body, 'base64').toString('utf8');
  try {
    const doc = JSON.parse(body);
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? doc : {};
  } catch (e) {
    return {};
  }
}

exports.handler = async (event, context) => {
  count += 1;
  const todo = instructions(event);
  if ('raise' in todo) throw new ProbeError(todo.raise);
  if ('sleep' in todo) await new Promise((resolve) => setTimeout(resolve, todo.sleep * 1000));
  if ('respond' in todo) return todo.respond;
  return { event, env_id: ENV_ID, count, request_id: context.awsRequestId };
};
