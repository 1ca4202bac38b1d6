"""Fixtures of the page tests: visitors signed in with one role's key (``page_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from page_support import Visitor, sign_in

if TYPE_CHECKING:
    from conftest import Service


@pytest.fixture
def visitors(service: Service) -> Iterator[Any]:
    """``visitors(role)``: a new signed-in visitor (``None``: not signed in)."""
    opened: list[TestClient] = []

    def make(role: str | None, *, key: str | None = None, base_url: str = "http://testserver"
             ) -> Visitor:
        client = TestClient(service.client.app, base_url=base_url)
        client.__enter__()
        opened.append(client)
        if role is not None or key is not None:
            response = sign_in(client, key or service.keys[role or ""])
            assert response.status_code == 303, response.text[:300]
        return Visitor(client=client, role=role)

    yield make
    for client in opened:
        client.__exit__(None, None, None)
