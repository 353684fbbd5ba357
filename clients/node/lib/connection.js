'use strict';
// One open connection to the gateway: writes request lines, reads answer lines and hands
// each answer to the request with the same `id`.

const { CONNECTION_LOST, StopgateConnectionError } = require('./errors');

const NEWLINE = 0x0a;

function lost(message) {
  return new StopgateConnectionError(CONNECTION_LOST, message);
}

/** Thrown by submit() when the connection is already closed: the request was not written. */
class NotSent extends Error {}

/**
 * A connection and the requests outstanding on it. Each request is registered under its id
 * before its line is written; an answer resolves the request with that id, in whatever
 * order answers come. When the connection ends, every outstanding request is rejected with
 * the connection's error. A request's `settle` runs exactly once, when its answer arrives or
 * the connection ends (the client releases the request's in-flight slot there).
 */
class Connection {
  constructor(socket, { onClosed, maxResponseBytes }) {
    this._socket = socket;
    this._onClosed = onClosed;
    this._maxResponseBytes = maxResponseBytes;
    this._pending = new Map(); // id -> { resolve, reject, settle }
    this._partial = []; // chunks of an answer line not yet complete
    this._partialBytes = 0;
    this._error = null;
    this._drainWaiters = [];
    socket.on('data', (chunk) => this._onData(chunk));
    socket.on('drain', () => this._wakeDrainWaiters());
    socket.on('end', () => this.close(lost('the gateway closed the connection')));
    socket.on('error', (e) => this.close(lost(`connection failed: ${e.message}`)));
    socket.on('close', () => this.close(lost('the connection closed')));
  }

  get isClosed() {
    return this._error !== null;
  }

  /** Requests written and not yet answered. */
  get outstanding() {
    return this._pending.size;
  }

  /** Request bytes written but not yet taken by the socket. */
  get writeBufferSize() {
    return this._socket.writableLength;
  }

  /** Registers the request and writes its line. Throws NotSent when already closed. */
  submit(id, line, entry) {
    if (this._error) throw new NotSent();
    this._pending.set(id, entry);
    this._socket.write(line);
  }

  /** Resolves once the socket's buffer is below its high-water mark (the gateway reads). */
  drain() {
    if (this._error || !this._socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this._drainWaiters.push(resolve));
  }

  _wakeDrainWaiters() {
    const waiters = this._drainWaiters;
    this._drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Ends the connection; every outstanding request is rejected with `error`. */
  close(error) {
    if (this._error) return;
    this._error = error;
    const pending = this._pending;
    this._pending = new Map();
    for (const entry of pending.values()) {
      entry.settle();
      entry.reject(error);
    }
    this._wakeDrainWaiters();
    // Destroy rather than end: nothing more is owed to the gateway.
    this._socket.destroy();
    this._onClosed(this);
  }

  _onData(chunk) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      let line = chunk.subarray(start, nl);
      if (this._partialBytes > 0) {
        this._partial.push(line);
        line = Buffer.concat(this._partial);
        this._partial = [];
        this._partialBytes = 0;
      }
      start = nl + 1;
      this._deliver(line);
      if (this._error) return;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this._partial.push(rest);
      this._partialBytes += rest.length;
      if (this._partialBytes > this._maxResponseBytes) {
        this.close(lost(`an answer is longer than ${this._maxResponseBytes} bytes`));
      }
    }
  }

  _deliver(line) {
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this.close(lost('an answer is not JSON'));
      return;
    }
    const id = msg !== null && typeof msg === 'object' ? msg.id : undefined;
    const entry = typeof id === 'number' ? this._pending.get(id) : undefined;
    if (!entry) {
      // An answer that matches no request (an id of null comes with line_too_long and
      // bad_json): the two sides disagree, so nothing may wait on this connection.
      const err = msg && msg.error;
      const detail = err && typeof err === 'object' ? ` (${err.code}: ${err.message})` : '';
      this.close(lost(`an answer with id ${JSON.stringify(id ?? null)} matches no request${detail}`));
      return;
    }
    this._pending.delete(id);
    entry.settle();
    entry.resolve(msg);
  }
}

module.exports = { Connection, NotSent };
