"""`sprintclear serve --workers N`: one listening socket per worker (sprintclear.workers)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from sprintclear.workers import reuse_port_available, worker_sockets

pytestmark = pytest.mark.skipif(not reuse_port_available(), reason="no SO_REUSEPORT here")


@contextmanager
def _sockets(workers: int, port: int = 0) -> Iterator[list[socket.socket]]:
    sockets = worker_sockets(socket.AF_INET, ("127.0.0.1", port), workers)
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def _accept_all(sock: socket.socket) -> int:
    sock.setblocking(False)
    accepted = 0
    while True:
        try:
            connection, _ = sock.accept()
        except BlockingIOError:
            return accepted
        connection.close()
        accepted += 1


def test_each_worker_gets_its_own_socket_on_one_port() -> None:
    with _sockets(3) as sockets:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) == 3 and len(ports) == 1 and ports != {0}
        assert len({sock.fileno() for sock in sockets}) == 3
        assert all(sock.get_inheritable() for sock in sockets)


def test_new_connections_are_spread_over_the_workers_sockets() -> None:
    """The kernel hashes each connection to one socket: 64 connections all on one of two
    sockets would happen once in 2**63 runs; a shared socket would give one worker all
    that it accepts at once (the 93/1 split seen in bench/service.py)."""
    with _sockets(2) as sockets, ExitStack() as stack:
        port = sockets[0].getsockname()[1]
        for _ in range(64):
            stack.enter_context(socket.create_connection(("127.0.0.1", port)))
        counts = [_accept_all(sock) for sock in sockets]
    assert sum(counts) == 64
    assert min(counts) >= 8, counts


def test_a_port_in_use_is_refused_not_shared() -> None:
    """A second server on the same port fails as it would with one socket, instead of
    silently taking half of the first one's connections."""
    with _sockets(2) as sockets:
        port = sockets[0].getsockname()[1]
        with pytest.raises(OSError):
            worker_sockets(socket.AF_INET, ("127.0.0.1", port), 2)
    with socket.create_server(("127.0.0.1", 0)) as plain, pytest.raises(OSError):
        worker_sockets(socket.AF_INET, ("127.0.0.1", plain.getsockname()[1]), 2)


def test_the_sockets_listen_before_any_worker_starts() -> None:
    """Regression (review): bound but not yet listening while the workers started, the
    port let a second server's probe and sockets bind it too, and both then listened."""
    with _sockets(2) as sockets:
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) for sock in sockets)
        port = sockets[0].getsockname()[1]
        with pytest.raises(OSError):
            worker_sockets(socket.AF_INET, ("127.0.0.1", port), 2)


def test_serve_refuses_a_port_in_use_with_several_workers() -> None:
    from sprintclear.service_cli import _listening_socket

    with _sockets(2) as sockets:
        port = sockets[0].getsockname()[1]
        with pytest.raises(SystemExit):
            _listening_socket("127.0.0.1", port, workers=2)


def test_a_replacement_worker_is_started_on_the_socket_of_the_one_it_replaces() -> None:
    """uvicorn's own restart step runs once per worker with that worker's socket alone,
    so worker *i*, replaced, listens on socket *i* again (no socket left unserved)."""
    from sprintclear.workers import WorkerSockets

    supervisor = WorkerSockets.__new__(WorkerSockets)  # no signal handlers in a test
    first, second = object(), object()
    supervisor._own = [first, second]  # type: ignore[list-item]
    supervisor.sockets = [first, second]  # type: ignore[list-item]
    supervisor.processes = ["worker 0", "worker 1"]  # type: ignore[list-item]
    seen = []

    def restart_the_dead_one() -> None:
        seen.append(list(supervisor.sockets))
        if supervisor.processes == ["worker 1"]:
            supervisor.processes[0] = "replacement of worker 1"  # type: ignore[call-overload]

    for index in range(2):
        supervisor._in_slot(index, restart_the_dead_one)
    assert seen == [[first], [second]]
    assert supervisor.processes == ["worker 0", "replacement of worker 1"]
    assert supervisor.sockets == [first, second]
