"""The protocol's JSON lines: request lines (encoded once, the id spliced in per attempt),
fields as the gateway reads them, and error answers as exceptions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from .errors import BAD_RESPONSE, StopgateError


def rfc3339(t: dt.datetime) -> str:
    """An aware datetime as the gateway reads it: UTC, ``Z``, microseconds when not zero."""
    if t.tzinfo is None:
        raise TypeError("datetime values need a time zone (a naive datetime is ambiguous)")
    t = t.astimezone(dt.timezone.utc)
    frac = f".{t.microsecond:06d}" if t.microsecond else ""
    return t.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def _json_default(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return rfc3339(v)
    if isinstance(v, (tuple, set, frozenset)):
        return list(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def merge_fields(fields: Mapping[str, Any] | None, kw: Mapping[str, Any]) -> dict[str, Any]:
    """Explicit fields and keyword fields together, without None values; ``from_`` (``from``
    is a Python keyword) becomes ``from``."""
    out: dict[str, Any] = dict(fields or {})
    for k, v in kw.items():
        out["from" if k == "from_" else k] = v
    out = {k: v for k, v in out.items() if v is not None}
    for reserved in ("op", "id"):
        if reserved in out:
            raise ValueError(f"{reserved!r} is set by the client, not a field")
    return out


class RequestLine:
    """One request's line without its id: ``{"op":OP,"id":`` + id + ``,FIELDS}\\n``.

    Raises ``bad_request`` for a string that is not valid Unicode (a lone surrogate would reach
    the gateway as an escape it refuses with an id-less ``bad_json``) and ``line_too_long`` for
    a line over ``max_line_bytes`` (the gateway would answer it with an id-less
    ``line_too_long``): both before anything is sent.
    """

    def __init__(self, op: str, fields: Mapping[str, Any], max_line_bytes: int) -> None:
        self.op = op
        self._max = max_line_bytes
        try:
            # ensure_ascii=False, then UTF-8: the encoding is where a lone surrogate fails.
            self._head = ('{"op":' + json.dumps(op, ensure_ascii=False) + ',"id":').encode("utf-8")
            body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=_json_default)
            self._tail = (("," + body[1:]) if fields else "}").encode("utf-8") + b"\n"
        except UnicodeEncodeError as e:
            raise StopgateError("bad_request", f"a string is not valid Unicode: {e}", op=op) from None
        self._check(len(self._head) + 1 + len(self._tail) - 1, "at least ")

    def with_id(self, rid: int) -> bytes:
        digits = str(rid).encode()
        self._check(len(self._head) + len(digits) + len(self._tail) - 1, "")
        return self._head + digits + self._tail

    def _check(self, size: int, qualifier: str) -> None:
        if size > self._max:
            raise StopgateError(
                "line_too_long",
                f"the request is {qualifier}{size} bytes; the limit is {self._max} (not sent)",
                op=self.op,
            )


def error_of(op: str, msg: dict[str, Any]) -> StopgateError:
    """An error answer as the exception the call raises."""
    err = msg.get("error")
    if not isinstance(err, dict):
        return StopgateError(BAD_RESPONSE, "an error answer without an error object", op=op, response=msg)
    return StopgateError(str(err.get("code")), str(err.get("message", "")), op=op, response=msg)
