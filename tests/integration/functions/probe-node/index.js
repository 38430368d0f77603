// probe-node: the integration tests' harmless Node.js probe (CommonJS).
//
// Handlers: `index.handler` (async) and `index.callback` (callback style).
// Every answer carries env_id (drawn at load: one per environment), count
// (module state) and request_id (context.awsRequestId). Actions, named by
// event.action: info (default), env {names}, context, tmp_write {name, data},
// tmp_read {name}, raise {message}, exit {code}, heap (V8's limit and
// node's flags), garbage {mb} (allocates mb MB and drops it), retain {mb}
// (allocates mb MB and keeps it in module state).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const v8 = require('v8');

const ENV_ID = crypto.randomBytes(16).toString('hex');
let count = 0;
const retained = [];

// Flat, distinct one-MB strings on V8's heap (padEnd would build ropes that
// share their filler, Buffers live outside the heap).
function megabytes(mb) {
  const out = [];
  for (let i = 0; i < mb; i++) out.push(crypto.randomBytes(1 << 19).toString('hex'));
  return out;
}

console.log(`PROBE-NODE-INIT env=${ENV_ID}`);

class ProbeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProbeError';
  }
}

function act(event, context) {
  const action = (event && event.action) || 'info';
  switch (action) {
    case 'info':
      return {};
    case 'env': {
      const env = {};
      for (const n of event.names || []) env[n] = process.env[n] === undefined ? null : process.env[n];
      return { env, cwd: process.cwd() };
    }
    case 'context':
      return {
        function_name: context.functionName,
        function_version: context.functionVersion,
        invoked_function_arn: context.invokedFunctionArn,
        memory_limit_in_mb: String(context.memoryLimitInMB),
        log_group_name: context.logGroupName,
        log_stream_name: context.logStreamName,
        remaining_ms: context.getRemainingTimeInMillis(),
      };
    case 'tmp_write':
      fs.writeFileSync(`/tmp/${event.name}`, event.data);
      return { written: true };
    case 'tmp_read':
      try {
        return { data: fs.readFileSync(`/tmp/${event.name}`, 'utf8') };
      } catch (e) {
        if (e.code === 'ENOENT') return { data: null };
        throw e;
      }
    case 'heap':
      return { heap_size_limit: v8.getHeapStatistics().heap_size_limit, exec_argv: process.execArgv };
    case 'garbage':
      return { allocated_mb: megabytes(event.mb).length };
    case 'retain':
      retained.push(...megabytes(event.mb));
      return { retained_mb: retained.length };
    case 'raise':
      throw new ProbeError(event.message || 'probe failure');
    case 'exit':
      process.exit(event.code);
      return {};
    default:
      throw new Error(`unknown action ${action}`);
  }
}

function answer(event, context) {
  count += 1;
  return Object.assign({ env_id: ENV_ID, count, request_id: context.awsRequestId }, act(event, context));
}

exports.handler = async (event, context) => answer(event, context);

exports.callback = (event, context, callback) => {
  let result;
  try {
    result = answer(event, context);
  } catch (e) {
    callback(e);
    return;
  }
  setImmediate(() => callback(null, Object.assign(result, { style: 'callback' })));
};
