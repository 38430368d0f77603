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

function patchConsole() {
  const levels = {
    TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6,
  };
  const wanted = levels[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || levels.TRACE;
  const nop = () => {};
  const make = (name) => {
    if (levels[name] < wanted) return nop;
    return (message, ...params) => {
      const line = `${new Date().toISOString()}\t${global[REQUEST_ID]}\t${name}\t` +
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
  console.error(message, toFormatted(intoError(err)));
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

function attachEnvironmentData(context, headers) {
  const trace = headers['lambda-runtime-trace-id'];
  if (trace) process.env._X_AMZN_TRACE_ID = trace;
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

main();
