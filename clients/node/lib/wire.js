'use strict';
// The protocol's JSON lines: request lines (encoded once, the id spliced in per attempt),
// fields as the gateway reads them, and error answers as errors.

const { BAD_RESPONSE, StopgateError } = require('./errors');

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The fields without undefined and null values; refuses `op` and `id`, which the client sets. */
function cleanFields(fields) {
  const out = {};
  for (const [k, v] of Object.entries(fields || {})) {
    if (k === 'op' || k === 'id') throw new TypeError(`'${k}' is set by the client, not a field`);
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

/**
 * One request's line without its id: `{"op":OP,"id":` + id + `,FIELDS}\n`. Throws
 * `bad_request` for a string that is not valid Unicode (a lone surrogate would reach the
 * gateway as an escape it refuses with an id-less `bad_json`) and `line_too_long` for a line
 * over `maxLineBytes` (the gateway would answer it with an id-less `line_too_long`): both
 * before anything is sent. `Date` values become RFC 3339 (their toJSON).
 */
class RequestLine {
  constructor(op, fields, maxLineBytes) {
    this.op = op;
    this._max = maxLineBytes;
    const body = JSON.stringify(fields, (k, v) => {
      if ((typeof v === 'string' && LONE_SURROGATE.test(v)) || LONE_SURROGATE.test(k)) {
        throw new StopgateError('bad_request', `${k || 'a value'}: a string is not valid Unicode`, { op });
      }
      return v;
    });
    this._head = `{"op":${JSON.stringify(op)},"id":`;
    this._tail = (body === '{}' ? '}' : `,${body.slice(1)}`) + '\n';
    this._bytes = Buffer.byteLength(this._head) + Buffer.byteLength(this._tail) - 1; // without id and newline
    this._check(this._bytes + 1, 'at least ');
  }

  withId(id) {
    const digits = String(id);
    this._check(this._bytes + digits.length, '');
    return this._head + digits + this._tail;
  }

  _check(bytes, qualifier) {
    if (bytes > this._max) {
      const message = `the request is ${qualifier}${bytes} bytes; the limit is ${this._max} (not sent)`;
      throw new StopgateError('line_too_long', message, { op: this.op });
    }
  }
}

/** An error answer as the error the call rejects with. */
function errorOf(op, msg) {
  const err = msg.error;
  if (!err || typeof err !== 'object') {
    return new StopgateError(BAD_RESPONSE, 'an error answer without an error object', { op, response: msg });
  }
  return new StopgateError(String(err.code), String(err.message ?? ''), { op, response: msg });
}

module.exports = { RequestLine, cleanFields, errorOf };
