"""Answers written without re-encoding: a stored decision goes out as the JSON it was kept as."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import Response

from api.store.records import StoredDecision

__all__ = ["decision_headers", "decision_response", "location"]


def location(collection: str, identifier: str) -> str:
    """``collection/<identifier percent-encoded>``: a header value of ASCII only, whatever
    the id, that addresses exactly that id (a ``/`` in it is ``%2F``)."""
    return f"{collection}/{quote(identifier, safe='')}"


def decision_headers(decision_id: str) -> dict[str, str]:
    """The headers of a stored decision's answer; built before the write that stores it."""
    return {"Location": location("/v1/decisions", decision_id)}


def decision_response(stored: StoredDecision, *, status_code: int = 200,
                      headers: dict[str, str] | None = None) -> Response:
    """``{…the envelope…, "decision": <the stored decision JSON>}`` (see DecisionEnvelope).

    ``headers``: those built before the write (:func:`decision_headers`), else built here."""
    envelope = json.dumps(stored.envelope(), ensure_ascii=False, separators=(",", ":"))
    content = f'{envelope[:-1]},"decision":{stored.decision_json}}}'
    return Response(content=content, media_type="application/json", status_code=status_code,
                    headers=headers if headers is not None else decision_headers(stored.id))
