'use strict';
// The client: connection set-up (TCP, TLS, unix socket), authentication, pipelined requests
// with a bounded number in flight, batches, and reconnection with backoff.

const fs = require('node:fs');
const net = require('node:net');
const tls = require('node:tls');
const { iterBatches } = require('./batches');
const { Connection, NotSent } = require('./connection');
const { CLOSED, NOT_CONNECTED, RequestTimeoutError, StopgateConnectionError } = require('./errors');
const { Slots } = require('./slots');
const { RequestLine, cleanFields, errorOf } = require('./wire');

/**
 * Whether repeating a request after a lost connection cannot act twice: reads, an
 * uncommitted check, and a send carrying an idempotency key (the gateway answers a repeat
 * with the first outcome).
 */
function retryIsSafe(op, fields) {
  if (op === 'ping' || op === 'lookup' || op === 'stats') return true;
  if (op === 'check') return !fields.commit;
  if (op === 'send') return Boolean(fields.idempotency_key);
  return false;
}

function notConnected(message) {
  return new StopgateConnectionError(NOT_CONNECTED, message);
}

/**
 * A connection to a stopgate gateway's socket API.
 *
 * Every op returns a Promise of the op's answer (the answer object without `id` and `ok`) or
 * rejects with a StopgateError carrying the gateway's `code` and `message`. Calls may be
 * issued concurrently: they are pipelined on one connection and matched to their answers by
 * a client-generated `id`. At most `maxInFlight` requests are outstanding; further calls
 * wait for a slot, so memory stays bounded however many calls are made.
 *
 * Options: `host` ('127.0.0.1'), `port` (7600), `path` (a unix socket instead), `tls` (true
 * or tls.connect options), `ca` / `caFile` (the CA that signed the gateway's certificate;
 * implies TLS), `rejectUnauthorized` (true: verify the certificate and host name),
 * `servername`, `key` (API key, sent as `auth` on every connect), `maxInFlight` (256),
 * `maxBatch` (10000), `maxLineBytes` (262144), `reconnect` (true), `retries` (2),
 * `backoffInitialMs` (50), `backoffMaxMs` (5000), `maxReconnectAttempts` (null: forever),
 * `connectTimeoutMs` (10000), `requestTimeoutMs` (null: none), `maxResponseBytes` (64 MiB).
 */
class Client {
  constructor(options = {}) {
    const o = {
      host: '127.0.0.1',
      port: 7600,
      path: null,
      tls: false,
      ca: null,
      caFile: null,
      rejectUnauthorized: true,
      servername: null,
      key: null,
      maxInFlight: 256,
      maxBatch: 10000,
      maxLineBytes: 262144,
      reconnect: true,
      retries: 2,
      backoffInitialMs: 50,
      backoffMaxMs: 5000,
      maxReconnectAttempts: null,
      connectTimeoutMs: 10000,
      requestTimeoutMs: null,
      maxResponseBytes: 64 * 1024 * 1024,
      ...options,
    };
    if (!(o.maxInFlight >= 1) || !(o.maxBatch >= 1)) {
      throw new RangeError('maxInFlight and maxBatch must be at least 1');
    }
    this.options = o;
    this.maxBatch = o.maxBatch;
    this._key = o.key;
    this._tls = this._tlsOptions(o);
    this._slots = new Slots(o.maxInFlight);
    this._nextId = 1;
    this._conn = null;
    this._connWait = null; // { promise, resolve }: the next live connection (or null when none will come)
    this._down = null; // set when no connection will come again
    this._closed = false;
    this._reconnectTimer = null;
    /** Connections opened after the first. */
    this.reconnects = 0;
  }

  _tlsOptions(o) {
    if (!o.tls && o.ca == null && o.caFile == null) return null;
    const t = typeof o.tls === 'object' && o.tls !== null ? { ...o.tls } : {};
    if (o.ca != null) t.ca = o.ca;
    if (o.caFile != null) t.ca = fs.readFileSync(o.caFile);
    t.rejectUnauthorized = o.rejectUnauthorized;
    if (o.servername) t.servername = o.servername;
    else if (!t.servername && net.isIP(o.host) === 0) t.servername = o.host;
    t.minVersion = t.minVersion || 'TLSv1.2';
    return t;
  }

