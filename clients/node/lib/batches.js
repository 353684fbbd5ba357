'use strict';
// Long lists of numbers as `check` batches: cut lazily, a bounded window in flight, results
// in input order.

const { BAD_RESPONSE, StopgateError } = require('./errors');

/**
 * Yields the result of every number (an iterable or async iterable) in order. `check`
 * answers one batch; at most `window` batches are in flight and read from `numbers` at a
 * time. A failed batch throws.
 */
async function* iterBatches(check, numbers, size, window) {
  if (!(size >= 1) || !(window >= 1)) throw new RangeError('chunkSize and window must be at least 1');
  const source = numbers[Symbol.asyncIterator] ? numbers[Symbol.asyncIterator]() : numbers[Symbol.iterator]();
  let exhausted = false;
  const nextChunk = async () => {
    const chunk = [];
    while (!exhausted && chunk.length < size) {
      const { value, done } = await source.next();
      if (done) exhausted = true;
      else chunk.push(value);
    }
    return chunk;
  };
  const one = async (chunk) => {
    const results = await check(chunk);
    if (!Array.isArray(results) || results.length !== chunk.length) {
      throw new StopgateError(BAD_RESPONSE, 'a batch answer does not have one result per number', { op: 'check' });
    }
    return results;
  };
  const inflight = [];
  try {
    for (;;) {
      while (inflight.length < window) {
        const chunk = await nextChunk();
        if (chunk.length === 0) break;
        const p = one(chunk);
        p.catch(() => {}); // a later batch may fail before it is awaited
        inflight.push(p);
      }
      if (inflight.length === 0) return;
      for (const r of await inflight.shift()) yield r;
    }
  } finally {
    if (!exhausted && typeof source.return === 'function') await source.return();
  }
}

module.exports = { iterBatches };
