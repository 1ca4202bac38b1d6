"""The OpenAPI document fuzzed for every role (schemathesis, in process): no server error.

For each role a key is created; every operation of ``/openapi.json`` is called
with cases schemathesis generates from the document (valid and invalid ones,
a few per operation, reproducibly), over the ASGI transport. Path parameters
are either generated or, half of the time, the ids of a stored athlete,
injury, signed-off decision and a spare key, so the cases reach the stored
records too. Every answer must be below 500, and every error answer a problem
details object. The examples per operation are few on purpose: the whole
module stays under about a minute and a half (``max_examples`` below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi

from api.store import Principal

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MAX_EXAMPLES = 6
"""Per operation, generation mode and role: about 20 operations × 2 modes × 4 roles × 6 cases."""

OPERATOR = Principal(key_id=None, name="test operator", role="operator")


def _stored_ids(service: Service) -> dict[str, str]:
    """A stored athlete, injury and signed-off decision, and a key that may be revoked."""
    stored = service.stored_decision()
    signed = service.client.post(f"/v1/decisions/{stored['id']}/signoff",
                                 json={"action": "accept"}, headers=service.as_("clinician"))
    assert signed.status_code in (200, 201), signed.text
    spare = service.store.create_key(OPERATOR, role="auditor", name="spare key")
    return {"athlete_id": stored["athlete_id"], "injury_id": stored["injury_id"],
            "decision_id": stored["id"], "key_id": spare.info.id}


@pytest.mark.parametrize("role", ["clinician", "auditor", "insurer", "admin"])
@pytest.mark.usefixtures("report_signing")
def test_no_server_error_for_any_generated_request(service: Service, role: str) -> None:
    app: Any = service.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ids = _stored_ids(service)
    key = {"X-API-Key": service.keys[role]}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    with asgi.get_client(app) as client:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                          derandomize=True, suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
                def call(case: Any, real: bool) -> None:
                    if real and case.path_parameters:
                        case.path_parameters = {
                            name: ids.get(name, value)
                            for name, value in case.path_parameters.items()}
                    response = case.call(session=client, headers=key)
                    if response.status_code < 400:
                        return
                    body = response.content[:300].decode("utf-8", "replace")
                    where = (f"{role} {case.method} {case.formatted_path} "
                             f"→ {response.status_code}: {body}")
                    if response.status_code >= 500:
                        failures.append(where)
                    else:
                        media = response.headers.get("content-type", [""])
                        media = media[0] if isinstance(media, list) else media
                        if media != "application/problem+json":
                            failures.append(f"not a problem: {where}")

                try:
                    call()
                except Unsatisfiable:
                    # nothing of this operation can be made invalid (GET /healthz)
                    assert mode is GenerationMode.NEGATIVE, operation.label
    assert failures == []