  // ------------------------------------------------------------------ connection life

  /**
   * Opens the connection (and authenticates when a key is set). Rejects with a
   * StopgateConnectionError (`not_connected`) when the gateway cannot be reached, or with
   * the `auth` error (`unauthenticated`).
   */
  async connect() {
    if (this._connWait) throw new Error('connect() was already called');
    this._connWait = this._newWait();
    let conn;
    try {
      conn = await this._open();
    } catch (e) {
      this._connWait = null; // connect() may be called again
      throw e;
    }
    if (this._closed) {
      conn.close(new StopgateConnectionError(CLOSED, 'the client was closed'));
      throw new StopgateConnectionError(CLOSED, 'the client was closed while connecting');
    }
    this._install(conn);
    return this;
  }

  /** Closes the connection; outstanding and waiting calls reject with `closed`. */
  async close() {
    if (this._closed) return;
    this._closed = true;
    this._down = new StopgateConnectionError(CLOSED, 'the client was closed');
    if (this._reconnectTimer) clearTimeout(this._reconnectTimer);
    if (this._conn) this._conn.close(new StopgateConnectionError(CLOSED, 'the client was closed'));
    this._wakeWaiters();
  }

  /** Whether a connection is open now (false while reconnecting). */
  get connected() {
    return this._conn !== null && !this._conn.isClosed;
  }

  /** Requests holding an in-flight slot (sent and not yet answered, or about to be sent). */
  get inFlight() {
    return this._slots.taken;
  }

  /** Request bytes written but not yet taken by the socket. */
  get writeBufferSize() {
    return this._conn ? this._conn.writeBufferSize : 0;
  }

  _newWait() {
    let resolve;
    const promise = new Promise((r) => {
      resolve = r;
    });
    return { promise, resolve, done: false };
  }

  _where() {
    return this.options.path || `${this.options.host}:${this.options.port}`;
  }

  /** One connection attempt: connect, TLS handshake, auth. */
  async _open() {
    const o = this.options;
    let socket;
    let timer;
    try {
      socket = await new Promise((resolve, reject) => {
        const target = o.path ? { path: o.path } : { host: o.host, port: o.port };
        const s = this._tls ? tls.connect({ ...target, ...this._tls }) : net.connect(target);
        timer = setTimeout(() => {
          s.destroy();
          reject(notConnected(`no connection to ${this._where()} within ${o.connectTimeoutMs} ms`));
        }, o.connectTimeoutMs);
        const fail = (e) => {
          s.destroy();
          reject(notConnected(`cannot connect to ${this._where()}: ${e.message}`));
        };
        s.once('error', fail);
        s.once(this._tls ? 'secureConnect' : 'connect', () => {
          s.removeListener('error', fail);
          if (!o.path) s.setNoDelay(true);
          resolve(s);
        });
      });
      const conn = new Connection(socket, {
        onClosed: (c) => this._onConnClosed(c),
        maxResponseBytes: o.maxResponseBytes,
      });
      if (this._key != null) {
        let msg;
        try {
          msg = await this._callOn(conn, 'auth', { key: this._key }, o.connectTimeoutMs);
        } catch (e) {
          conn.close(notConnected('authentication failed'));
          throw e instanceof StopgateConnectionError ? notConnected(`${this._where()}: ${e.reason}`) : e;
        }
        if (msg.ok !== true) {
          conn.close(notConnected('authentication failed'));
          throw errorOf('auth', msg);
        }
      }
      return conn;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request on a given connection outside the in-flight slots (used for `auth`). */
  _callOn(conn, op, fields, timeoutMs) {
    const id = this._nextId++;
    const line = new RequestLine(op, fields, this.options.maxLineBytes).withId(id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(notConnected(`no answer to ${op} within ${timeoutMs} ms`)), timeoutMs);
      const settle = () => clearTimeout(timer);
      try {
        conn.submit(id, line, { resolve, reject, settle });
      } catch (e) {
        settle();
        reject(e instanceof NotSent ? notConnected('the connection closed during set-up') : e);
      }
    });
  }

