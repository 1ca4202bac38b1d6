"""``sprintclear serve --workers N``: one listening socket per worker (SO_REUSEPORT).

uvicorn's supervisor hands every worker the same listening socket. Each worker's
event loop accepts every connection waiting when it wakes (asyncio accepts up to
the backlog at once), so a burst of new connections, such as 100 clients starting
together, often lands mostly on one worker: ``bench/service.py`` saw 69/33 and
93/1 splits of 102 keep-alive connections, and store-and-decide then ran at
107–112 requests/s with p99 1.2–1.3 s, against 152–170 requests/s and p99
0.8–0.9 s when the split was even (issue 11 item 5).

Here each worker gets a socket of its own, all bound to the same address with
``SO_REUSEPORT``, and the kernel spreads new connections over them by a hash of
the client's address and port: no worker can take another's share. A connection
that :class:`api.rebalance.RebalanceKeepAlive` closes comes back from a new port
and is spread again. Only processes of the same user may bind such a port
(Linux's rule for ``SO_REUSEPORT``). Without ``SO_REUSEPORT`` (not Linux or BSD)
the workers share one socket, as uvicorn does.

The supervisor is uvicorn's own (:class:`uvicorn.supervisors.Multiprocess`:
health checks, restarts, signals); only which socket a worker is started with
differs, worker *i* always on socket *i*, replacements included.

The trade-off: a connection waits for the worker its socket belongs to. While
a worker is busy (a request's decision and database work run on its event
loop) or is being replaced after a crash, the connections hashed to it wait in
its socket's queue, where a shared socket would have let another worker take
them. Keep-alive connections are pinned to one worker either way. On a
``SIGHUP`` restart, uvicorn's "stop if a replacement is not ready" applies to
each worker's slot on its own: a slot whose replacement is not ready keeps its
old worker and the next slot is still replaced.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["WorkerSockets", "reuse_port_available", "worker_sockets"]

_BACKLOG = 2048  # uvicorn's default; its server calls listen() again with its own


def reuse_port_available() -> bool:
    """Whether this platform has ``SO_REUSEPORT`` (Linux, the BSDs, macOS)."""
    return hasattr(socket, "SO_REUSEPORT")


def worker_sockets(family: socket.AddressFamily, address: tuple[str, int], workers: int
                   ) -> list[socket.socket]:
    """``workers`` sockets bound to ``address`` (port 0: one free port) with
    ``SO_REUSEPORT``, already listening.

    The address is first bound by a plain socket, which fails when anything listens
    there already: a second ``sprintclear serve`` on a port in use is refused, as with
    one socket, instead of silently taking half of the first one's connections.
    Raises ``OSError`` when the address cannot be bound."""
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
        address = probe.getsockname()[:2]
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            # Listening at once, in this process: a bound socket that does not listen yet
            # lets another SO_REUSEADDR socket bind the port (the probe of a second serve,
            # while the workers start), after which both servers would share it.
            sock.listen(_BACKLOG)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class WorkerSockets(Multiprocess):
    """uvicorn's supervisor, worker *i* listening on ``sockets[i]`` only."""

    def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
        if len(sockets) != config.workers:
            raise ValueError("one socket per worker")
        super().__init__(config, sockets)
        self._own = list(sockets)

    def init_processes(self) -> None:
        for sock in self._own:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        for index in range(len(self.processes)):
            self._in_slot(index, super().keep_subprocess_alive)

    def restart_all(self) -> None:
        for index in range(len(self.processes)):
            self._in_slot(index, super().restart_all)

    def _in_slot(self, index: int, step: Callable[[], None]) -> None:
        """Run one of uvicorn's steps over every process as if worker ``index`` were the
        only one, with its own socket: a replacement it starts gets that socket."""
        processes, sockets = self.processes, self.sockets
        self.processes, self.sockets = processes[index:index + 1], [self._own[index]]
        try:
            step()
        finally:
            processes[index:index + 1] = self.processes
            self.processes, self.sockets = processes, sockets
