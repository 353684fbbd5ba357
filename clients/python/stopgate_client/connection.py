"""One open connection to the gateway: writes request lines, reads answer lines and hands
each answer to the request with the same ``id``."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

from .errors import CONNECTION_LOST, NOT_CONNECTED, StopgateConnectionError

Settle = Callable[[], None]


class NotSent(Exception):
    """The connection was already closed: the request was not written."""


class Connection:
    """A connection and the requests outstanding on it.

    Each request is registered under its id before its line is written; the reader resolves
    it with the answer carrying that id, in whatever order answers come. When the connection
    ends, every request still outstanding fails with the connection's error. ``settle`` of a
    request is called exactly once, when its answer arrives or the connection ends (the
    client uses it to release the request's in-flight slot).
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_closed: Callable[["Connection"], None],
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_closed = on_closed
        self._pending: dict[int, tuple[asyncio.Future[dict[str, Any]], Settle]] = {}
        self._error: StopgateConnectionError | None = None
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def is_closed(self) -> bool:
        return self._error is not None

    @property
    def write_buffer_size(self) -> int:
        return self._writer.transport.get_write_buffer_size()

    @property
    def outstanding(self) -> int:
        """Requests written and not yet answered."""
        return len(self._pending)

    def submit(self, rid: int, line: bytes, fut: asyncio.Future[dict[str, Any]], settle: Settle) -> None:
        """Registers the request and writes its line (buffered; see ``drain``).
        Raises NotSent when the connection is already closed."""
        if self._error is not None:
            raise NotSent()
        self._pending[rid] = (fut, settle)
        self._writer.write(line)

    async def drain(self) -> None:
        """Waits while the socket's send buffer is full (the gateway has stopped reading)."""
        if self._error is not None:
            return
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as e:
            self.close(StopgateConnectionError(CONNECTION_LOST, f"write failed: {e}"))

    def close(self, error: StopgateConnectionError) -> None:
        """Ends the connection; every outstanding request fails with ``error``."""
        if self._error is not None:
            return
        self._error = error
        pending, self._pending = self._pending, {}
        for fut, settle in pending.values():
            settle()
            if not fut.done():
                fut.set_exception(error)
        # Abort rather than close: nothing more is owed to the gateway, and a graceful TLS
        # shutdown could wait on a peer that is gone.
        self._writer.transport.abort()
        if self._task is not asyncio.current_task():
            self._task.cancel()
        self._on_closed(self)

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line or not line.endswith(b"\n"):
                    self.close(StopgateConnectionError(CONNECTION_LOST, "the gateway closed the connection"))
                    return
                if not line.strip():
                    continue
                self._deliver(line)
                if self._error is not None:
                    return
        except asyncio.CancelledError:
            raise
        except ValueError as e:  # a line longer than the reader's limit
            self.close(StopgateConnectionError(CONNECTION_LOST, f"unreadable answer: {e}"))
        except (ConnectionError, OSError) as e:  # resets, TLS errors
            self.close(StopgateConnectionError(CONNECTION_LOST, f"connection failed: {e}"))

    def _deliver(self, line: bytes) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            self.close(StopgateConnectionError(CONNECTION_LOST, "an answer is not JSON"))
            return
        rid = msg.get("id") if isinstance(msg, dict) else None
        entry = self._pending.pop(rid, None) if isinstance(rid, int) else None
        if entry is None:
            # An answer that matches no request (an id of null comes with line_too_long and
            # bad_json): the two sides disagree, so nothing may wait on this connection.
            err = msg.get("error") if isinstance(msg, dict) else None
            detail = f" ({err.get('code')}: {err.get('message')})" if isinstance(err, dict) else ""
            self.close(
                StopgateConnectionError(
                    CONNECTION_LOST, f"an answer with id {json.dumps(rid)} matches no request{detail}"
                )
            )
            return
        fut, settle = entry
        settle()
        if not fut.done():
            fut.set_result(msg)


def not_connected(message: str) -> StopgateConnectionError:
    return StopgateConnectionError(NOT_CONNECTED, message)