  _install(conn) {
    this._conn = conn;
    if (this._connWait.done) this._connWait = this._newWait();
    this._connWait.done = true;
    this._connWait.resolve(conn);
  }

  _onConnClosed(conn) {
    // Called synchronously as the connection closes: from now on callers wait for the next
    // connection (or learn that none will come).
    if (conn !== this._conn) return;
    this._conn = null;
    this._connWait = this._newWait();
    if (this._closed) {
      this._wakeWaiters();
    } else if (!this.options.reconnect) {
      this._down = notConnected('the connection was lost and reconnect is off');
      this._wakeWaiters();
    } else {
      this._reconnect(0, this.options.backoffInitialMs);
    }
  }

  _wakeWaiters() {
    if (this._connWait && !this._connWait.done) {
      this._connWait.done = true;
      this._connWait.resolve(null);
    }
  }

  _reconnect(failures, delay) {
    this._reconnectTimer = null;
    if (this._closed) return;
    this._open().then(
      (conn) => {
        if (this._closed) {
          conn.close(new StopgateConnectionError(CLOSED, 'the client was closed'));
          return;
        }
        this.reconnects++;
        this._install(conn);
      },
      (e) => {
        if (this._closed) return;
        if (!(e instanceof StopgateConnectionError)) {
          this._down = e; // auth refused: retrying cannot help
          this._wakeWaiters();
          return;
        }
        const max = this.options.maxReconnectAttempts;
        if (max != null && failures + 1 >= max) {
          this._down = notConnected(`gave up after ${failures + 1} reconnect attempts`);
          this._wakeWaiters();
          return;
        }
        // Jitter keeps many clients of a restarted gateway from returning at once.
        const wait = delay / 2 + (Math.random() * delay) / 2;
        this._reconnectTimer = setTimeout(
          () => this._reconnect(failures + 1, Math.min(delay * 2, this.options.backoffMaxMs)),
          wait,
        );
      },
    );
  }

  /** The live connection, waiting while a reconnect is under way. */
  async _connection() {
    for (;;) {
      if (this._down) throw this._down;
      if (!this._connWait) throw notConnected('connect() has not been called');
      const conn = await this._connWait.promise;
      if (conn && !conn.isClosed) return conn;
    }
  }

  // ------------------------------------------------------------------ requests

