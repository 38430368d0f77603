/**
 * coldsec-lab's Node.js runtime: the contract of AWS Lambda's Node.js runtime.
 *
 * The lab starts `node /var/runtime/bootstrap.js` in every Node execution
 * environment. The official aws-lambda-ric does not run on this machine's
 * Node (see ../../../../shared/reference/lambda-wire.md, s. 4), so this file
 * re-implements its observable behaviour for Node >= 18, with no
 * dependencies:
 * - handler "file.export" (also "dir/file.a.b") resolved in LAMBDA_TASK_ROOT
 *   the way the RIC does: extensionless, .js (require, or import() when the
 *   nearest package.json says "type": "module"), .mjs (import()), .cjs, then
 *   Node's own resolution;
 * - async handlers, callback handlers (event, context, callback) and
 *   context.done/succeed/fail; callbackWaitsForEmptyEventLoop works as on AWS:
 *   when true (the default) a callback's result is posted only once the event
 *   loop is empty ('beforeExit'), when false at once; a handler that never
 *   answers is ended when the loop drains (sync: null result; async:
 *   Runtime.NodeJsExit error);
 * - console.* patched to `<ISO time>\t<requestId>\t<LEVEL>\t<message>`
 *   (AWS_LAMBDA_LOG_LEVEL honoured), written to stdout;
 * - errors posted as {errorType, errorMessage, trace}; init errors to
 *   /runtime/init/error (Runtime.ImportModuleError, Runtime.HandlerNotFound,
 *   Runtime.UserCodeSyntaxError, Runtime.MalformedHandlerName) then exit 129;
 *   an uncaught exception during an invocation is posted for it and the
 *   process exits 129, an unhandled rejection as
 *   Runtime.UnhandledPromiseRejection with exit 128.
 *
 * Before any result is posted the runtime waits until stdout and stderr have
 * handed everything to the pipe: Node writes pipes asynchronously once they
 * are full, and the lab closes an invocation's log when the result arrives.
 *
 * Coverage for `coldsec fuzz` (only when the lab sets COLDSEC_COVERAGE;
 * coverage.js): block counters in the code under the task root, added to
 * the function's shared counter file before each /response or /error.
 *
 * Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY > 1; see "Managed
 * Instances" below): worker threads, each with its own init, serving N
 * requests at once between them. AWS_LAMBDA_LOG_FORMAT=JSON makes console.*
 * write JSON lines (any concurrency). Without either, nothing here changes.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');
const { RuntimeApiConnection } = require('./runtime-api.js');

/* ------------------------------------------------------------------------ */
/* Errors, named and shaped as the RIC's Errors.js.                          */

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super('Error: Runtime exited without providing a reason');
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const E of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError,
  NodeJsExit, UnhandledPromiseRejection]) {
  E.prototype.name = `Runtime.${E.name}`;
}

function isErrorLike(obj) {
  return Boolean(obj && typeof obj.name === 'string' && typeof obj.message === 'string' &&
    typeof obj.stack === 'string' && obj.name && obj.message && obj.stack);
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** The body posted to /error and /init/error. */
function toRuntimeResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_e) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while ' +
        'retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(value) {
  if (value instanceof Error) {
    const ret = Object.assign(
      { errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') ret.stack = value.stack.split('\n');
    return ret;
  }
  return value;
}

/** The error as the RIC logs it: a tab, then JSON with type, message and stack. */
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_e) {
    return '\t' + JSON.stringify(toRuntimeResponse(error));
  }
}

/* ------------------------------------------------------------------------ */
/* Logging.                                                                  */

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const LOG_JSON = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

/** One JSON log line, the shape of AWS's JSON log format for Node
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html):
 * timestamp, level, requestId (left out outside any request: init), message
 * as util.format makes it; an Error among the arguments adds errorType,
 * errorMessage and stackTrace, as the RIC's logging/formatter.ts does. */
function formatJsonLine(level, requestId, message, params) {
  const record = { timestamp: new Date().toISOString(), level };
  if (requestId !== undefined && requestId !== null) record.requestId = requestId;
  record.message = util.format(message, ...params);
  const err = params.find((p) => p instanceof Error);
  if (err) {
    record.errorType = (err.constructor && err.constructor.name) || 'UnknownError';
    record.errorMessage = err.message;
    record.stackTrace = typeof err.stack === 'string' ? err.stack.split('\n') : [];
  }
  return `${JSON.stringify(record)}\n`;
}

