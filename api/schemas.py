"""HTTP envelopes: the request bodies of the service, the error body, and how both are read.

Bodies are read by the service itself, not by FastAPI's validation, so every
invalid input gets the same answer as on the command line: 422, a problem
details object (``api.errors``) whose ``fields`` are ``[{"field", "rule",
"message"}]``. An
assessment is validated by ``engine.parse_assessment`` (the very messages of
``sprintclear evaluate``); the other bodies by the models below, whose errors
are translated the same way. The models still document the bodies in OpenAPI.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from api.store.records import ReportInfo, Signoff
from engine.assessment import Assessment, parse_assessment_json
from engine.decision import Decision
from rules.dictionary import (
    FIELDS_BY_PATH,
    MUSCLES_BY_REGION,
    SINGLE_LINE_TEXT,
    SINGLE_LINE_TEXT_PROBLEM,
    BamicGrade,
    Mechanism,
    Muscle,
    PhaseId,
    Region,
    Side,
)
from rules.errors import InvalidAssessment, InvalidInput, Problem

__all__ = [
    "AthleteIn",
    "DecisionEnvelope",
    "ErrorField",
    "InjuryIn",
    "KeyIn",
    "ProblemBody",
    "SignoffIn",
    "SignoffResult",
    "parse_assessment_body",
    "parse_body",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

# An athlete created here must be one whose assessments are valid: its id and names follow
# the data dictionary's rules for athlete.id and athlete.name (one definition for both).
_ID, _NAME = FIELDS_BY_PATH["athlete.id"], FIELDS_BY_PATH["athlete.name"]
AthleteId = Annotated[str, StringConstraints(min_length=_ID.min_length, max_length=_ID.max_length,
                                             pattern=_ID.pattern)]
NameText = Annotated[str, StringConstraints(min_length=1, max_length=_NAME.max_length,
                                            pattern=SINGLE_LINE_TEXT, strip_whitespace=True)]
# The choices of the data dictionary, defined once there as Literal types.
Grade = BamicGrade
RoleId = Literal["clinician", "auditor", "insurer", "admin"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AthleteIn(_Body):
    """A new athlete. The id is the one the athlete's assessments carry in ``athlete.id``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "FC-23", "name": "Jonas Berg", "sport": "football", "position": "right winger"}]})

    id: AthleteId = Field(description=f"{_ID.pattern_text} (the id rule of athlete.id): it is "
                                      "a path segment of every /v1/athletes/{id} route")
    name: NameText | None = None
    sport: NameText | None = None
    position: NameText | None = None


class InjuryIn(_Body):
    """A new injury episode of an athlete: region, side and date identify it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"region": "hamstring", "side": "right", "date": "2026-02-10",
         "muscle": "biceps_femoris_long_head", "bamic_grade": "2a", "mechanism": "sprinting"}]})

    region: Region
    side: Side
    date: Annotated[dt.date, Field(strict=False, description="ISO date YYYY-MM-DD")]
    muscle: Muscle | None = None
    bamic_grade: Grade | None = None
    mechanism: Mechanism | None = None

    def problems(self) -> list[Problem]:
        if self.muscle is not None and self.muscle not in MUSCLES_BY_REGION[self.region]:
            return [Problem("muscle", "muscle_region",
                            f"{self.muscle} is not a {self.region} muscle")]
        return []


class SignoffIn(_Body):
    """A clinician's sign-off: accept the recommendation, or override it with a reason."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"action": "accept"},
        {"action": "override", "phase": "run",
         "reason": "Grade 3 injury on day 17: hold sprinting until day 21 whatever the tests"}]})

    action: Literal["accept", "override"]
    phase: PhaseId | None = Field(default=None,
                                  description="The phase signed (override: required)")
    reason: Annotated[str, StringConstraints(max_length=4000)] | None = Field(
        default=None, description="Why (override: required)")
    acknowledged: list[Annotated[str, StringConstraints(max_length=20)]] | None = Field(
        default=None, max_length=40,
        description="The ids of the decision's red flags, holds and cautions the clinician "
                    "acknowledges (recorded with the sign-off); optional")


class SignoffResult(Signoff):
    """The stored sign-off, and the signed report issued with it."""

    report: ReportInfo | None = Field(
        default=None, description="The report issued at this sign-off (null when the service "
                                  "has no signing key, or when it could not be issued)")
    report_problem: str | None = Field(
        default=None, description="Why the report was not issued although the service signs "
                                  "reports; issue it with POST /v1/decisions/{id}/report")


