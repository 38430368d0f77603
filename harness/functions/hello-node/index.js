// hello-node: the lab's sample Node.js function (CommonJS, handler `index.handler`).
//
// Shows warm-environment reuse: ENV_ID is drawn once per execution environment
// (when the module loads, i.e. cold start) and the invocation counter lives in
// module state, so a warm environment answers with the same env_id and a
// growing count. Same answer shape as hello-python.
'use strict';

const crypto = require('crypto');

const ENV_ID = crypto.randomBytes(8).toString('hex');
let count = 0;

exports.handler = async (event, context) => {
  count += 1;
  return {
    message: process.env.GREETING || 'hello',
    runtime: 'node',
    env_id: ENV_ID,
    invocation: count,
    cold: count === 1,
  };
};