/** console.* as the RIC patches it: text lines `<ISO>\t<requestId>\t<LEVEL>\t<message>`,
 * or JSON lines when AWS_LAMBDA_LOG_FORMAT=JSON. currentRequestId() names
 * the request whose code is logging: the global of the single-request loop,
 * or the AsyncLocalStorage store of a Managed Instances worker. */
function patchConsole(currentRequestId = () => global[REQUEST_ID]) {
  const levels = {
    TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6,
  };
  const wanted = levels[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || levels.TRACE;
  const nop = () => {};
  const make = (name) => {
    if (levels[name] < wanted) return nop;
    if (LOG_JSON) {
      return (message, ...params) => {
        process.stdout.write(formatJsonLine(name, currentRequestId(), message, params));
      };
    }
    return (message, ...params) => {
      const line = `${new Date().toISOString()}\t${currentRequestId()}\t${name}\t` +
        `${util.format(message, ...params)}\n`;
      process.stdout.write(line);
    };
  };
  console.trace = make('TRACE');
  console.debug = make('DEBUG');
  console.info = make('INFO');
  console.log = console.info;
  console.warn = make('WARN');
  console.error = make('ERROR');
  console.fatal = make('FATAL');
}

function logError(message, err) {
  // JSON lines carry the error as fields (formatJsonLine), text lines as a tab and JSON.
  if (LOG_JSON) console.error(message, intoError(err));
  else console.error(message, toFormatted(intoError(err)));
}

/** Resolves once stdout and stderr have written everything queued so far;
 * null when nothing is queued (the common case: no promise, no delay). */
function stdioDrained() {
  const waits = [];
  for (const stream of [process.stdout, process.stderr]) {
    if (stream && stream.writableLength > 0 && !stream.destroyed && !stream.writableEnded) {
      waits.push(new Promise((resolve) => stream.write('', () => resolve())));
    }
  }
  return waits.length ? Promise.all(waits) : null;
}

function afterStdio(fn) {
  const p = stdioDrained();
  if (p) p.then(fn);
  else fn();
}

function die(message) {
  process.stderr.write(`coldsec-node-runtime: ${message}\n`);
  afterStdio(() => process.exit(1));
}

/* ------------------------------------------------------------------------ */
/* Runtime API client: one keep-alive connection (runtime-api.js).          */

class RuntimeClient {
  constructor(hostPort) {
    const i = hostPort.lastIndexOf(':');
    let host = hostPort.slice(0, i);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    this.hostname = host || '127.0.0.1';
    this.port = parseInt(hostPort.slice(i + 1), 10);
    this.connection = new RuntimeApiConnection(this.hostname, this.port);
    this.coverage = null;
  }

  _request(method, urlPath, body, headers, onDone) {
    this.connection.request(method, urlPath, headers, body, onDone);
  }

  nextInvocation() {
    return new Promise((resolve, reject) => {
      this._request('GET', '/2018-06-01/runtime/invocation/next', undefined, undefined,
        (err, status, headers, body) => {
          if (err) return reject(err);
          if (status !== 200) {
            return reject(new Error(`Runtime API GET /next answered ${status}: ${body.toString().slice(0, 200)}`));
          }
          resolve({ bodyJson: body.toString('utf8'), headers });
        });
    });
  }

  _post(urlPath, bodyString, extraHeaders, callback) {
    const headers = Object.assign({
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(bodyString),
    }, extraHeaders);
    afterStdio(() => this._request('POST', urlPath, bodyString, headers, (err, status, _h, body) => {
      if (err) return die(`Runtime API POST ${urlPath} failed: ${err.message}`);
      if (status >= 500) return die(`Runtime API POST ${urlPath} answered ${status}`);
      if (status !== 202 && status !== 200) {
        process.stderr.write(`coldsec-node-runtime: Runtime API POST ${urlPath} answered ${status}: ` +
          `${body.toString().slice(0, 200)}\n`);
      }
      callback();
    }));
  }

  postInvocationResponse(response, id, callback) {
    let bodyString;
    try {
      bodyString = JSON.stringify(response === undefined ? null : response);
    } catch (_e) {
      throw new Error('Unable to stringify response body');
    }
    // After stringify: a toJSON of the function's is part of the invocation.
    if (this.coverage) this.coverage.flush();
    if (bodyString === undefined) bodyString = 'null'; // a function or symbol: JSON has no value for it
    this._post(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
      bodyString, undefined, callback);
  }

  postInvocationError(error, id, callback) {
    if (this.coverage) this.coverage.flush();
    this._post(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/error`,
      safeStringify(toRuntimeResponse(error)),
      { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' }, callback);
  }

  postInitError(error, callback) {
    const response = toRuntimeResponse(error);
    this._post('/2018-06-01/runtime/init/error', safeStringify(response),
      { 'Lambda-Runtime-Function-Error-Type': headerSafe(response.errorType) }, callback);
  }
}

function safeStringify(obj) {
  try {
    return JSON.stringify(obj);
  } catch (_e) {
    return JSON.stringify({ errorType: 'handled', errorMessage: 'error could not be serialized', trace: [] });
  }
}

function headerSafe(value) {
  return String(value).replace(/[^\x20-\x7e]/g, '?');
}

/* ------------------------------------------------------------------------ */
/* Handler loading, as the RIC's UserFunction.js.                            */

function hasPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, 'package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return hasPackageJsonTypeModule(path.resolve(folder, '..'));
}

function tryRequireFile(file, ext) {
  const p = file + (ext || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryImport(file, ext, beforeImport) {
  const p = file + (ext || '');
  if (!fs.existsSync(p)) return undefined;
  beforeImport();
  return import(pathToFileURL(p).href);
}

async function tryLoad(appRoot, moduleRoot, moduleName, beforeImport) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) return extensionless;
  const isModule = hasPackageJsonTypeModule(path.dirname(lambdaStylePath));
  if (!isModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }
  const loaded = (isModule && (await tryImport(lambdaStylePath, '.js', beforeImport))) ||
    (await tryImport(lambdaStylePath, '.mjs', beforeImport)) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) return loaded;
  // Node's own resolution (node_modules), relative to the task root, not to /var/runtime.
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

/** beforeImport() runs before the handler is imported as an ES module. */
async function loadHandler(appRoot, fullHandler, beforeImport) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(`'${fullHandler}' is not a valid handler name. ` +
      'Use absolute paths when specifying root directories in handler names.');
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;

  let app;
  try {
    app = await tryLoad(appRoot, moduleRoot, moduleName, beforeImport);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const fn = handlerPath.split('.').reduce((obj, key) => obj && obj[key], app);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

/* ------------------------------------------------------------------------ */
/* One listener for 'beforeExit' (the event loop is empty), swapped per      */
/* invocation, as the RIC's BeforeExitListener.js.                           */

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const NO_OP = () => {};
const beforeExit = {
  invoke: () => global[BEFORE_EXIT](),
  reset: () => { global[BEFORE_EXIT] = NO_OP; },
  set: (fn) => { global[BEFORE_EXIT] = fn; },
};

/* ------------------------------------------------------------------------ */
/* Context and callbacks.                                                    */

/** callback, context (succeed/fail/done, callbackWaitsForEmptyEventLoop) and
 * markCompleted for one invocation; only the first completion counts. */
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, cb) => {
    logError('Invoke Error', err);
    client.postInvocationError(err, id, cb);
  };
  let completed = false;
  const complete = (result, cb) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    completed = true;
    client.postInvocationResponse(result, id, cb);
  };
  let waitForEmptyEventLoop = true;

  const rawCallback = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      beforeExit.set(() => setImmediate(() => complete(result, scheduleNext)));
    }
  };
  const done = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => {
    if (err === undefined || err === null) done('handled');
    else done(err, null);
  };

  let finished = false;
  const once = (fn) => function onlyFirst(...args) {
    if (!finished) {
      fn(...args);
      finished = true;
    }
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
    set callbackWaitsForEmptyEventLoop(value) { waitForEmptyEventLoop = value; },
    succeed: once(succeed),
    fail: once(fail),
    done: once(done),
  };
  return [once(rawCallback), context, () => { completed = true; }];
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

/** shareEnv false (Managed Instances): several requests run at once in one
 * thread, so the trace id goes only on the context (xRayTraceId), not into
 * the process-wide _X_AMZN_TRACE_ID. */
function attachEnvironmentData(context, headers, shareEnv = true) {
  const trace = headers['lambda-runtime-trace-id'];
  if (!shareEnv) context.xRayTraceId = trace;
  else if (trace) process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;
  const env = process.env;
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return Object.assign(context, {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    getRemainingTimeInMillis() { return deadline - Date.now(); },
  });
}

/* ------------------------------------------------------------------------ */
/* The invoke loop.                                                          */

class Runtime {
  constructor(client, handler, isAsync, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.isAsync = isAsync;
    this.errorCallbacks = errorCallbacks;
    this.scheduleNext = () => this.scheduleIteration();
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(NO_OP, (err) => {
        die(`Runtime API failure: ${err && err.message}`);
      });
    });
  }

  async handleOnce() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeId = headers['lambda-runtime-aws-request-id'];
    if (!invokeId) throw new Error('invocation id is missing or invalid');
    if (this.client.coverage) this.client.coverage.begin();
    global[REQUEST_ID] = invokeId;
    const [callback, context, markCompleted] = buildCallbackContext(this.client, invokeId, this.scheduleNext);
    try {
      this.setErrorCallbacks(invokeId);
      this.setDefaultExitListener(invokeId, markCompleted);
      const result = this.handler(JSON.parse(bodyJson), attachEnvironmentData(context, headers), callback);
      if (result && typeof result.then === 'function') {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(128));
    };
  }

  /** The event loop drained while the handler had not answered. */
  setDefaultExitListener(invokeId, markCompleted) {
    beforeExit.set(() => {
      markCompleted();
      if (this.isAsync) {
        const error = new NodeJsExit();
        logError('Invoke Error', error);
        this.client.postInvocationError(error, invokeId, this.scheduleNext);
      } else {
        this.client.postInvocationResponse(null, invokeId, this.scheduleNext);
      }
    });
  }
}

async function main() {
  patchConsole();
  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', beforeExit.invoke);

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  // With its extension: ./coverage is the counter file itself (COLDSEC_COVERAGE).
  // eslint-disable-next-line global-require
  client.coverage = process.env.COLDSEC_COVERAGE ? require('./coverage.js').openCoverage(appRoot) : null;
  let handler;
  try {
    // ES module hooks only for an ES module handler: starting their thread costs
    // a CommonJS handler's environment ~100 ms of init for nothing.
    handler = await loadHandler(appRoot, process.env._HANDLER || '',
      client.coverage ? () => client.coverage.beforeImport() : NO_OP);
  } catch (error) {
    // As on AWS, where the loader's rejection surfaces as an uncaught exception.
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
    return;
  }
  if (client.coverage) client.coverage.reset();
  const isAsync = Boolean(handler.constructor && handler.constructor.name === 'AsyncFunction');
  new Runtime(client, handler, isAsync, errorCallbacks).scheduleIteration();
}

/* ------------------------------------------------------------------------ */
/* Managed Instances: several requests at once (AWS_LAMBDA_MAX_CONCURRENCY). */
/*
 * As AWS documents it
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-nodejs-runtime.html):
 * worker threads, each doing its own init (module-level state is per worker,
 * shared by every request of that worker), each serving several requests at
 * once through async/await; a synchronous handler serves one at a time per
 * worker. AWS's own RIC (github.com/aws/aws-lambda-nodejs-runtime-interface-client,
 * src/runtime/runtime.ts processMultiConcurrent, src/utils/worker.ts
 * getWorkerCount) runs one /next loop per worker that hands each request on
 * with setImmediate and keeps request state in an AsyncLocalStorage
 * (@aws/lambda-invoke-store). Here each worker runs its share of the N slots
 * as separate loops, each loop one request at a time on its own Runtime API
 * connection: at most N requests are out at once, as the Runtime API allows
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
 *
 * Worker count: AWS_LAMBDA_NODEJS_WORKER_COUNT when it is a positive
 * integer, else min(available parallelism, N); never more than N (a worker
 * with no slot would only init). AWS's RIC defaults to 8 per CPU; the
 * documentation says one per vCPU, which is what this follows.
 *
 * Coverage (COLDSEC_COVERAGE) is not supported here: its counters are per
 * invocation and a worker runs several at once. The runtime says so on
 * stderr and runs without it.
 */

const MI_WORKER = 'coldsec-mi-worker';

function parsePositiveInt(value) {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return 0;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function miWorkerCount(maxConcurrency) {
  const os = require('os'); // eslint-disable-line global-require
  const raw = process.env.AWS_LAMBDA_NODEJS_WORKER_COUNT;
  const asked = parsePositiveInt(raw);
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const w = Math.min(asked || Math.max(cpus, 1), maxConcurrency);
  if (raw !== undefined && raw !== '' && asked !== w) {
    process.stderr.write(`coldsec-node-runtime: AWS_LAMBDA_NODEJS_WORKER_COUNT=${JSON.stringify(raw)} ` +
      `${asked ? `is more than AWS_LAMBDA_MAX_CONCURRENCY=${maxConcurrency}` : 'is not a positive integer'}: ` +
      `${w} workers\n`);
  }
  return w;
}

const stdioSleep = new Int32Array(new SharedArrayBuffer(4));

/** A whole buffer to fd, from any thread: a worker's process.stdout is
 * otherwise a message port to the main thread, so its lines could reach the
 * pipe after the request's /response, out of the lab's log for it. stdout
 * may be non-blocking (shared with the main thread's libuv): wait 1 ms on
 * EAGAIN. A line up to PIPE_BUF (4 KB) is one atomic write; longer ones may
 * interleave with other threads' lines. */
function writeAllSync(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') return; // EPIPE and the like: nowhere to write
      Atomics.wait(stdioSleep, 0, 0, 1);
    }
  }
}

function writeStreamSync(stream, fd) {
  // eslint-disable-next-line no-param-reassign
  stream.write = function write(chunk, encoding, cb) {
    let done = cb;
    let enc = encoding;
    if (typeof enc === 'function') {
      done = enc;
      enc = undefined;
    }
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, enc || 'utf8') : Buffer.from(chunk);
    writeAllSync(fd, buf);
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}

/** The main thread: starts the workers, posts the init error a worker hands
 * it (at most one: see the gate in miWorkerMain), then exits 129 as the
 * classic runtime does, and exits when no worker is left (a worker that
 * crashed is gone, the others go on, as AWS documents for a crashed runtime
 * worker). */
function miMain(maxConcurrency) {
  const { Worker } = require('worker_threads'); // eslint-disable-line global-require
  patchConsole(() => undefined);
  const workers = miWorkerCount(maxConcurrency);
  if (process.env.COLDSEC_COVERAGE) {
    process.stderr.write('coldsec-node-runtime: coverage off: not supported with AWS_LAMBDA_MAX_CONCURRENCY > 1\n');
  }
  const client = new RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001');
  let alive = 0;
  let initFailed = false;
  // One int shared by all workers: 0 until a worker reaches /next or takes
  // the right to report an init error (Atomics.compareExchange: one wins).
  const gate = new SharedArrayBuffer(4);
  let lastCode = 0;
  for (let i = 0; i < workers; i++) {
    // Slots shared out so they add up to N exactly: the first N % W workers take one more.
    const slots = Math.floor(maxConcurrency / workers) + (i < maxConcurrency % workers ? 1 : 0);
    const worker = new Worker(__filename, {
      argv: process.argv.slice(2),
      workerData: { kind: MI_WORKER, index: i, slots, gate },
    });
    alive++;
    worker.on('message', (msg) => {
      if (!msg || typeof msg !== 'object') return;
      if (msg.t === 'initError' && !initFailed) {
        initFailed = true;
        const body = safeStringify(msg.response);
        afterStdio(() => client._request('POST', '/2018-06-01/runtime/init/error', body, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'Lambda-Runtime-Function-Error-Type': headerSafe(msg.response.errorType),
        }, () => process.exit(129)));
      }
    });
    worker.on('error', (err) => {
      process.stderr.write(`coldsec-node-runtime: worker ${i} failed: ${err && err.stack}\n`);
    });
    worker.on('exit', (code) => {
      lastCode = code;
      alive--;
      if (alive === 0 && !initFailed) afterStdio(() => process.exit(lastCode || 1));
    });
  }
}

/** One request on a worker: resolves once its /response or /error is posted. */
function miInvoke(client, handler, bodyJson, headers, id) {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (err, result) => {
      if (finished) {
        console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      finished = true;
      if (err !== undefined && err !== null) {
        logError('Invoke Error', err);
        client.postInvocationError(err, id, resolve);
        return;
      }
      try {
        client.postInvocationResponse(result, id, resolve);
      } catch (e) {
        logError('Invoke Error', e);
        client.postInvocationError(e, id, resolve);
      }
    };
    const fail = (err) => finish(err === undefined || err === null ? 'handled' : err);
    const callback = (err, result) => {
      if (err !== undefined && err !== null) finish(err);
      else finish(null, result);
    };
    // callbackWaitsForEmptyEventLoop has no meaning here: the loop is never
    // empty while other requests are waiting, so a callback answers at once.
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      succeed: (result) => finish(null, result),
      fail,
      done: callback,
    };
    let result;
    try {
      result = handler(JSON.parse(bodyJson), attachEnvironmentData(context, headers, false), callback);
    } catch (err) {
      finish(err);
      return;
    }
    if (result && typeof result.then === 'function') {
      result.then((value) => finish(null, value), fail);
    } else if (handler.length < 3) {
      // No callback to wait for and no empty event loop to wait on: the
      // value returned is the result (AWS's RIC buffered-invoke-processor.ts
      // awaits the handler's return value the same way).
      finish(null, result);
    }
  });
}

/** A worker thread: its own init, then `slots` loops of /next -> handler -> post. */
async function miWorkerMain({ slots, gate }) {
  const { parentPort } = require('worker_threads'); // eslint-disable-line global-require
  const { AsyncLocalStorage } = require('async_hooks'); // eslint-disable-line global-require
  writeStreamSync(process.stdout, 1);
  writeStreamSync(process.stderr, 2);
  const store = new AsyncLocalStorage();
  patchConsole(() => {
    const s = store.getStore();
    return s ? s.requestId : undefined;
  });
  const hostPort = process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
  const inFlight = new Map(); // request id -> the loop's client
  let initDone = false;
  // Init is done for the environment once any worker reaches /next (AWS's
  // wording); an init error after that, or after another worker's, is this
  // worker's crash only.
  const claimGate = () => Atomics.compareExchange(new Int32Array(gate), 0, 0, 1) === 0;
  const reportInitError = (error) => {
    if (claimGate()) parentPort.postMessage({ t: 'initError', response: toRuntimeResponse(error) });
    else afterStdio(() => process.exit(129));
  };
  // The worker is lost with all its requests: each gets the error, then the
  // thread ends (the environment goes on with the other workers).
  const crash = (error, code) => {
    const pending = [...inFlight.entries()];
    inFlight.clear();
    if (pending.length === 0) {
      afterStdio(() => process.exit(code));
      return;
    }
    let left = pending.length;
    for (const [id, c] of pending) {
      c.postInvocationError(error, id, () => {
        left--;
        if (left === 0) process.exit(code);
      });
    }
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    if (!initDone) reportInitError(error);
    else crash(error, 129);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    if (!initDone) reportInitError(error);
    else crash(error, 128);
  });

  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(appRoot, process.env._HANDLER || '', NO_OP);
  } catch (error) {
    logError('Uncaught Exception', error);
    reportInitError(error);
    return;
  }
  initDone = true;
  claimGate();

  const loop = async () => {
    const client = new RuntimeClient(hostPort);
    for (;;) {
      const { bodyJson, headers } = await client.nextInvocation();
      const id = headers['lambda-runtime-aws-request-id'];
      if (!id) throw new Error('invocation id is missing or invalid');
      inFlight.set(id, client);
      await store.run({ requestId: id }, () => miInvoke(client, handler, bodyJson, headers, id));
      inFlight.delete(id);
    }
  };
  for (let i = 0; i < slots; i++) {
    loop().catch((err) => die(`Runtime API failure: ${err && err.message}`));
  }
}

function start() {
  const { isMainThread, workerData } = require('worker_threads'); // eslint-disable-line global-require
  if (!isMainThread && workerData && workerData.kind === MI_WORKER) {
    miWorkerMain(workerData);
    return;
  }
  const maxConcurrency = parsePositiveInt(process.env.AWS_LAMBDA_MAX_CONCURRENCY);
  if (maxConcurrency > 1) miMain(maxConcurrency);
  else main();
}

start();