  /**
   * Sends any op with the given fields (undefined and null fields are left out) and resolves
   * with the answer without `id` and `ok`. Rejects with a StopgateError carrying the
   * gateway's code on an error answer. `timeoutMs` overrides `requestTimeoutMs`.
   */
  async request(op, fields = {}, { timeoutMs } = {}) {
    const body = cleanFields(fields);
    const t = timeoutMs === undefined ? this.options.requestTimeoutMs : timeoutMs;
    if (t == null) return this._call(op, body);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(`no answer within ${t} ms`, { op })), t);
    });
    try {
      return await Promise.race([this._call(op, body), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async _call(op, body) {
    const line = new RequestLine(op, body, this.options.maxLineBytes); // refuses an unsendable request before any wait
    const safe = retryIsSafe(op, body);
    let retries = 0;
    for (;;) {
      // The slot is released when the answer arrives or the connection ends, not when this
      // call returns: a call given up on (timeout) still holds its slot until the gateway is
      // done with it.
      await this._slots.acquire();
      let answer;
      let conn;
      try {
        conn = await this._connection();
        const id = this._nextId++;
        let resolve;
        let reject;
        answer = new Promise((res, rej) => {
          resolve = res;
          reject = rej;
        });
        answer.catch(() => {}); // it may fail while drain() is awaited; it is awaited below
        conn.submit(id, line.withId(id), { resolve, reject, settle: () => this._slots.release() });
      } catch (e) {
        this._slots.release();
        if (e instanceof NotSent) continue; // never written: safe to send again whatever the op
        throw e;
      }
      await conn.drain();
      let msg;
      try {
        msg = await answer;
      } catch (e) {
        if (e instanceof StopgateConnectionError) {
          if (e.code !== CLOSED && safe && this.options.reconnect && retries < this.options.retries) {
            retries++;
            continue;
          }
          throw new StopgateConnectionError(e.code, e.reason, { op });
        }
        throw e;
      }
      if (msg.ok === true) {
        const { id: _id, ok: _ok, ...rest } = msg;
        return rest;
      }
      throw errorOf(op, msg);
    }
  }

  // ------------------------------------------------------------------ ops

  /**
   * Authenticates with an API key -> `{key, roles}`. The key is kept and sent again on every
   * reconnect. A wrong key rejects with `unauthenticated` and the gateway closes the
   * connection (the client then reconnects with its previous key).
   */
  async auth(key) {
    const out = await this.request('auth', { key });
    this._key = key;
    return out;
  }

  /** -> `{pong: true, version}`. */
  ping() {
    return this.request('ping');
  }

  /**
   * May these numbers be contacted now? `to` is one number (-> the result: `to`, `decision`,
   * `reasons`, `retry_at`?, `evidence_id`?) or an array of at most `maxBatch` (-> the results in
   * the same order). Fields: `sender`, `channel`, `purpose`, `tech`, `campaign`, `at`, `commit`.
   */
  async check(to, fields = {}) {
    if (typeof to === 'string') return (await this.request('check', { ...fields, to })).result;
    return (await this.request('check', { ...fields, to: Array.from(to) })).results;
  }

  /**
   * Checks any number of numbers (an array, iterable or async iterable), split into batches
   * of at most `chunkSize` (default `maxBatch`), up to `window` batches in flight; resolves
   * with the results in input order.
   */
  async checkMany(numbers, fields = {}, { chunkSize, window = 8 } = {}) {
    const out = [];
    for await (const r of this.iterCheck(numbers, fields, { chunkSize, window })) out.push(r);
    return out;
  }

  /** Like checkMany, yielding results in input order as they come; reads `numbers` lazily. */
  async *iterCheck(numbers, fields = {}, { chunkSize, window = 8 } = {}) {
    yield* iterBatches((chunk) => this.check(chunk, fields), numbers, chunkSize || this.maxBatch, window);
  }

  /**
   * Checks, then relays an SMS -> `{status: 'sent'|'blocked'|'deferred'|'failed', message_id,
   * reasons, ...}`. Fields: `sender`, `from`, `purpose`, `campaign`, `carrier`,
   * `idempotency_key` (with one, a send lost with its connection is retried: the gateway
   * answers a repeat with the first outcome).
   */
  send(to, body, fields = {}) {
    return this.request('send', { ...fields, to, body });
  }

  /**
   * Records consent -> `{consent_id, evidence_id, to}`. Fields: `kind` (`express_written` |
   * `express` | `ebr_purchase` | `ebr_inquiry`), `captured_at` (string or Date), `source`
   * (`{method: 'web_form'|'keyword'|'verbal'|'paper', url, ip, user_agent, text, proof}`; `text`
   * required for `express_written`), `sender`, `expires_at`.
   */
  consent(to, fields) {
    return this.request('consent', { ...fields, to });
  }

  /**
   * Lifts a sender's opt-out with fresh consent (the fields of consent) ->
   * `{consent_id, optout_lifted, evidence_id, ...}`.
   */
  optin(to, fields) {
    return this.request('optin', { ...fields, to });
  }

  /**
   * Records an opt-out received outside SMS -> `{evidence_id, to, sender}`. Fields: `sender`
   * (`'*'` for every sender), `source` (`{channel, note}`).
   */
  optout(to, fields = {}) {
    return this.request('optout', { ...fields, to });
  }

  /** Everything held about a number: lists, opt-outs, consents, counters, zones, evidence ids. */
  lookup(to) {
    return this.request('lookup', { to });
  }

  /** A data-subject deletion request -> `{erased, kept, why, evidence_id, ...}`. */
  forget(to) {
    return this.request('forget', { to });
  }

  /** The gateway's counters (role `admin`). */
  stats() {
    return this.request('stats');
  }
}

/** Creates a Client with `options` and connects it. */
function connect(options) {
  return new Client(options).connect();
}

module.exports = { Client, connect, retryIsSafe };
