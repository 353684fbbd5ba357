"""The client: connection set-up (TCP, TLS, unix socket), authentication, pipelined requests
with a bounded number in flight, batches, and reconnection with backoff."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import ssl
from typing import Any, AsyncIterator, Iterable, Mapping

from .batches import iter_batches
from .connection import Connection, NotSent, not_connected
from .errors import CLOSED, RequestTimeout, StopgateConnectionError, StopgateError
from .wire import RequestLine, error_of, merge_fields

_UNSET: Any = object()


def retry_is_safe(op: str, fields: Mapping[str, Any]) -> bool:
    """Whether repeating the request after a lost connection cannot act twice: reads, an
    uncommitted check, and a send carrying an idempotency key (the gateway answers a repeat
    with the first outcome)."""
    if op in ("ping", "lookup", "stats"):
        return True
    if op == "check":
        return not fields.get("commit")
    if op == "send":
        return bool(fields.get("idempotency_key"))
    return False


class Client:
    """A connection to a stopgate gateway's socket API.

    Every op is a coroutine that returns the op's answer (a dict without ``id`` and ``ok``)
    or raises :class:`StopgateError` with the gateway's ``code`` and ``message``. Calls may
    be issued concurrently from many tasks: they are pipelined on one connection and matched
    to their answers by a client-generated ``id``. At most ``max_in_flight`` requests are
    outstanding; a further call waits for a slot, so memory stays bounded however many calls
    are made. All methods must be called from the event loop that ran :meth:`connect`.

    Args:
        host, port: the gateway's TCP (or TLS) listener (``api.listen`` / ``api.tls_listen``).
        unix_path: connect to this unix socket (``api.unix_socket``) instead of host/port.
        tls: use TLS. Implied by ``ca_file`` and ``ssl_context``.
        ca_file: PEM file of the CA (or self-signed certificate) that signed the gateway's
            certificate; default: the system's trusted CAs.
        verify: verify the gateway's certificate and host name (default True).
        server_hostname: name to verify the certificate against (default: ``host``).
        ssl_context: a ready ``ssl.SSLContext`` (overrides ``ca_file``/``verify``).
        key: API key; sent as ``auth`` on connect and on every reconnect.
        max_in_flight: outstanding requests before calls wait (keep it at or below the
            gateway's ``api.max_in_flight``).
        max_batch: numbers per ``check`` request in :meth:`check_many` (the gateway's
            ``api.max_batch``).
        max_line_bytes: longest request line sent (the gateway's ``api.max_line_bytes``); a
            longer request raises ``line_too_long`` without being sent.
        reconnect: reconnect after a lost connection (default True).
        retries: times a request that is safe to repeat (see :func:`retry_is_safe`) is sent
            again after its connection was lost.
        backoff_initial, backoff_max: reconnect delays in seconds (doubling, with jitter).
        max_reconnect_attempts: give up after this many failed attempts in a row (None:
            never); then waiting and new calls raise ``not_connected``.
        connect_timeout: seconds for one connection attempt including TLS and ``auth``.
        request_timeout: default seconds for a call (None: no limit); per call ``timeout=``.
        max_response_bytes: longest answer line accepted (batches of 10,000 are ~1.5 MB).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7600,
        *,
        unix_path: str | None = None,
        tls: bool = False,
        ca_file: str | None = None,
        verify: bool = True,
        server_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        key: str | None = None,
        max_in_flight: int = 256,
        max_batch: int = 10000,
        max_line_bytes: int = 262144,
        reconnect: bool = True,
        retries: int = 2,
        backoff_initial: float = 0.05,
        backoff_max: float = 5.0,
        max_reconnect_attempts: int | None = None,
        connect_timeout: float = 10.0,
        request_timeout: float | None = None,
        max_response_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if max_in_flight < 1 or max_batch < 1:
            raise ValueError("max_in_flight and max_batch must be at least 1")
        self.host = host
        self.port = port
        self.unix_path = unix_path
        self._ssl = self._make_ssl_context(tls, ca_file, verify, ssl_context)
        self._server_hostname = server_hostname
        self._key = key
        self.max_in_flight = max_in_flight
        self.max_batch = max_batch
        self.max_line_bytes = max_line_bytes
        self._reconnect = reconnect
        self._retries = retries
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._max_reconnect_attempts = max_reconnect_attempts
        self._connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._max_response_bytes = max_response_bytes
        self._ids = itertools.count(1)
        self._slots: asyncio.Semaphore | None = None
        self._taken = 0
        self._conn: Connection | None = None
        # Resolved with the live connection; replaced by a fresh one when it is lost.
        self._conn_fut: asyncio.Future[Connection | None] | None = None
        self._down: StopgateError | None = None  # set when no connection will come again
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closed = False
        #: Number of connections opened after the first (for monitoring).
        self.reconnects = 0

    @staticmethod
    def _make_ssl_context(
        tls: bool, ca_file: str | None, verify: bool, ctx: ssl.SSLContext | None
    ) -> ssl.SSLContext | None:
        if ctx is not None:
            return ctx
        if not tls and ca_file is None:
            return None
        ctx = ssl.create_default_context(cafile=ca_file)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    # ----------------------------------------------------------------- connection life

    async def connect(self) -> "Client":
        """Opens the connection (and authenticates when a key is set). Raises
        :class:`StopgateConnectionError` (``not_connected``) when the gateway cannot be
        reached, or the ``auth`` error (``unauthenticated``)."""
        if self._conn_fut is not None:
            raise RuntimeError("connect() was already called")
        loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self.max_in_flight)
        self._conn_fut = loop.create_future()
        try:
            conn = await self._open()
        except BaseException:
            self._conn_fut = None  # connect() may be called again
            raise
        if self._closed:
            conn.close(StopgateConnectionError(CLOSED, "the client was closed"))
            raise StopgateConnectionError(CLOSED, "the client was closed while connecting")
        self._install(conn)
        return self

    async def close(self) -> None:
        """Closes the connection. Outstanding and waiting calls raise ``closed``."""
        if self._closed:
            return
        self._closed = True
        self._down = StopgateConnectionError(CLOSED, "the client was closed")
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        if self._conn is not None:
            self._conn.close(StopgateConnectionError(CLOSED, "the client was closed"))
        self._wake_waiters()

    async def __aenter__(self) -> "Client":
        if self._conn_fut is None:
            await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """Whether a connection is open now (False while reconnecting)."""
        return self._conn is not None and not self._conn.is_closed

    @property
    def in_flight(self) -> int:
        """Requests holding a slot: sent and not yet answered (or about to be sent)."""
        return self._taken

    @property
    def write_buffer_size(self) -> int:
        """Request bytes written but not yet taken by the socket (grows only while the
        gateway has stopped reading)."""
        return self._conn.write_buffer_size if self._conn is not None else 0

    async def _take_slot(self) -> None:
        assert self._slots is not None
        await self._slots.acquire()
        self._taken += 1

    def _release_slot(self) -> None:
        assert self._slots is not None
        self._taken -= 1
        self._slots.release()

    async def _open(self) -> Connection:
        """One connection attempt: connect, TLS handshake, auth."""

        async def attempt() -> Connection:
            if self.unix_path is not None:
                reader, writer = await asyncio.open_unix_connection(
                    self.unix_path, ssl=self._ssl, server_hostname=self._server_hostname,
                    limit=self._max_response_bytes,
                )
            else:
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl,
                    server_hostname=self._server_hostname if self._ssl else None,
                    limit=self._max_response_bytes,
                )
            conn = Connection(reader, writer, self._on_conn_closed)
            if self._key is None:
                return conn
            try:
                msg = await self._call_on(conn, "auth", {"key": self._key})
            except BaseException:  # including the cancellation of a timed-out or closed attempt
                conn.close(not_connected("authentication failed"))
                raise
            if msg.get("ok") is not True:
                conn.close(not_connected("authentication failed"))
                raise error_of("auth", msg)
            return conn

        where = self.unix_path or f"{self.host}:{self.port}"
        try:
            return await asyncio.wait_for(attempt(), self._connect_timeout)
        except asyncio.TimeoutError:
            raise not_connected(f"no connection to {where} within {self._connect_timeout} s") from None
        except StopgateConnectionError as e:
            raise not_connected(f"{where}: {e.message}") from None
        except (OSError, ssl.SSLError) as e:
            raise not_connected(f"cannot connect to {where}: {e}") from e

    async def _call_on(self, conn: Connection, op: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A request on a given connection outside the in-flight slots (used for ``auth``)."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        rid = next(self._ids)
        try:
            conn.submit(rid, RequestLine(op, fields, self.max_line_bytes).with_id(rid), fut, lambda: None)
        except NotSent:
            raise not_connected("the connection closed during set-up") from None
        await conn.drain()
        return await fut

    def _install(self, conn: Connection) -> None:
        self._conn = conn
        assert self._conn_fut is not None
        if self._conn_fut.done():
            self._conn_fut = asyncio.get_running_loop().create_future()
        self._conn_fut.set_result(conn)

    def _on_conn_closed(self, conn: Connection) -> None:
        # Called synchronously by the connection as it closes: from now on callers wait for
        # the next connection (or learn that none will come).
        if conn is not self._conn:
            return
        self._conn = None
        self._conn_fut = asyncio.get_running_loop().create_future()
        if self._closed:
            self._wake_waiters()
        elif not self._reconnect:
            self._down = not_connected("the connection was lost and reconnect is off")
            self._wake_waiters()
        else:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    def _wake_waiters(self) -> None:
        if self._conn_fut is not None and not self._conn_fut.done():
            self._conn_fut.set_result(None)

    async def _reconnect_loop(self) -> None:
        delay = self._backoff_initial
        failures = 0
        while not self._closed:
            try:
                conn = await self._open()
            except StopgateConnectionError:
                failures += 1
                if self._max_reconnect_attempts is not None and failures >= self._max_reconnect_attempts:
                    self._down = not_connected(f"gave up after {failures} reconnect attempts")
                    self._wake_waiters()
                    return
                # Jitter keeps many clients of a restarted gateway from returning at once.
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(delay * 2, self._backoff_max)
                continue
            except StopgateError as e:  # auth refused: retrying cannot help
                self._down = e
                self._wake_waiters()
                return
            if self._closed:
                conn.close(StopgateConnectionError(CLOSED, "the client was closed"))
                return
            self.reconnects += 1
            self._install(conn)
            return

    async def _connection(self) -> Connection:
        """The live connection, waiting while a reconnect is under way."""
        while True:
            if self._down is not None:
                d = self._down
                # A fresh exception per caller: one instance raised many times grows its traceback.
                raise (StopgateConnectionError if isinstance(d, StopgateConnectionError) else StopgateError)(
                    d.code, d.message, op=d.op
                )
            if self._conn_fut is None:
                raise not_connected("connect() has not been called")
            conn = await asyncio.shield(self._conn_fut)
            if conn is not None and not conn.is_closed:
                return conn

    # ----------------------------------------------------------------- requests

    async def request(
        self,
        op: str,
        fields: Mapping[str, Any] | None = None,
        /,
        *,
        timeout: float | None = _UNSET,
        **kw: Any,
    ) -> dict[str, Any]:
        """Sends any op with the given fields (keyword arguments or a dict; None values are
        left out, ``from_`` is sent as ``from``) and returns the answer without ``id`` and
        ``ok``. Raises :class:`StopgateError` with the gateway's code on an error answer."""
        body = merge_fields(fields, kw)
        t = self.request_timeout if timeout is _UNSET else timeout
        if t is None:
            return await self._call(op, body)
        try:
            return await asyncio.wait_for(self._call(op, body), t)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no answer within {t} s", op=op) from None

    async def _call(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._slots is None:
            raise not_connected("connect() has not been called")
        line = RequestLine(op, body, self.max_line_bytes)  # refuses an unsendable request before any wait
        safe = retry_is_safe(op, body)
        loop = asyncio.get_running_loop()
        retries = 0
        while True:
            # The slot is released when the answer arrives or the connection ends, not when
            # this call returns: a call given up on (timeout, cancel) still holds its slot
            # until the gateway is done with it.
            await self._take_slot()
            try:
                conn = await self._connection()
                rid = next(self._ids)
                fut: asyncio.Future[dict[str, Any]] = loop.create_future()
                conn.submit(rid, line.with_id(rid), fut, self._release_slot)
            except NotSent:
                self._release_slot()
                continue  # never written: safe to send on the next connection whatever the op
            except BaseException:
                self._release_slot()
                raise
            await conn.drain()
            try:
                msg = await fut
            except StopgateConnectionError as e:
                if e.code != CLOSED and safe and self._reconnect and retries < self._retries:
                    retries += 1
                    continue
                raise StopgateConnectionError(e.code, e.message, op=op) from None
            if msg.get("ok") is True:
                msg.pop("id", None)
                msg.pop("ok", None)
                return msg
            raise error_of(op, msg)

    # ----------------------------------------------------------------- ops
    # Each takes the op's fields as keyword arguments, and ``timeout=`` (seconds) like request().

    async def auth(self, key: str) -> dict[str, Any]:
        """Authenticates with an API key -> ``{"key": name, "roles": [...]}``. The key is kept
        and sent again on every reconnect. A wrong key raises ``unauthenticated`` and the
        gateway closes the connection (the client then reconnects with its previous key)."""
        out = await self.request("auth", key=key)
        self._key = key
        return out

    async def ping(self, **fields: Any) -> dict[str, Any]:
        """-> ``{"pong": True, "version": "..."}``."""
        return await self.request("ping", **fields)

    async def check(self, to: str | list[str], **fields: Any) -> Any:
        """May these numbers be contacted now? ``to`` is one number (-> the result dict:
        ``to``, ``decision``, ``reasons``, ``retry_at``?, ``evidence_id``?) or a list of at most
        ``max_batch`` (-> the list of results in the same order). Fields: ``sender``,
        ``channel``, ``purpose``, ``tech``, ``campaign``, ``at``, ``commit``."""
        if isinstance(to, str):
            return (await self.request("check", to=to, **fields))["result"]
        return (await self.request("check", to=list(to), **fields))["results"]

    async def check_many(
        self, numbers: Iterable[str], *, chunk_size: int | None = None, window: int = 8, **fields: Any
    ) -> list[dict[str, Any]]:
        """Checks any number of numbers, split into batches of at most ``chunk_size``
        (default ``max_batch``), up to ``window`` batches in flight; results in input order."""
        return [r async for r in self.iter_check(numbers, chunk_size=chunk_size, window=window, **fields)]

    async def iter_check(
        self, numbers: Iterable[str], *, chunk_size: int | None = None, window: int = 8, **fields: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Like :meth:`check_many`, yielding results in input order as they come; reads
        ``numbers`` lazily, so at most ``window`` batches are held at a time."""
        async for r in iter_batches(
            lambda chunk: self.check(chunk, **fields), numbers, chunk_size or self.max_batch, window
        ):
            yield r

    async def send(self, to: str, body: str, **fields: Any) -> dict[str, Any]:
        """Checks, then relays an SMS -> ``{"status": "sent"|"blocked"|"deferred"|"failed",
        "message_id", "reasons", ...}``. Fields: ``sender``, ``from_``, ``purpose``,
        ``campaign``, ``carrier``, ``idempotency_key`` (with one, a send lost with its
        connection is retried: the gateway answers a repeat with the first outcome)."""
        return await self.request("send", to=to, body=body, **fields)

    async def consent(
        self, to: str, *, kind: str, captured_at: str | dt.datetime, source: Mapping[str, Any], **fields: Any
    ) -> dict[str, Any]:
        """Records consent -> ``{"consent_id", "evidence_id", "to"}``. ``kind``:
        ``express_written`` | ``express`` | ``ebr_purchase`` | ``ebr_inquiry``; ``source``:
        ``{"method": "web_form"|"keyword"|"verbal"|"paper", "url", "ip", "user_agent", "text",
        "proof"}`` (``text`` required for ``express_written``). Fields: ``sender``,
        ``expires_at``."""
        return await self.request(
            "consent", to=to, kind=kind, captured_at=captured_at, source=dict(source), **fields
        )

    async def optin(
        self, to: str, *, kind: str, captured_at: str | dt.datetime, source: Mapping[str, Any], **fields: Any
    ) -> dict[str, Any]:
        """Lifts a sender's opt-out with fresh consent (the fields of :meth:`consent`) ->
        ``{"consent_id", "optout_lifted", "evidence_id", ...}``."""
        return await self.request(
            "optin", to=to, kind=kind, captured_at=captured_at, source=dict(source), **fields
        )

    async def optout(self, to: str, *, sender: str | None = None, source: Mapping[str, Any] | None = None,
                     **fields: Any) -> dict[str, Any]:
        """Records an opt-out received outside SMS -> ``{"evidence_id", "to", "sender"}``.
        ``sender="*"`` opts out of every sender; ``source``: ``{"channel", "note"}``."""
        return await self.request(
            "optout", to=to, sender=sender, source=dict(source) if source is not None else None, **fields
        )

    async def lookup(self, to: str, **fields: Any) -> dict[str, Any]:
        """Everything held about a number: lists, opt-outs, consents, counters, zones,
        evidence ids."""
        return await self.request("lookup", to=to, **fields)

    async def forget(self, to: str, **fields: Any) -> dict[str, Any]:
        """A data-subject deletion request -> ``{"erased", "kept", "why", "evidence_id", ...}``."""
        return await self.request("forget", to=to, **fields)

    async def stats(self, **fields: Any) -> dict[str, Any]:
        """The gateway's counters (role ``admin``)."""
        return await self.request("stats", **fields)


async def connect(host: str = "127.0.0.1", port: int = 7600, **options: Any) -> Client:
    """Creates a :class:`Client` with ``options`` and connects it."""
    return await Client(host, port, **options).connect()
