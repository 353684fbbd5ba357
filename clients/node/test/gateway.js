'use strict';
// A real stopgate gateway for the client tests: the built binary, a private redis-server on
// a unix socket, API keys made with stopgatectl, a self-signed TLS certificate made with
// openssl, TCP/TLS/unix listeners on free loopback ports, everything in a temp directory.

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const SOURCE_DIR = path.resolve(__dirname, '..', '..', '..');

function binaryDir() {
  return process.env.STOPGATE_BINARY_DIR || path.join(SOURCE_DIR, 'build');
}

function program(rel) {
  const p = path.join(binaryDir(), rel);
  if (!fs.existsSync(p)) {
    throw new Error(
      `${p} is not built (cmake --build build --target stopgate stopgatectl, or set STOPGATE_BINARY_DIR)`,
    );
  }
  return p;
}

/** A loopback port the kernel hands out as free (the ephemeral range, which the C++ tests' free_port() never uses). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** [key, sha256] from `stopgatectl keys new`. */
function makeKey(roles, name) {
  const ctl = program('tools/stopgatectl/stopgatectl');
  const out = execFileSync(ctl, ['keys', 'new', '--name', name, '--roles', roles], { encoding: 'utf8' });
  const key = /^\s+(sg_\S+)\s*$/m.exec(out);
  const digest = /^sha256 = "([0-9a-f]{64})"/m.exec(out);
  if (!key || !digest) throw new Error(`unexpected \`stopgatectl keys new\` output:\n${out}`);
  return [key[1], digest[1]];
}

/** A self-signed certificate for localhost and 127.0.0.1 -> [cert, key]. */
function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return [cert, key];
}

function connectable(target) {
  return new Promise((resolve) => {
    const s = net.connect(target);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitConnectable(target, what, child, logFile, deadline) {
  for (;;) {
    if (await connectable(target)) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${readLog(logFile)}`);
    }
    if (Date.now() > deadline) throw new Error(`${what} is not listening after 30 s:\n${readLog(logFile)}`);
    await sleep(20);
  }
}

function readLog(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

/**
 * Starts redis-server and stopgate; stop() ends both and removes the directory.
 * Fields: port (TCP), tlsPort, unixPath, cert (CA file for TLS), key (all roles), checkKey
 * (role check only), maxBatch, maxInFlight.
 */
class Gateway {
  static async start({ maxBatch = 50, maxInFlight = 16 } = {}) {
    const g = new Gateway(maxBatch, maxInFlight);
    try {
      await g._setUp();
    } catch (e) {
      await g.stop();
      throw e;
    }
    return g;
  }

  constructor(maxBatch, maxInFlight) {
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopgate-client-test-'));
    this.redis = null;
    this.proc = null;
  }

  async _setUp() {
    await this._startRedis();
    const [key, digest] = makeKey('check,send,consent,admin', 't');
    const [checkKey, checkDigest] = makeKey('check', 'c');
    this.key = key;
    this.checkKey = checkKey;
    const [cert, certKey] = makeCertificate(this.dir, 'gateway');
    this.cert = cert;
    this.port = await freePort();
    this.tlsPort = await freePort();
    this.httpPort = await freePort();
    this.unixPath = path.join(this.dir, 'data', 'api.sock');
    this.config = path.join(this.dir, 'stopgate.toml');
    fs.writeFileSync(this.config, `
[server]
data_dir = "${this.dir}/data"
instance = "t1"
threads = 1
shutdown_grace_ms = 1000
[api]
listen = "127.0.0.1:${this.port}"
tls_listen = "127.0.0.1:${this.tlsPort}"
tls_cert = "${cert}"
tls_key = "${certKey}"
unix_socket = "api.sock"
max_batch = ${this.maxBatch}
max_in_flight = ${this.maxInFlight}
[http]
listen = "127.0.0.1:${this.httpPort}"
[redis]
url = "unix://${this.redisSocket}"
timeout_ms = 20000
reconnect_min_ms = 20
reconnect_max_ms = 200
[evidence]
hmac_key = "file:evidence.key"
[carriers.sandbox]
type = "sandbox"
[senders.acme]
numbers = ["+14155552000"]
route = ["sandbox"]
[lists.internal]
kind = "internal"
[[api_keys]]
name = "t"
sha256 = "${digest}"
roles = ["check", "send", "consent", "admin"]
[[api_keys]]
name = "c"
sha256 = "${checkDigest}"
roles = ["check"]
`);
    await this.start();
  }

  async _startRedis() {
    this.redisSocket = path.join(this.dir, 'redis.sock');
    const log = path.join(this.dir, 'redis.log');
    this.redis = spawn('redis-server', [
      '--port', '0', '--unixsocket', this.redisSocket, '--unixsocketperm', '700', '--dir', this.dir,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', log,
    ], { stdio: 'ignore' });
    await waitConnectable({ path: this.redisSocket }, 'redis-server', this.redis, log, Date.now() + 30000);
  }

  /** Starts the gateway (again) and waits until its three listeners accept. */
  async start() {
    const log = path.join(this.dir, 'stopgate.log');
    const out = fs.openSync(log, 'a');
    this.proc = spawn(program('gateway/stopgate'), ['--config', this.config], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const deadline = Date.now() + 30000;
    for (const target of [
      { host: '127.0.0.1', port: this.port },
      { host: '127.0.0.1', port: this.tlsPort },
      { path: this.unixPath },
    ]) {
      await waitConnectable(target, 'stopgate', this.proc, log, deadline);
    }
  }

  /** Removes an API key from the config and reloads it (SIGHUP). */
  revokeKey(name) {
    const [head, ...keys] = fs.readFileSync(this.config, 'utf8').split('[[api_keys]]\n');
    const kept = keys.filter((k) => !k.startsWith(`name = "${name}"\n`));
    fs.writeFileSync(this.config, head + kept.map((k) => '[[api_keys]]\n' + k).join(''));
    this.proc.kill('SIGHUP');
  }

  /** SIGTERM: the gateway finishes what is in flight, closes its connections and exits. */
  async stopGateway() {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGCONT');
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
    await exited(p);
    clearTimeout(timer);
  }

  /** SIGKILL: the gateway dies with whatever it had not answered. */
  async killGateway() {
    const p = this.proc;
    this.proc = null;
    if (!p) return;
    p.kill('SIGKILL');
    await exited(p);
  }

  /** SIGSTOP, resolving once every thread of the process is stopped. */
  async freeze(child) {
    child.kill('SIGSTOP');
    const tasks = `/proc/${child.pid}/task`;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const states = [];
      for (const t of fs.readdirSync(tasks)) {
        try {
          // The state follows the parenthesised command name: "pid (comm) S ...".
          const stat = fs.readFileSync(path.join(tasks, t, 'stat'), 'utf8');
          states.push(stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ')[0]);
        } catch {
          // the thread ended
        }
      }
      if (states.length > 0 && states.every((s) => s === 'T' || s === 't')) return;
      await sleep(5);
    }
    throw new Error('the process did not stop');
  }

  thaw(child) {
    child.kill('SIGCONT');
  }

  log() {
    return readLog(path.join(this.dir, 'stopgate.log'));
  }

  async stop() {
    await this.stopGateway();
    if (this.redis) {
      const r = this.redis;
      this.redis = null;
      r.kill('SIGCONT');
      r.kill('SIGTERM');
      await exited(r);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Gateway, freePort, makeCertificate };
