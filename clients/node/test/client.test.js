'use strict';
// The Node client against a real gateway (test/gateway.js starts one).

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');
const { setTimeout: sleep } = require('node:timers/promises');

const sg = require('..');
const { Gateway, freePort, makeCertificate } = require('./gateway');

const CONSENT_SOURCE = { method: 'web_form', url: 'https://acme.example/join', text: 'I agree to texts from Acme.' };

function range(from, to) {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

const WAIT = 20000; // ms: a bound on waits that a broken client would never see end

async function until(condition, what) {
  const deadline = Date.now() + WAIT;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${WAIT} ms: ${what}`);
    await sleep(5);
  }
}

async function rejectsWith(promise, code) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof sg.StopgateError, `expected a StopgateError with ${code}, got ${error}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe('with one gateway (max_batch 50, max_in_flight 16)', { timeout: 60000 }, () => {
  let gw;
  const clients = [];

  before(async () => {
    gw = await Gateway.start({ maxBatch: 50, maxInFlight: 16 });
  });

  after(async () => {
    for (const c of clients) await c.close();
    if (gw) await gw.stop();
  });

  async function client(options = {}) {
    const c = new sg.Client({ port: gw.port, key: gw.key, maxBatch: gw.maxBatch, ...options });
    clients.push(c);
    await c.connect();
    return c;
  }

  describe('transports', () => {
    it('answers ping over TCP, TLS and the unix socket', async () => {
      assert.equal((await (await client()).ping()).pong, true);
      assert.equal((await (await client({ port: gw.tlsPort, caFile: gw.cert })).ping()).pong, true);
      assert.equal((await (await client({ path: gw.unixPath })).ping()).pong, true);
    });

    it('refuses a certificate the CA file did not sign, unless verification is off', async () => {
      const [otherCert] = makeCertificate(gw.dir, 'other-node');
      const e = await rejectsWith(client({ port: gw.tlsPort, caFile: otherCert }), sg.NOT_CONNECTED);
      assert.match(e.reason, /self[- ]signed|certificate/i);
      const unverified = await client({ port: gw.tlsPort, tls: true, rejectUnauthorized: false });
      assert.equal((await unverified.ping()).pong, true);
    });

    it('is not_connected when nothing listens', async () => {
      await rejectsWith(new sg.Client({ port: await freePort() }).connect(), sg.NOT_CONNECTED);
    });
  });

  describe('auth', () => {
    it('authenticates on connect with the configured key', async () => {
      assert.equal((await (await client()).lookup('2125552642')).to, '+12125552642');
    });

    it('auth() names the key and its roles', async () => {
      const c = await client({ key: null });
      assert.deepEqual(await c.auth(gw.key), { key: 't', roles: ['check', 'send', 'consent', 'admin'] });
      assert.equal((await c.ping()).pong, true);
    });

    it('a wrong key fails connect with unauthenticated', async () => {
      const e = await rejectsWith(new sg.Client({ port: gw.port, key: 'sg_not-a-key' }).connect(), 'unauthenticated');
      assert.ok(!(e instanceof sg.StopgateConnectionError));
    });

    it('a request before auth is unauthenticated', async () => {
      const c = await client({ key: null, reconnect: false });
      await rejectsWith(c.ping(), 'unauthenticated');
    });

    it('a key without the role is forbidden', async () => {
      const c = await client({ key: gw.checkKey });
      await rejectsWith(c.optout('2125552643', { sender: 'acme' }), 'forbidden');
      assert.equal((await c.check('2125552643', { sender: 'acme' })).to, '+12125552643');
    });
  });

  describe('pipelining', () => {
    it('answers out of order reach their own request', async () => {
      const c = await client();
      const numbers = range(2650, 2655).map((n) => `+1212555${n}`);
      let done = 0;
      // With Redis stopped the checks cannot be answered; the pings after them can.
      await gw.freeze(gw.redis);
      let checks;
      try {
        checks = numbers.map((n) => c.check(n, { sender: 'acme' }).finally(() => done++));
        const pings = await Promise.all([c.ping(), c.ping(), c.ping()]);
        assert.deepEqual(pings.map((p) => p.pong), [true, true, true]);
        assert.equal(done, 0);
      } finally {
        gw.thaw(gw.redis);
      }
      assert.deepEqual((await Promise.all(checks)).map((r) => r.to), numbers);
    });

    it('many concurrent calls each get their own answer', async () => {
      const c = await client();
      const numbers = range(2000, 2400).map((n) => `+1312555${n}`);
      const results = await Promise.all(numbers.map((n) => c.lookup(n)));
      assert.deepEqual(results.map((r) => r.to), numbers);
    });
  });

  describe('batches', () => {
    it('checkMany splits into batches the gateway accepts and keeps the order', async () => {
      const c = await client();
      const numbers = range(2000, 2123).map((n) => `212555${n}`);
      numbers[60] = '12'; // an invalid number gets its own deny; the batch goes on
      await rejectsWith(c.check(numbers, { sender: 'acme' }), 'batch_too_large'); // one request over the limit
      const results = await c.checkMany(numbers, { sender: 'acme' }, { window: 2 });
      assert.deepEqual(
        results.map((r) => r.to),
        numbers.map((n) => (n === '12' ? n : `+1${n}`)),
      );
      assert.deepEqual(results[60].reasons, ['invalid_number']);
    });

    it('iterCheck reads a generator lazily', async () => {
      const c = await client();
      let taken = 0;
      function* numbers() {
        for (let n = 0; n < 1000; n++) {
          taken++;
          yield `646555${2000 + n}`;
        }
      }
      const it = c.iterCheck(numbers(), { sender: 'acme' }, { chunkSize: 50, window: 2 });
      const first = await it.next();
      assert.equal(first.value.to, '+16465552000');
      assert.ok(taken <= 150, `read ${taken} numbers for 2 batches of 50`);
      await it.return();
    });
  });

  describe('errors', () => {
    it('error answers reject with the gateway\'s code and message', async () => {
      const c = await client();
      const e = await rejectsWith(c.optout('12', { sender: 'acme' }), 'invalid_number');
      assert.equal(e.op, 'optout');
      const bad = await rejectsWith(
        c.consent('2125552660', {
          sender: 'acme',
          kind: 'express_written',
          captured_at: new Date('2026-01-02T00:00:00Z'),
          source: { method: 'web_form' },
        }),
        'bad_request',
      );
      assert.match(bad.reason, /source\.text/);
      await rejectsWith(c.request('reload'), 'unknown_op');
      assert.equal((await c.ping()).pong, true); // the connection stays usable
    });

    it('a timed-out call keeps its slot until the late answer arrives', async () => {
      const c = await client();
      await gw.freeze(gw.redis); // the check cannot be answered until Redis runs again
      try {
        await rejectsWith(c.request('check', { to: '2125552662', sender: 'acme' }, { timeoutMs: 200 }), sg.TIMEOUT);
        assert.equal(c.inFlight, 1);
      } finally {
        gw.thaw(gw.redis);
      }
      await until(() => c.inFlight === 0, 'the late answer frees the slot');
      assert.equal(c.connected, true); // the late answer was matched and dropped, not taken as a stray
      assert.equal((await c.ping()).pong, true);
    });

    it('an answer matching no request ends the connection instead of a wait', async () => {
      // The client's limit is above the gateway's (256 KiB by default): the gateway answers the long line
      // with line_too_long and "id": null, which no call can claim.
      const c = await client({ maxLineBytes: 1 << 20 });
      const e = await rejectsWith(
        c.optout('2125552663', { sender: 'acme', source: { channel: 'phone', note: 'x'.repeat(300000) } }),
        sg.CONNECTION_LOST,
      );
      assert.match(e.reason, /line_too_long/);
      assert.equal((await c.ping()).pong, true); // on a new connection
      assert.equal(c.reconnects, 1);
    });

    it('a line over the limit is refused without being sent', async () => {
      const c = await client({ maxLineBytes: 1024 });
      await rejectsWith(
        c.optout('2125552661', { sender: 'acme', source: { channel: 'phone', note: 'x'.repeat(2000) } }),
        'line_too_long',
      );
      assert.deepEqual((await c.lookup('2125552661')).optouts, []);
    });
  });

  describe('ops', () => {
    it('every op family round-trips', async () => {
      const c = await client();
      const to = '2125552670';
      const at = '2026-12-02T17:00:00Z'; // noon in New York, a Wednesday
      assert.deepEqual((await c.check(to, { sender: 'acme', at })).reasons, ['no_consent']);
      const cons = await c.consent(to, {
        sender: 'acme',
        kind: 'express_written',
        captured_at: new Date('2026-01-02T00:00:00Z'),
        source: CONSENT_SOURCE,
      });
      assert.match(cons.consent_id, /^cn_/);
      assert.equal((await c.check(to, { sender: 'acme', at })).decision, 'allow');
      assert.ok((await c.optout(to, { sender: 'acme', source: { channel: 'phone' } })).evidence_id);
      assert.equal((await c.check(to, { sender: 'acme', at })).decision, 'deny');
      // The opt-out's time has microseconds, a Date milliseconds: an opt-in stamped within the
      // same millisecond would be older than the opt-out and rightly not lift it.
      await sleep(5);
      const optin = await c.optin(to, {
        sender: 'acme',
        kind: 'express_written',
        captured_at: new Date(),
        source: CONSENT_SOURCE,
      });
      assert.equal(optin.optout_lifted, true);
      const sent = await c.send(to, 'hello', { sender: 'acme' });
      assert.ok(['sent', 'deferred'].includes(sent.status), sent.status); // deferred at night in New York
      const blocked = await c.send('2125552671', 'hello', { sender: 'acme', idempotency_key: 'node-ops-1' });
      assert.equal(blocked.status, 'blocked');
      const again = await c.send('2125552671', 'hello', { sender: 'acme', idempotency_key: 'node-ops-1' });
      assert.deepEqual([again.message_id, again.idempotent_replay], [blocked.message_id, true]);
      assert.equal((await c.lookup(to)).consents[0].kind, 'express_written');
      assert.ok('erased' in (await c.forget(to)));
      assert.ok('checks' in (await c.stats()));
    });
  });

  describe('backpressure', () => {
    it('many calls with a small in-flight limit all complete within it', async () => {
      const c = await client({ maxInFlight: 4 });
      let seenInFlight = 0;
      let seenBuffered = 0;
      const numbers = range(3000, 3600).map((n) => `+1415555${n}`);
      const results = await Promise.all(
        numbers.map(async (n) => {
          const r = await c.check(n, { sender: 'acme' });
          seenInFlight = Math.max(seenInFlight, c.inFlight);
          seenBuffered = Math.max(seenBuffered, c.writeBufferSize);
          return r.to;
        }),
      );
      assert.deepEqual(results, numbers);
      assert.ok(seenInFlight <= 4, `in flight: ${seenInFlight}`);
      assert.ok(seenBuffered <= 4 * 100, `buffered: ${seenBuffered} bytes`); // 4 request lines at most
    });

    it('more outstanding than the gateway reads all complete', async () => {
      // The gateway stops reading past its max_in_flight (16); the client's writes wait.
      const c = await client({ maxInFlight: 2000 });
      const numbers = range(5000, 6000).map((n) => `+1617555${n}`);
      const results = await Promise.all(numbers.map((n) => c.check(n, { sender: 'acme' })));
      assert.deepEqual(results.map((r) => r.to), numbers);
    });
  });
});

describe('reconnect', { timeout: 60000 }, () => {
  async function withGateway(fn) {
    const gw = await Gateway.start();
    const c = new sg.Client({ port: gw.port, key: gw.key, backoffInitialMs: 20, backoffMaxMs: 200 });
    try {
      await fn(gw, c);
    } finally {
      await c.close();
      await gw.stop();
    }
  }

  it('after the gateway dies, unsafe calls fail and safe calls are retried', () =>
    withGateway(async (gw, c) => {
      await c.connect();
      assert.equal((await c.ping()).pong, true);
      // Frozen, the gateway answers nothing: these three are outstanding when it dies.
      await gw.freeze(gw.proc);
      const settled = new Set();
      const track = (name, p) => p.finally(() => settled.add(name));
      const ping = track('ping', c.ping());
      const lookup = track('lookup', c.lookup('2125552680'));
      const optout = track('optout', c.optout('2125552680', { sender: 'acme' }));
      ping.catch(() => {});
      lookup.catch(() => {});
      optout.catch(() => {});
      await until(() => c.inFlight === 3, 'three requests outstanding');
      await gw.killGateway();

      await rejectsWith(optout, sg.CONNECTION_LOST);
      assert.ok(!settled.has('ping') && !settled.has('lookup'));

      await gw.start();
      assert.equal((await ping).pong, true);
      assert.equal((await lookup).to, '+12125552680');
      assert.equal(c.reconnects, 1);
      assert.deepEqual((await c.lookup('2125552680')).optouts, []); // the lost optout was not repeated
    }));

  it('calls made while the gateway restarts wait for it', () =>
    withGateway(async (gw, c) => {
      await c.connect();
      await gw.stopGateway();
      await until(() => !c.connected, 'the client sees the connection end');
      const optout = c.optout('2125552681', { sender: 'acme' }); // not sent until connected
      optout.catch(() => {});
      await gw.start();
      assert.ok((await optout).evidence_id);
      assert.equal(c.reconnects, 1);
    }));

  it('a key revoked by a reload ends the client with unauthenticated', () =>
    withGateway(async (gw, c) => {
      await c.connect();
      gw.revokeKey('t');
      let first;
      const deadline = Date.now() + WAIT;
      while (!first && Date.now() < deadline) {
        // until the gateway has applied the reload
        first = await c.ping().then(() => null, (e) => e);
        if (!first) await sleep(10);
      }
      assert.equal(first?.code, 'unauthenticated');
      // The reconnect's auth is refused: the client ends instead of retrying.
      await rejectsWith(c.ping(), 'unauthenticated');
      assert.equal(c.connected, false);
    }));

  it('without reconnect a lost connection stays down', async () => {
    const gw = await Gateway.start();
    const c = new sg.Client({ port: gw.port, key: gw.key, reconnect: false });
    try {
      await c.connect();
      await gw.stopGateway();
      await until(() => !c.connected, 'the client sees the connection end');
      await rejectsWith(c.ping(), sg.NOT_CONNECTED);
    } finally {
      await c.close();
      await gw.stop();
    }
  });
});
