'use strict';
// Errors the client rejects with: the gateway's error answers and the client's own failures.

/** Codes the client itself uses (the gateway's codes are in docs/SOCKET_API.md). */
const CONNECTION_LOST = 'connection_lost'; // sent; the connection dropped before its answer
const NOT_CONNECTED = 'not_connected'; // never sent: no connection and none coming
const CLOSED = 'closed'; // the client was closed by its owner
const TIMEOUT = 'timeout'; // no answer in time; the gateway may still act on the request
const BAD_RESPONSE = 'bad_response'; // an answer this client cannot read

/**
 * An op failed. `code` is the gateway's error code (`bad_request`, `invalid_number`,
 * `forbidden`, `batch_too_large`, `store_unavailable`, ...) or one of the client's own codes;
 * `message` explains it; `op` names the op; `response` is the gateway's whole answer if any.
 */
class StopgateError extends Error {
  constructor(code, message, { op = null, response = null, cause } = {}) {
    super(op ? `${op}: ${code}: ${message}` : `${code}: ${message}`, cause ? { cause } : undefined);
    this.name = 'StopgateError';
    this.code = code;
    this.reason = message; // the message without the code and op prefix
    this.op = op;
    this.response = response;
  }
}

/**
 * The connection failed around the request. `code`: `connection_lost` (it was sent, so the
 * gateway may or may not have acted on it), `not_connected` (never sent) or `closed`.
 */
class StopgateConnectionError extends StopgateError {
  constructor(code, message, options) {
    super(code, message, options);
    this.name = 'StopgateConnectionError';
  }
}

/** No answer within the request's timeout (code `timeout`); the gateway may still act on it. */
class RequestTimeoutError extends StopgateError {
  constructor(message, options) {
    super(TIMEOUT, message, options);
    this.name = 'RequestTimeoutError';
  }
}

module.exports = {
  CONNECTION_LOST,
  NOT_CONNECTED,
  CLOSED,
  TIMEOUT,
  BAD_RESPONSE,
  StopgateError,
  StopgateConnectionError,
  RequestTimeoutError,
};
