"""Errors the client raises: the gateway's error answers and the client's own failures."""

from __future__ import annotations

from typing import Any

#: Codes the client itself uses (the gateway's codes are in docs/SOCKET_API.md).
CONNECTION_LOST = "connection_lost"  # the request was sent; the connection dropped before its answer
NOT_CONNECTED = "not_connected"  # the request was never sent: no connection and none coming
CLOSED = "closed"  # the client was closed by its owner
TIMEOUT = "timeout"  # no answer within the request's timeout; the gateway may still act on it
BAD_RESPONSE = "bad_response"  # the gateway answered something this client cannot read


class StopgateError(Exception):
    """An op failed.

    ``code`` is the gateway's error code (``bad_request``, ``invalid_number``, ``forbidden``,
    ``batch_too_large``, ``store_unavailable``, ...) or one of the client's own codes above;
    ``message`` is the gateway's (or the client's) explanation. ``op`` names the op that
    failed and ``response`` holds the gateway's whole answer when there was one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        op: str | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if op is None else f"{op}: {code}: {message}")
        self.code = code
        self.message = message
        self.op = op
        self.response = response


class StopgateConnectionError(StopgateError):
    """The connection failed around the request.

    ``code`` says what is known about the request: ``connection_lost`` (it was sent, so the
    gateway may or may not have acted on it), ``not_connected`` (it was never sent) or
    ``closed`` (the client was closed).
    """


class RequestTimeout(StopgateError):
    """No answer arrived within the request's timeout (code ``timeout``). The request was
    sent, so the gateway may still carry it out."""

    def __init__(self, message: str, *, op: str | None = None) -> None:
        super().__init__(TIMEOUT, message, op=op)
