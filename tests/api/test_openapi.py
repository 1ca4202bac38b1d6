"""The OpenAPI document: every operation described, bodies with schemas and examples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

import pytest
from support import load_example

from api.openapi import ASSESSMENT_EXAMPLES
from api.roles import Role
from api.schemas import Grade, InjuryIn, Mechanism, Muscle, PhaseId, RoleId
from engine import parse_assessment
from rules.dictionary import FIELDS_BY_PATH, PHASE_IDS

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _document(service: Service) -> dict[str, Any]:
    document: dict[str, Any] = service.client.get("/openapi.json").json()
    return document


def test_every_operation_is_described_with_its_errors(service: Service) -> None:
    """Each operation has a summary; each keyed one documents 401 and 403; every error answer
    documented is a problem details object (application/problem+json)."""
    document = _document(service)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            if path != "/healthz":
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                assert list(answer["content"]) == ["application/problem+json"], (method, path)
                schema = answer["content"]["application/problem+json"]["schema"]
                assert schema["$ref"] == "#/components/schemas/Problem", (method, path, status)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "fields"} <= set(problem["properties"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_body_has_a_schema_and_examples(service: Service) -> None:
    """Each POST that reads a body documents its schema, which exists, and examples."""
    document = _document(service)
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        post = operations.get("post")
        if post is None or path.endswith(("/revoke", "/report", "/v1/replays",
                                          "/v1/reports/issues")):  # no body to read
            continue
        content = post["requestBody"]["content"]["application/json"]
        name = content["schema"]["$ref"].rsplit("/", 1)[1]
        assert name in schemas, path
        assert content["examples"], path


def test_decision_answers_are_documented_as_decisions(service: Service) -> None:
    """The evaluate answer is the Decision schema; a stored one the envelope around it."""
    paths = _document(service)["paths"]
    evaluate = paths["/v1/evaluate"]["post"]["responses"]["200"]["content"]["application/json"]
    assert evaluate["schema"]["$ref"].endswith("/Decision")
    read = paths["/v1/decisions/{decision_id}"]["get"]["responses"]["200"]["content"]
    assert read["application/json"]["schema"]["$ref"].endswith("/DecisionEnvelope")


def test_the_assessment_examples_are_valid_and_one_is_an_example_file(service: Service) -> None:
    """The documented assessment examples validate; the sprint one is its examples/ file."""
    for example in ASSESSMENT_EXAMPLES.values():
        parse_assessment(example["value"])
    assert ASSESSMENT_EXAMPLES["cleared_to_sprint"]["value"] == load_example(
        "hamstring-winger-cleared-to-sprint")


def test_the_assessment_schema_has_every_group(service: Service) -> None:
    """The documented assessment has the groups of protocol section 7, prefixed components."""
    schemas = _document(service)["components"]["schemas"]
    assert set(schemas["Assessment"]["properties"]) >= {"athlete", "injury", "assessment",
                                                        "pain", "strength", "sprint"}
    assert "Assessment_Pain" in schemas


def test_request_choices_are_the_data_dictionarys(service: Service) -> None:
    """The injury, sign-off and key bodies allow exactly the dictionary's and roles' values."""
    assert get_args(Muscle) == FIELDS_BY_PATH["injury.muscle"].choices
    assert get_args(Grade) == FIELDS_BY_PATH["injury.bamic_grade"].choices
    assert get_args(Mechanism) == FIELDS_BY_PATH["injury.mechanism"].choices
    assert get_args(PhaseId) == PHASE_IDS
    assert get_args(RoleId) == tuple(role.value for role in Role)
    assert set(get_args(InjuryIn.model_fields["region"].annotation)) == set(
        FIELDS_BY_PATH["injury.region"].choices)


def test_the_signoff_examples_are_valid_and_one_confirms_an_override_above(
        service: Service) -> None:
    """Every documented sign-off body reads as a SignoffIn; one is an override above the
    recommendation carrying ``confirm_above`` = its phase, and the field is described."""
    import json

    from api.schemas import SignoffIn, parse_body

    document = _document(service)
    content = document["paths"]["/v1/decisions/{decision_id}/signoff"]["post"][
        "requestBody"]["content"]["application/json"]
    values = [example["value"] for example in content["examples"].values()]
    for value in values:
        parse_body(SignoffIn, json.dumps(value).encode("utf-8"), "sign-off")
    assert any(v.get("confirm_above") and v["confirm_above"] == v.get("phase") for v in values)
    field = document["components"]["schemas"]["SignoffIn"]["properties"]["confirm_above"]
    assert "ABOVE" in field["description"]
