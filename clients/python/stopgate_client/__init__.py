"""Reference client for the stopgate socket API (NDJSON over TCP, TLS or a unix socket).

    import asyncio, stopgate_client

    async def main():
        async with await stopgate_client.connect("127.0.0.1", 7600, key="sg_...") as gw:
            print(await gw.check("+12125552671", sender="acme"))

    asyncio.run(main())

See README.md beside this package.
"""

from .client import Client, connect, retry_is_safe
from .errors import (
    BAD_RESPONSE,
    CLOSED,
    CONNECTION_LOST,
    NOT_CONNECTED,
    TIMEOUT,
    RequestTimeout,
    StopgateConnectionError,
    StopgateError,
)

__version__ = "0.1.0"

__all__ = [
    "BAD_RESPONSE",
    "CLOSED",
    "CONNECTION_LOST",
    "NOT_CONNECTED",
    "TIMEOUT",
    "Client",
    "RequestTimeout",
    "StopgateConnectionError",
    "StopgateError",
    "connect",
    "retry_is_safe",
]
