"""Keep-alive clients are asked to reconnect every N requests (spread over workers)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.rebalance import RebalanceKeepAlive


def _app(max_requests: int) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def root() -> dict[str, Any]:
        return {}

    app.add_middleware(RebalanceKeepAlive, max_requests=max_requests)
    return app


def test_every_third_request_of_a_connection_closes_it() -> None:
    """With 3, requests 3 and 6 of one client connection say Connection: close; the others
    keep it open; another connection counts on its own."""
    with TestClient(_app(3), client=("10.0.0.1", 5000)) as client:
        closes = [client.get("/").headers.get("connection") for _ in range(6)]
    assert closes == [None, None, "close", None, None, "close"]
    with TestClient(_app(3), client=("10.0.0.2", 5001)) as other:
        assert other.get("/").headers.get("connection") is None


def test_zero_never_closes() -> None:
    with TestClient(_app(0)) as client:
        assert all(client.get("/").headers.get("connection") is None for _ in range(5))
