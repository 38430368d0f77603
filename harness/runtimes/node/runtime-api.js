/**
 * coldsec-lab's Node.js runtime: the HTTP/1.1 connection to the Runtime API,
 * on a plain TCP socket.
 *
 * The Runtime API is one local server answering one request at a time
 * (GET /next, then POST /response or /error), so node:http's client (an
 * agent, a ClientRequest, an IncomingMessage stream, header objects and a
 * writev per request) is more than it needs and most of the runtime's own
 * CPU per invocation: under `coldsec fuzz` it was about a third of the Node
 * process's time. Here a request is one write of one string and the answer is
 * read from the socket's buffers: status line, headers (names lower-cased,
 * repeats joined with ", " as node:http does), a body by Content-Length or
 * chunked, keep-alive unless the server says close.
 *
 * While no request is out, the socket is unref'd (see onData).
 *
 * One request at a time, by contract: request() must not be called again
 * before its onDone ran. A request on a reused connection that fails before
 * any byte of the answer (the server closed the idle connection) is sent
 * once more on a new one; any other failure goes to onDone.
 */
'use strict';

const net = require('net');

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');

class RuntimeApiConnection {
  constructor(hostname, port) {
    this.hostname = hostname;
    this.port = port;
    this.hostHeader = `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
    this.socket = null;
    this.reused = false;
    this.pending = null; // { text, onDone, retried }
    this.chunks = [];
    this.received = 0;
  }

  /**
   * Sends one request; onDone(err, status, headers, body Buffer) once, with
   * the whole answer. headers: an object of header names to string values.
   */
  request(method, urlPath, headers, body, onDone) {
    let text = `${method} ${urlPath} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    if (headers) {
      for (const name of Object.keys(headers)) text += `${name}: ${headers[name]}\r\n`;
    }
    text += body === undefined ? '\r\n' : `\r\n${body}`;
    this.pending = { text, onDone, retried: false };
    this.send();
  }

  send() {
    if (!this.socket) this.connect();
    else this.reused = true;
    this.socket.ref();
    this.chunks = [];
    this.received = 0;
    this.socket.write(this.pending.text, 'utf8');
  }

  connect() {
    const socket = net.connect({ host: this.hostname, port: this.port, noDelay: true });
    this.socket = socket;
    this.reused = false;
    socket.on('data', (chunk) => {
      if (socket === this.socket) this.onData(chunk);
    });
    const lost = (err) => {
      if (socket !== this.socket) return;
      this.socket = null;
      socket.destroy();
      this.onLost(err || new Error('socket hang up'));
    };
    socket.on('error', lost);
    socket.on('close', () => lost(null));
    socket.on('end', () => lost(null));
  }

  onLost(err) {
    const p = this.pending;
    if (!p) return;
    if (this.reused && this.received === 0 && !p.retried) {
      p.retried = true;
      this.send();
      return;
    }
    this.pending = null;
    p.onDone(err);
  }

  onData(chunk) {
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (!this.pending) return; // nothing asked: a server's stray bytes, dropped with the next request
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [buf];
    const answer = parseAnswer(buf);
    if (answer === null) return; // not all there yet
    const p = this.pending;
    this.pending = null;
    this.chunks = [];
    this.received = 0;
    // An idle connection keeps nothing alive (as node:http's keep-alive agent
    // unrefs its free sockets): the handler's event loop must be able to
    // drain, or 'beforeExit' (callbackWaitsForEmptyEventLoop) never comes.
    if (this.socket) this.socket.unref();
    if (answer instanceof Error || answer.close) {
      const socket = this.socket;
      this.socket = null;
      if (socket) socket.destroy();
    }
    if (answer instanceof Error) p.onDone(answer);
    else p.onDone(null, answer.status, answer.headers, answer.body);
  }
}

/** The answer in buf, null when incomplete, or an Error when malformed. */
function parseAnswer(buf) {
  const end = buf.indexOf(CRLF2);
  if (end < 0) return null;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return new Error(`Runtime API: malformed status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const headers = {};
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon).trim().toLowerCase();
    const value = lines[i].slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(m[1]);
  const close = /(^|,)\s*close\s*(,|$)/i.test(headers.connection || '') || lines[0].startsWith('HTTP/1.0');
  const start = end + 4;
  let body;
  if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    body = parseChunked(buf, start);
    if (body === null || body instanceof Error) return body;
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (!Number.isSafeInteger(n) || n < 0) return new Error('Runtime API: bad Content-Length');
    if (buf.length < start + n) return null;
    body = buf.subarray(start, start + n);
  } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    body = Buffer.alloc(0);
  } else {
    return new Error('Runtime API: an answer with neither Content-Length nor chunked body');
  }
  return { status, headers, body, close };
}

function parseChunked(buf, start) {
  const parts = [];
  let at = start;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return null;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (!Number.isSafeInteger(size) || size < 0) return new Error('Runtime API: bad chunk size');
    if (size === 0) {
      // Trailers, if any, end with an empty line.
      const fin = buf.indexOf(CRLF2, eol, 'latin1');
      if (buf.length >= eol + 4 && buf[eol + 2] === 13 && buf[eol + 3] === 10) return Buffer.concat(parts);
      return fin < 0 ? null : Buffer.concat(parts);
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

module.exports = { RuntimeApiConnection, parseAnswer };
