"""OpenAPI documentation of bodies the service reads itself, with examples.

Routes read their bodies with the engine's validation (see ``api.schemas``),
so FastAPI cannot see them; :func:`body` writes the ``requestBody`` of such a
route, and :func:`install_openapi` adds the schemas it refers to: the
assessment model of the data dictionary (``engine.assessment.assessment_model``)
and the small request models. The assessment examples are
``examples/hamstring-winger-cleared-to-sprint.json`` and a first visit with
only the required groups (a test keeps the first equal to its file).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.errors import PROBLEM_JSON
from api.schemas import AthleteIn, InjuryIn, KeyIn, ProblemBody, SignoffIn
from engine.assessment import assessment_model

__all__ = ["ASSESSMENT_EXAMPLES", "assessment_body", "body", "error_responses",
           "install_openapi"]

WINGER_CLEARED_TO_SPRINT: dict[str, Any] = {"athlete": {"id": "FC-23",
             "name": "Jonas Berg",
             "sport": "football",
             "position": "right winger"},
 "injury": {"region": "hamstring",
            "muscle": "biceps_femoris_long_head",
            "side": "right",
            "date": "2026-02-10",
            "mechanism": "sprinting",
            "bamic_grade": "2a",
            "tendon_involved": False,
            "previous_same_site": 0},
 "assessment": {"date": "2026-03-17", "assessor": "Dr. A. Moreau", "profile": "standard"},
 "previous": {"phase": "run", "date": "2026-03-10"},
 "pain": {"rest": 0,
          "walking": 0,
          "palpation": 0,
          "isometric": 0,
          "stretch": 0,
          "exercise": 1,
          "running": 0,
          "sprint": 0,
          "next_morning": 0},
 "signs": {"swelling_increasing": False, "avulsion_suspected": False},
 "function": {"gait_normal": True, "single_leg_squat_pain_free": True},
 "running": {"max_pain_free_speed_pct": 95},
 "strength": {"isometric_90_90": {"injured": 297.5, "uninjured": 322.0},
              "isometric_90_20": {"injured": 205.0, "uninjured": 216.0},
              "nordic_n": {"injured": 318.0, "uninjured": 340.0}},
 "flexibility": {"passive_slr_deg": {"injured": 84, "uninjured": 87},
                 "ake_deg": {"injured": 74, "uninjured": 78},
                 "ake_discomfort": False,
                 "h_test_insecurity": 0},
 "hop": {"single_cm": {"injured": 182, "uninjured": 190},
         "triple_cm": {"injured": 560, "uninjured": 601}},
 "technique": {"posture": 2,
               "pelvic_control": 2,
               "foot_strike": 2,
               "shin_angle": 1,
               "arm_action": 2,
               "stable_under_fatigue": False},
 "sprint": {"max_velocity_mps": 8.9,
            "pre_injury_max_velocity_mps": 9.6,
            "gct_asymmetry_pct": 7.5,
            "repeated_sprint_passed": False,
            "deceleration_passed": True}}

FIRST_VISIT: dict[str, Any] = {
    "athlete": {"id": "FC-23"},
    "injury": {"region": "hamstring", "side": "right", "date": "2026-02-10"},
    "assessment": {"date": "2026-02-12"},
    "pain": {"rest": 2, "walking": 3},
    "signs": {"swelling_increasing": False, "avulsion_suspected": False},
}

ASSESSMENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "cleared_to_sprint": {
        "summary": "A winger cleared to sprint (examples/hamstring-winger-cleared-to-sprint)",
        "value": WINGER_CLEARED_TO_SPRINT},
    "first_visit": {
        "summary": "A first visit: only the required groups and two pain scores",
        "value": FIRST_VISIT},
}

_ASSESSMENT = "Assessment"
_PROBLEM = "Problem"
_BODY_MODELS: tuple[type[BaseModel], ...] = (AthleteIn, InjuryIn, SignoffIn, KeyIn)


def body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads a body of ``model`` itself."""
    schema = model.model_json_schema()
    examples = {f"example_{index}": {"value": value}
                for index, value in enumerate(schema.get("examples", []), 1)}
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}, "examples": examples}}}}


def assessment_body(description: str) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is one assessment document."""
    return {"requestBody": {"required": True, "description": description, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{_ASSESSMENT}"},
                             "examples": ASSESSMENT_EXAMPLES}}}}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {
        "schema": {"$ref": f"#/components/schemas/{_PROBLEM}"}}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route can give, all RFC 9457 problem details (``api.errors``)."""
    words = {401: "No API key, or an unknown or revoked one",
             403: "The key's role may not do this",
             404: "An id that does not exist",
             409: "The request contradicts what is stored",
             413: "The body is too large",
             422: "Invalid input: each offending field with the rule it broke",
             503: "The database is unavailable or a setting is missing"}
    return {status: _problem_response(words[status]) for status in statuses}


def _components() -> dict[str, Any]:
    """The schemas FastAPI cannot see; the assessment's groups are prefixed ``Assessment_``
    so that they cannot collide with the service's own ``Athlete`` or ``Injury``."""
    schemas: dict[str, Any] = {}
    assessment = assessment_model().model_json_schema(
        ref_template=f"#/components/schemas/{_ASSESSMENT}_{{model}}")
    for name, schema in assessment.pop("$defs", {}).items():
        schemas[f"{_ASSESSMENT}_{name}"] = schema
    schemas[_ASSESSMENT] = assessment
    problem = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas[_PROBLEM] = problem
    for model in _BODY_MODELS:
        schema = model.model_json_schema()
        assert "$defs" not in schema, model  # flat models only
        schemas[model.__name__] = schema
    return schemas


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the schemas of the self-read bodies added."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes,
                                   tags=app.openapi_tags)
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in _components().items():
                if name in components:
                    raise AssertionError(f"OpenAPI schema {name} is defined twice")
                components[name] = schema
            _validation_errors_as_problems(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _validation_errors_as_problems(document: dict[str, Any]) -> None:
    """FastAPI documents its own 422 (a query parameter out of range) with its
    ``HTTPValidationError`` body; the service answers every error as a problem."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            if answer is not None and "application/json" in answer.get("content", {}):
                operation["responses"]["422"] = _problem_response(
                    "Invalid input: each offending field with the rule it broke")
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
