"""Long lists of numbers as `check` batches: cut lazily, a bounded window in flight, results
in input order."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable

from .errors import BAD_RESPONSE, StopgateError

Results = list[dict[str, Any]]


async def iter_batches(
    check: Callable[[list[str]], Awaitable[Any]], numbers: Iterable[str], size: int, window: int
) -> AsyncIterator[dict[str, Any]]:
    """Yields the result of every number in order. ``check`` answers one batch; at most
    ``window`` batches are in flight and read from ``numbers`` at a time. A failed batch
    raises (the batches after it are cancelled)."""
    if size < 1 or window < 1:
        raise ValueError("chunk_size and window must be at least 1")
    it = iter(numbers)
    loop = asyncio.get_running_loop()
    inflight: deque[asyncio.Task[Results]] = deque()

    async def one(chunk: list[str]) -> Results:
        results = await check(chunk)
        if not isinstance(results, list) or len(results) != len(chunk):
            raise StopgateError(BAD_RESPONSE, "a batch answer does not have one result per number", op="check")
        return results

    try:
        while True:
            while len(inflight) < window:
                chunk = list(itertools.islice(it, size))
                if not chunk:
                    break
                inflight.append(loop.create_task(one(chunk)))
            if not inflight:
                return
            for r in await inflight.popleft():
                yield r
    finally:
        for t in inflight:
            t.cancel()
        for t in inflight:
            try:
                await t
            except BaseException:
                pass
