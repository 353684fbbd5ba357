"""A real stopgate gateway for the client tests: the built binary, a private redis-server on
a unix socket, API keys made with stopgatectl, a self-signed TLS certificate made with
openssl, TCP/TLS/unix listeners on free loopback ports, everything in a temp directory."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE.parents[2]


def binary_dir() -> Path:
    d = os.environ.get("STOPGATE_BINARY_DIR")
    return Path(d) if d else SOURCE_DIR / "build"


def _program(rel: str) -> str:
    p = binary_dir() / rel
    if not p.is_file():
        raise RuntimeError(f"{p} is not built (cmake --build build --target stopgate stopgatectl, "
                           "or set STOPGATE_BINARY_DIR)")
    return str(p)


def free_port() -> int:
    """A loopback port the kernel hands out as free (from the ephemeral range, which the C++
    tests' free_port() never uses)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_key(roles: str, name: str) -> tuple[str, str]:
    """(key, sha256) from `stopgatectl keys new`."""
    out = subprocess.run(
        [_program("tools/stopgatectl/stopgatectl"), "keys", "new", "--name", name, "--roles", roles],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    key = re.search(r"^\s+(sg_\S+)\s*$", out, re.M)
    digest = re.search(r'^sha256 = "([0-9a-f]{64})"', out, re.M)
    if not key or not digest:
        raise RuntimeError(f"unexpected `stopgatectl keys new` output:\n{out}")
    return key.group(1), digest.group(1)


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 -> (cert, key)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def _connectable(family: int, address) -> bool:
    with socket.socket(family) as s:
        try:
            s.connect(address)
            return True
        except OSError:
            return False


def _wait_connectable(family: int, address, what: str, proc: subprocess.Popen, log: Path, deadline: float) -> None:
    while True:
        if _connectable(family, address):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} is not listening after 30 s:\n{log.read_text(errors='replace')}")
        time.sleep(0.02)


class Gateway:
    """Starts redis-server and stopgate; ``stop()`` ends both and removes the directory.

    Attributes: ``port`` (TCP), ``tls_port``, ``unix_path``, ``cert`` (CA file for TLS),
    ``key`` (all roles), ``check_key`` (role check only), ``max_batch``, ``max_in_flight``.
    """

    def __init__(self, *, max_batch: int = 50, max_in_flight: int = 16) -> None:
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.dir = Path(tempfile.mkdtemp(prefix="stopgate-client-test-"))
        self.redis: subprocess.Popen | None = None
        self.proc: subprocess.Popen | None = None
        try:
            self._start_redis()
            self.key, digest = make_key("check,send,consent,admin", "t")
            self.check_key, check_digest = make_key("check", "c")
            self.cert, cert_key = make_certificate(self.dir, "gateway")
            self.port, self.tls_port, self.http_port = free_port(), free_port(), free_port()
            self.unix_path = str(self.dir / "data" / "api.sock")
            self.config = self.dir / "stopgate.toml"
            self.config.write_text(self._config_text(digest, check_digest, cert_key))
            self.start()
        except BaseException:
            self.stop()
            raise

    def _config_text(self, digest: str, check_digest: str, cert_key: Path) -> str:
        return f"""
[server]
data_dir = "{self.dir}/data"
instance = "t1"
threads = 1
shutdown_grace_ms = 1000
[api]
listen = "127.0.0.1:{self.port}"
tls_listen = "127.0.0.1:{self.tls_port}"
tls_cert = "{self.cert}"
tls_key = "{cert_key}"
unix_socket = "api.sock"
max_batch = {self.max_batch}
max_in_flight = {self.max_in_flight}
[http]
listen = "127.0.0.1:{self.http_port}"
[redis]
url = "unix://{self.redis_socket}"
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
sha256 = "{digest}"
roles = ["check", "send", "consent", "admin"]
[[api_keys]]
name = "c"
sha256 = "{check_digest}"
roles = ["check"]
"""

    def _start_redis(self) -> None:
        self.redis_socket = str(self.dir / "redis.sock")
        log = self.dir / "redis.log"
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.redis_socket, "--unixsocketperm", "700",
             "--dir", str(self.dir), "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--logfile", str(log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_connectable(socket.AF_UNIX, self.redis_socket, "redis-server", self.redis, log, time.monotonic() + 30)

    def start(self) -> None:
        """Starts the gateway (again) and waits until its three listeners accept."""
        log = self.dir / "stopgate.log"
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [_program("gateway/stopgate"), "--config", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        for family, address in ((socket.AF_INET, ("127.0.0.1", self.port)),
                                (socket.AF_INET, ("127.0.0.1", self.tls_port)), (socket.AF_UNIX, self.unix_path)):
            _wait_connectable(family, address, "stopgate", self.proc, log, deadline)

    def revoke_key(self, name: str) -> None:
        """Removes an API key from the config and reloads it (SIGHUP)."""
        head, *keys = self.config.read_text().split("[[api_keys]]\n")
        kept = [k for k in keys if not k.startswith(f'name = "{name}"\n')]
        self.config.write_text(head + "".join("[[api_keys]]\n" + k for k in kept))
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def stop_gateway(self) -> None:
        """SIGTERM: the gateway finishes what is in flight, closes its connections and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def freeze(self, proc: subprocess.Popen) -> None:
        """SIGSTOP, returning once every thread of the process is stopped."""
        proc.send_signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{proc.pid}/task")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = []
            for t in tasks.iterdir():
                try:
                    # The state follows the parenthesised command name: "pid (comm) S ...".
                    states.append((t / "stat").read_text().rsplit(")", 1)[1].split()[0])
                except OSError:
                    pass
            if states and all(s in ("T", "t") for s in states):
                return
            time.sleep(0.005)
        raise RuntimeError("the process did not stop")

    def thaw(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGCONT)

    def kill_gateway(self) -> None:
        """SIGKILL: the gateway dies with whatever it had not answered."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log(self) -> str:
        p = self.dir / "stopgate.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.stop_gateway()
        if self.redis is not None:
            self.redis.send_signal(signal.SIGCONT)
            self.redis.terminate()
            try:
                self.redis.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.redis.kill()
                self.redis.wait()
            self.redis = None
        shutil.rmtree(self.dir, ignore_errors=True)
