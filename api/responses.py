"""Answers written without re-encoding: a stored decision goes out as the JSON it was kept as."""

from __future__ import annotations

import json

from fastapi import Response

from api.store.records import StoredDecision

__all__ = ["decision_response"]


def decision_response(stored: StoredDecision, *, status_code: int = 200) -> Response:
    """``{…the envelope…, "decision": <the stored decision JSON>}`` (see DecisionEnvelope)."""
    envelope = json.dumps(stored.envelope(), ensure_ascii=False, separators=(",", ":"))
    content = f'{envelope[:-1]},"decision":{stored.decision_json}}}'
    return Response(content=content, media_type="application/json", status_code=status_code,
                    headers={"Location": f"/v1/decisions/{stored.id}"})
