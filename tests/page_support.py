"""Page-test material: a small HTML reader, and a visitor that signs in and posts forms.

A :class:`Visitor` is a TestClient of its own (its own cookies); it signs in
through the sign-in page as a browser does, and posts forms with the CSRF
token of the page it last read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    """A page's elements by id, and all its text (tags removed, spaces collapsed)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.ids: dict[str, Element] = {}
        self.elements: list[Element] = []
        self._open: list[tuple[str, Element, list[str]]] = []
        self._all: list[str] = []
        self.feed(html)
        self.text = " ".join(" ".join(self._all).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.elements.append(element)
        if "id" in element.attrs:
            self.ids[element.attrs["id"]] = element
        if tag not in VOID:
            self._open.append((tag, element, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, element, parts = self._open.pop()
            element.text = " ".join(" ".join(parts).split())
            if self._open:
                self._open[-1][2].append(element.text)
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        self._all.append(data)
        if self._open:
            self._open[-1][2].append(data)

    def by_id(self, identifier: str) -> Element:
        assert identifier in self.ids, f"no element #{identifier}"
        return self.ids[identifier]

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and
                all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


@dataclass
class Visitor:
    """A browser of the pages with its own cookies; signed in with ``key`` unless None."""

    client: TestClient
    role: str | None
    last: str = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, follow_redirects=False, **kwargs)
        if response.headers.get("content-type", "").startswith("text/html"):
            self.last = response.text
        return response

    def page(self, path: str) -> Page:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return Page(response.text)

    def token(self) -> str:
        found = TOKEN.search(self.last)
        assert found, "the last page had no form token"
        return found.group(1)

    def post(self, path: str, fields: dict[str, str] | Sequence[tuple[str, str]],
             *, token: str | None = "page") -> Any:
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if token is not None:
            pairs.insert(0, ("csrf_token", self.token() if token == "page" else token))
        response = self.client.post(
            path, content=urlencode(pairs), follow_redirects=False,
            headers={"content-type": "application/x-www-form-urlencoded"})
        if response.headers.get("content-type", "").startswith("text/html"):
            self.last = response.text
        return response


def sign_in(client: TestClient, key: str) -> Any:
    """What a browser does: open the sign-in page, post the key with the form's token."""
    form = client.get("/signin")
    token = TOKEN.search(form.text)
    assert token, form.text[:300]
    return client.post("/signin", data={"csrf_token": token.group(1), "api_key": key},
                       follow_redirects=False)