class KeyIn(_Body):
    """A new API key for a person or a system."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"role": "clinician", "name": "Dr. L. Brandt"}]})

    role: RoleId
    name: NameText


class ErrorField(BaseModel):
    field: str = Field(description="Dotted path of the offending field (pain.rest)")
    rule: str = Field(description="Short stable code of the rule it broke (range)")
    message: str


class ProblemBody(BaseModel):
    """Every error answer of the service: RFC 9457 problem details (``application/problem+json``)
    with the extension member ``fields``."""

    model_config = ConfigDict(title="Problem", extra="allow", json_schema_extra={"examples": [
        {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
         "detail": "the assessment is not valid: 1 problem",
         "fields": [{"field": "pain.rest", "rule": "range",
                     "message": "must be between 0 and 10 (got 11)"}]},
        {"type": "about:blank", "title": "Not Found", "status": 404,
         "detail": "no athlete FC-99", "fields": []}]})

    type: str = Field(default="about:blank", description="The problem type (RFC 9457 §3.1.1): "
                      "about:blank, the status says what kind of error it is")
    title: str = Field(description="The status's phrase (Unprocessable Content)")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What happened, in words")
    fields: list[ErrorField] = Field(description="Each offending field with the rule it "
                                     "broke; empty when the error is not about a field")


class DecisionEnvelope(BaseModel):
    """A stored decision: where it belongs, its sign-off and report, and the full decision."""

    id: str
    assessment_id: str
    athlete_id: str
    injury_id: str
    superseded_by: str | None
    rulebase_version: str
    decided_at: str
    decision_sha256: str
    signoff: Signoff | None
    report: ReportInfo | None
    decision: Decision


def parse_assessment_body(raw: bytes) -> Assessment:
    """Validate an assessment body with the engine; JSON the engine cannot read is a 422 too."""
    try:
        return parse_assessment_json(raw)
    except (ValueError, RecursionError) as exc:
        # json refuses integers of over 4,300 digits (ValueError) and nests deeper than
        # the interpreter's recursion limit (RecursionError); neither is an engine case
        raise InvalidAssessment("the assessment is not valid JSON", [
            Problem("<input>", "json", f"is not valid JSON ({_reason(exc)})")]) from exc


def parse_body(model: type[ModelT], raw: bytes, what: str) -> ModelT:
    """Read a JSON body into ``model``; every problem is named by its field path."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"the {what} is not valid JSON", [
            Problem("<input>", "json", f"is not valid JSON ({_reason(exc)})")]) from exc
    if not isinstance(data, Mapping):
        raise InvalidInput(f"the {what} is not valid", [
            Problem("<input>", "object", "must be a JSON object")])
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"the {what} is not valid",
                           [_problem(error) for error in exc.errors(include_url=False)]
                           ) from exc
    problems = list(parsed.problems()) if hasattr(parsed, "problems") else []
    problems += [Problem(path, "nul_character", "must not contain the NUL character (\\u0000)")
                 for path, value in data.items() if isinstance(value, str) and "\x00" in value]
    if problems:
        raise InvalidInput(f"the {what} is not valid", problems)
    return parsed


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split(";")[0].split(": line")[0]


_RULES = {"missing": "required", "extra_forbidden": "unknown_field", "literal_error": "choice",
          "enum": "choice", "string_too_short": "length", "string_too_long": "length",
          "string_type": "text", "date_from_datetime_parsing": "date", "date_parsing": "date",
          "date_type": "date", "int_type": "integer", "bool_type": "boolean"}


def _problem(error: Mapping[str, Any]) -> Problem:
    path = ".".join(str(part) for part in error["loc"]) or "<input>"
    kind = str(error["type"])
    rule = _RULES.get(kind, "date" if kind.startswith("date") else kind)
    if kind == "string_pattern_mismatch":
        if error.get("ctx", {}).get("pattern") == _ID.pattern:
            return Problem(path, "pattern", f"must be {_ID.pattern_text} "
                                            f"(got {json.dumps(error.get('input'))[:60]})")
        return Problem(path, "text", SINGLE_LINE_TEXT_PROBLEM)
    if rule == "required":
        message = "is required"
    elif rule == "unknown_field":
        message = "is not a field of this request"
    else:
        message = f"{str(error['msg'])[0].lower()}{str(error['msg'])[1:]}"
        given = error.get("input")
        if isinstance(given, str | int | float | bool) and rule != "length":
            message += f" (got {json.dumps(given)[:60]})"
    return Problem(path, rule, message)
