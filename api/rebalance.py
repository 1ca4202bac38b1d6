"""Spread keep-alive clients over the service's worker processes.

``sprintclear serve --workers N`` runs N processes accepting on one socket: the
kernel hands each new *connection* to one of them, and a keep-alive client
then sends every request on that connection to that worker. A few busy
clients (a clinic's integration, a batch uploader, a benchmark) can so load one
worker while another idles. This middleware answers the ``max_requests``-th
request of a connection with ``Connection: close``; the client's next request
opens a new connection, which any worker may accept. One TCP handshake per
``max_requests`` requests (loopback: ~0.1 ms) buys the rebalancing.

A connection is known by its client address and port (``scope["client"]``); at
most ``_TRACKED`` connections are counted (the oldest forgotten first), so a
worker's memory stays bounded however many clients come and go.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

__all__ = ["RebalanceKeepAlive"]

_TRACKED = 4096

Scope = dict[str, Any]


class RebalanceKeepAlive:
    """ASGI middleware: ``Connection: close`` on every ``max_requests``-th request of a
    keep-alive connection (0: never)."""

    def __init__(self, app: Any, max_requests: int = 100) -> None:
        self.app = app
        self.max_requests = max_requests
        self._counts: OrderedDict[tuple[str, int], int] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not self.max_requests or not client:
            await self.app(scope, receive, send)
            return
        key = (str(client[0]), int(client[1]))
        count = self._counts.pop(key, 0) + 1
        if count < self.max_requests:
            self._counts[key] = count
            while len(self._counts) > _TRACKED:
                self._counts.popitem(last=False)
            await self.app(scope, receive, send)
            return

        async def closing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)
