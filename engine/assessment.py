"""The assessment input: validated against the data dictionary before anything is decided.

The pydantic model is built from ``rules.dictionary.INPUT_FIELDS`` (one source
of truth for names, kinds and ranges). Validation is strict: numbers are not
read from strings, ``1`` is not ``true``, whole numbers stay whole, values out
of range are rejected (never clamped), unknown fields are rejected (a misspelt
``pian`` must not silently become "not assessed"), and a key given twice is
rejected. The cross-field checks of protocol section 7 run on the same pass,
so one answer lists every problem of the document.

``parse_assessment`` returns an :class:`Assessment`; every problem raises one
:class:`~rules.errors.InvalidAssessment` naming each field path and the rule
it broke, e.g. ``pain.rest: must be between 0 and 10 (got 11)``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    create_model,
)

from rules.dictionary import (
    FIELDS_BY_PATH,
    GROUPS,
    INPUT_FIELDS,
    ISO_DATE_PATTERN,
    MUSCLES_BY_REGION,
    READABLE_FIELDS,
    REQUIRED_GROUPS,
    REVIEW_SUBFIELDS,
    SINGLE_LINE_TEXT,
    SINGLE_LINE_TEXT_PROBLEM,
    FieldKind,
    InputField,
    bamic_grade_number,
    bamic_site,
)
from rules.errors import InvalidAssessment, Problem

__all__ = ["Assessment", "Bilateral", "assessment_model", "parse_assessment",
           "parse_assessment_json"]


class Bilateral(NamedTuple):
    """A bilateral measure: both sides, in the field's unit."""

    injured: float
    uninjured: float


# ---- the pydantic model, built from the dictionary ------------------------------


class _DateProblem(ValueError):
    """A string of the form YYYY-MM-DD that is no calendar date (2026-02-30)."""


def _calendar_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _DateProblem("no such calendar date") from exc
    return value


_ISO_DATE = Annotated[str, Strict(), Field(pattern=ISO_DATE_PATTERN),
                      AfterValidator(_calendar_date)]
"""Section 7: an ISO date is a JSON string YYYY-MM-DD and nothing else. It is kept as that
string (a date with a time, a number or a timestamp is refused, never converted)."""


def _scalar_annotation(spec: InputField) -> Any:
    match spec.kind:
        case FieldKind.TEXT:
            return Annotated[str, Strict(), Field(min_length=spec.min_length,
                                                  max_length=spec.max_length,
                                                  pattern=spec.pattern or SINGLE_LINE_TEXT)]
        case FieldKind.CHOICE:
            return Literal[spec.choices]
        case FieldKind.DATE:
            return _ISO_DATE
        case FieldKind.REVIEW:
            return _review_model()
        case FieldKind.INTEGER:
            return Annotated[int, Strict(), Field(ge=spec.minimum, le=spec.maximum)]
        case FieldKind.NUMBER:
            return Annotated[float, Strict(), Field(ge=spec.minimum, le=spec.maximum,
                                                    allow_inf_nan=False)]
        case FieldKind.BOOLEAN:
            return Annotated[bool, Strict()]
        case FieldKind.BILATERAL:
            return _bilateral_model(spec.path)
    raise AssertionError(spec.kind)  # pragma: no cover


def _bilateral_model(path: str) -> type[BaseModel]:
    spec = FIELDS_BY_PATH[path]
    side: Any
    if spec.integer:
        side = Annotated[int, Strict(), Field(ge=spec.minimum, le=spec.maximum)]
    else:
        side = Annotated[float, Strict(), Field(ge=spec.minimum, le=spec.maximum,
                                                allow_inf_nan=False)]
    name = "".join(part.title() for part in path.replace(".", "_").split("_"))
    model: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"{spec.label} ({spec.unit}): both sides are needed.",
        injured=(side, Field(description=f"injured side, {spec.unit}")),
        uninjured=(side, Field(description=f"uninjured side, {spec.unit}; not 0")),
    )
    return model


@cache
def _review_model() -> type[BaseModel]:
    members: dict[str, Any] = {}
    for name, sub in REVIEW_SUBFIELDS.items():
        annotation = _scalar_annotation(sub)
        if sub.required:
            members[name] = (annotation, Field(description=_description(sub)))
        else:
            members[name] = (annotation | None, Field(default=None,
                                                      description=_description(sub)))
    model: type[BaseModel] = create_model(
        "PhysicianReview", __config__=ConfigDict(extra="forbid"),
        __doc__="A physician's review of the injury (R11): date, management, by whom.",
        **members)
    return model


def _description(spec: InputField) -> str:
    text = spec.label
    if spec.unit:
        text += f" ({spec.unit})"
    text += f"; {spec.range_text}"
    if spec.help:
        text += f"; {spec.help}"
    return text


@cache
def assessment_model() -> type[BaseModel]:
    """The pydantic model of an assessment document (nested groups, extra keys forbidden)."""
    group_models: dict[str, Any] = {}
    for group in GROUPS:
        members: dict[str, Any] = {}
        for spec in INPUT_FIELDS:
            if spec.group != group:
                continue
            annotation = _scalar_annotation(spec)
            if spec.required:
                members[spec.name] = (annotation, Field(description=_description(spec)))
            else:
                members[spec.name] = (annotation | None,
                                      Field(default=None, description=_description(spec)))
        group_models[group] = create_model(
            group.title(), __config__=ConfigDict(extra="forbid"), **members
        )
    fields: dict[str, Any] = {}
    for group, model in group_models.items():
        if group in REQUIRED_GROUPS:
            fields[group] = (model, ...)
        else:
            fields[group] = (model | None, None)
    assessment: type[BaseModel] = create_model(
        "AssessmentInput",
        __config__=ConfigDict(extra="forbid", title="Assessment"),
        __doc__="One assessment: the athlete, the injury and the test battery of the day.",
        **fields,
    )
    return assessment


# ---- the validated assessment ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assessment:
    """A validated assessment, ready to be decided.

    ``document`` is the canonical input (absent and ``null`` dropped, the
    default profile filled in): what is hashed, stored and embedded in reports.
    ``values`` maps every measure path of the data dictionary to its value, or
    ``None`` when not assessed; bilateral measures are :class:`Bilateral`.
    """

    document: Mapping[str, Any]
    values: Mapping[str, Any]
    input_sha256: str

    @property
    def athlete_id(self) -> str:
        return str(self.document["athlete"]["id"])

    @property
    def region(self) -> str:
        return str(self.document["injury"]["region"])

    @property
    def side(self) -> str:
        return str(self.document["injury"]["side"])

    @property
    def muscle(self) -> str | None:
        muscle: str | None = self.document["injury"].get("muscle")
        return muscle

    @property
    def injury_date(self) -> dt.date:
        return dt.date.fromisoformat(self.document["injury"]["date"])

    @property
    def assessment_date(self) -> dt.date:
        return dt.date.fromisoformat(self.document["assessment"]["date"])

    @property
    def days_since_injury(self) -> int:
        return (self.assessment_date - self.injury_date).days

    @property
    def profile(self) -> str:
        return str(self.document["assessment"]["profile"])

    @property
    def bamic_grade(self) -> str | None:
        grade: str | None = self.document["injury"].get("bamic_grade")
        return grade

    @property
    def bamic_grade_number(self) -> int | None:
        grade = self.bamic_grade
        return None if grade is None else bamic_grade_number(grade)

    @property
    def bamic_site(self) -> str | None:
        grade = self.bamic_grade
        return None if grade is None else bamic_site(grade)

    @property
    def previous_phase(self) -> str | None:
        """The phase a clinician last signed for this injury (section 2.1), if any."""
        phase: str | None = (self.document.get("previous") or {}).get("phase")
        return phase

    @property
    def previous_date(self) -> dt.date | None:
        """The date of the assessment the last sign-off belongs to (section 2.1)."""
        date: str | None = (self.document.get("previous") or {}).get("date")
        return None if date is None else dt.date.fromisoformat(date)

    @property
    def physician_review(self) -> Mapping[str, Any] | None:
        """``injury.physician_review`` ({date, management, by}) when recorded (R11)."""
        review: Mapping[str, Any] | None = self.document["injury"].get("physician_review")
        return review


def canonical_json(document: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 text. Equal content, equal text."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def parse_assessment_json(text: str | bytes) -> Assessment:
    """Parse JSON text and validate it (see :func:`parse_assessment`)."""
    try:
        data = json.loads(text, object_pairs_hook=_ObjectWithDuplicates.from_pairs)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (f"line {exc.lineno} column {exc.colno}: {exc.msg}"
                 if isinstance(exc, json.JSONDecodeError) else str(exc))
        raise InvalidAssessment("the assessment is not valid JSON", [
            Problem("<input>", "json", f"is not valid JSON ({where})")]) from exc
    except RecursionError as exc:
        raise InvalidAssessment("the assessment is not valid", [
            Problem("<input>", "json", "is nested too deeply to be an assessment")]) from exc
    except ValueError as exc:  # an integer literal beyond Python's conversion limit
        raise InvalidAssessment("the assessment is not valid", [
            Problem("<input>", "json", "holds a number too long to be a measurement")]) from exc
    duplicates = list(_ObjectWithDuplicates.duplicate_paths(data))
    if duplicates:
        raise InvalidAssessment("the assessment is not valid", [
            Problem(path, "duplicate_key", "is given more than once; each field may appear "
                    "only once") for path in duplicates])
    return parse_assessment(data)


def parse_assessment(data: Any) -> Assessment:
    """Validate an assessment document; raise ``InvalidAssessment`` listing every problem."""
    if not isinstance(data, dict):
        raise InvalidAssessment("the assessment is not valid", [
            Problem("<input>", "object",
                    f"an assessment must be a JSON object (got {_show(data)})")])
    problems: list[Problem] = []
    model = None
    try:
        model = assessment_model().model_validate(data)
    except ValidationError as exc:
        problems.extend(_translate(exc))
    problems.extend(_cross_field_problems(data, {p.field for p in problems}))
    if problems or model is None:
        raise InvalidAssessment("the assessment is not valid", _in_dictionary_order(problems))
    document = _canonical_document(model)
    return Assessment(
        document=document,
        values=_measure_values(document),
        input_sha256=hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest(),
    )


def _canonical_document(model: BaseModel) -> dict[str, Any]:
    dumped = model.model_dump(mode="json", exclude_none=True)
    dumped["assessment"].setdefault("profile", "standard")
    return {group: members for group, members in dumped.items() if members}


_VALUE_FIELDS: tuple[tuple[str, str, str, bool], ...] = tuple(
    (spec.group, spec.name, spec.path, spec.kind is FieldKind.BILATERAL)
    for spec in INPUT_FIELDS)
"""(group, name, path, bilateral) of every input field, in dictionary order: the
dictionary's ``group`` and ``name`` split the path each time they are read."""
_REVIEW_PATHS: tuple[tuple[str, str], ...] = tuple(
    (name, sub.path) for name, sub in REVIEW_SUBFIELDS.items())
_NOTHING: Mapping[str, Any] = {}


def _measure_values(document: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for group, name, path, bilateral in _VALUE_FIELDS:
        value = document.get(group, _NOTHING).get(name)
        if bilateral and value is not None:
            value = Bilateral(value["injured"], value["uninjured"])
        values[path] = value
    review = values["injury.physician_review"] or {}
    for name, path in _REVIEW_PATHS:
        values[path] = review.get(name)
    return values


# ---- problems in the clinician's words ------------------------------------------


class _ObjectWithDuplicates(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = cls()
        seen: list[str] = []
        for key, value in pairs:
            if key in result:
                seen.append(key)
            result[key] = value
        if seen:
            result.duplicates = tuple(dict.fromkeys(seen))
        return result

    @classmethod
    def duplicate_paths(cls, node: Any, prefix: str = "") -> Iterator[str]:
        if isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                yield f"{prefix}{key}"
            for key, value in node.items():
                yield from cls.duplicate_paths(value, f"{prefix}{key}.")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from cls.duplicate_paths(value, f"{prefix}{index}.")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _spec_for(path: str) -> tuple[InputField | None, str | None]:
    """The dictionary entry of a path, and the side for ``x.y.injured``."""
    if path in READABLE_FIELDS:
        return READABLE_FIELDS[path], None
    head, _, side = path.rpartition(".")
    if head in FIELDS_BY_PATH and side in ("injured", "uninjured"):
        return FIELDS_BY_PATH[head], side
    return None, None


def _siblings(path: str) -> list[str]:
    parent = path.rpartition(".")[0]
    if not parent:
        return list(GROUPS)
    spec = FIELDS_BY_PATH.get(parent)
    if spec is not None and spec.kind is FieldKind.BILATERAL:
        return ["injured", "uninjured"]
    if spec is not None and spec.kind is FieldKind.REVIEW:
        return list(REVIEW_SUBFIELDS)
    return [f.name for f in INPUT_FIELDS if f.group == parent]


def _translate(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        # pydantic inserts the branch name of an Optional's inner model; drop it
        loc = [part for part in loc if not part[:1].isupper()]
        path = ".".join(loc) or "<input>"
        problems.append(_problem(path, error))
    return problems


def _problem(path: str, error: Mapping[str, Any]) -> Problem:
    kind = error["type"]
    given = error.get("input")
    spec, side = _spec_for(path)
    if kind == "missing":
        if side is not None:
            return Problem(path, "required", "is required: a bilateral measure needs both "
                           "the injured and the uninjured side")
        return Problem(path, "required", "is required")
    if kind == "extra_forbidden":
        name = path.rpartition(".")[2]
        close = difflib.get_close_matches(name, _siblings(path), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return Problem(path, "unknown_field", f"is not a field of the data dictionary{hint}")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        assert spec is not None
        return Problem(path, "range", f"must be between {spec.bounds_text} (got {_show(given)})")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return Problem(path, "integer", f"must be a whole number (got {_show(given)})")
    if kind in ("float_type", "float_parsing"):
        return Problem(path, "number", f"must be a number (got {_show(given)})")
    if kind == "finite_number":
        return Problem(path, "number", f"must be a finite number (got {_show(given)})")
    if kind in ("bool_type", "bool_parsing"):
        return Problem(path, "boolean", f"must be true or false (got {_show(given)})")
    if kind == "literal_error":
        assert spec is not None
        return Problem(path, "choice", f"must be {spec.range_text} (got {_show(given)})")
    if kind.startswith("date"):
        return Problem(path, "date", f"must be an ISO date YYYY-MM-DD (got {_show(given)})")
    if kind == "string_type":
        if spec is not None and spec.kind is FieldKind.DATE:
            return Problem(path, "date", f"must be an ISO date string YYYY-MM-DD: no time, no "
                           f"number, no timestamp (got {_show(given)})")
        return Problem(path, "text", f"must be text (got {_show(given)})")
    if kind == "string_pattern_mismatch":
        if spec is not None and spec.kind is FieldKind.DATE:
            return Problem(path, "date", f"must be an ISO date YYYY-MM-DD and nothing else: no "
                           f"time, no number (got {_show(given)})")
        if spec is not None and spec.pattern:
            return Problem(path, "pattern", f"must be {spec.pattern_text} (got {_show(given)})")
        return Problem(path, "text", SINGLE_LINE_TEXT_PROBLEM)
    if kind == "value_error" and spec is not None and spec.kind is FieldKind.DATE:
        return Problem(path, "date", f"must be a calendar date YYYY-MM-DD (got {_show(given)})")
    if kind in ("string_too_short", "string_too_long"):
        assert spec is not None
        return Problem(path, "length", f"must be {spec.range_text} long "
                       f"(got {len(given) if isinstance(given, str) else _show(given)})")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return Problem(path, "object", f"must be an object (got {_show(given)})")
    return Problem(path, kind, str(error.get("msg", "is not valid")))


def _cross_field_problems(data: Mapping[str, Any], already: set[str]) -> list[Problem]:
    """The checks of section 7 that involve more than one value.

    A check is skipped when a value it reads already has a problem of its own, so
    each problem is reported once, at the field that has it.
    """
    problems: list[Problem] = []

    def group(name: str) -> Mapping[str, Any]:
        value = data.get(name)
        return value if isinstance(value, dict) else {}

    def add(path: str, rule: str, message: str) -> None:
        if path not in already:
            problems.append(Problem(path, rule, message))

    injury, assessment, previous = group("injury"), group("assessment"), group("previous")
    injury_date = _as_date(injury.get("date"), "injury.date" in already)
    assessment_date = _as_date(assessment.get("date"), "assessment.date" in already)
    if injury_date and assessment_date and injury_date > assessment_date:
        add("injury.date", "date_order", f"must not be after assessment.date ({injury_date} is "
                                         f"after {assessment_date})")
    region, muscle = injury.get("region"), injury.get("muscle")
    if region in MUSCLES_BY_REGION and isinstance(muscle, str):
        for other_region, muscles in MUSCLES_BY_REGION.items():
            if muscle in muscles and other_region != region:
                add("injury.muscle", "muscle_region",
                    f"{muscle} is a {other_region} muscle, but injury.region is {region}")

    # previous: the last signed phase and its date come together (section 2.1)
    has_phase = previous.get("phase") is not None
    has_date = previous.get("date") is not None
    if has_phase and not has_date:
        add("previous.date", "required", "is required with previous.phase: the date of the "
                                         "assessment the last sign-off belongs to")
    if has_date and not has_phase:
        add("previous.phase", "required", "is required with previous.date: the phase that "
                                          "was signed")
    previous_date = _as_date(previous.get("date"), "previous.date" in already)
    _check_within_episode(add, "previous.date", previous_date, injury_date, assessment_date)

    review = injury.get("physician_review")
    if isinstance(review, dict):
        review_date = _as_date(review.get("date"), "injury.physician_review.date" in already)
        _check_within_episode(add, "injury.physician_review.date", review_date, injury_date,
                              assessment_date)

    # references that other values are divided by (section 3: LSI, ratios)
    for spec, group_name, name in _REFERENCES:
        minimum = spec.reference_minimum
        assert minimum is not None  # _REFERENCES holds only fields with one
        value: Any = group(group_name).get(name)
        path = spec.path
        if spec.kind is FieldKind.BILATERAL:
            value = value.get("uninjured") if isinstance(value, dict) else None
            path = f"{spec.path}.uninjured"
        if not _is_number(value) or path in already:
            continue
        if value == 0 and spec.zero_reference_allowed:
            continue
        if value == 0:
            add(path, "zero_reference", _reference_problem(spec, "must not be 0"))
        elif value < minimum:
            add(path, "reference_minimum", _reference_problem(
                spec, f"must be at least {_plain_number(minimum)}"
                      f"{' ' + spec.unit if spec.unit else ''} (got {value!r})"))
    return problems


_REFERENCES: tuple[tuple[InputField, str, str], ...] = tuple(
    (spec, spec.group, spec.name) for spec in INPUT_FIELDS
    if spec.reference_minimum is not None)
"""The fields other values are divided by, with their group and name."""


def _reference_problem(spec: InputField, what: str) -> str:
    if spec.kind is FieldKind.BILATERAL:
        return f"{what}: the limb symmetry index divides by the uninjured side"
    if spec.zero_reference_allowed:
        return f"{what} when it is not 0: it is the reference the last 7 days are compared with"
    return f"{what}: it is the reference the current value is compared with"


def _plain_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _check_within_episode(add: Any, path: str, date: dt.date | None,
                          injury_date: dt.date | None, assessment_date: dt.date | None) -> None:
    if date is None:
        return
    if injury_date is not None and date < injury_date:
        add(path, "date_order", f"must not be before injury.date ({date} is before "
                                f"{injury_date})")
    elif assessment_date is not None and date > assessment_date:
        add(path, "date_order", f"must not be after assessment.date ({date} is after "
                                f"{assessment_date})")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_date(value: Any, invalid: bool = False) -> dt.date | None:
    """A valid ``YYYY-MM-DD`` string as a date; anything else (already reported) is None."""
    if invalid or not isinstance(value, str) or len(value) != 10 or value[4] != "-" \
            or value[7] != "-" or not (value[:4] + value[5:7] + value[8:]).isdigit():
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


_ORDER = {spec.path: index for index, spec in enumerate(INPUT_FIELDS)}


def _in_dictionary_order(problems: list[Problem]) -> list[Problem]:
    def key(problem: Problem) -> tuple[int, str]:
        path = problem.field
        while path and path not in _ORDER:
            path = path.rpartition(".")[0]
        if path in _ORDER:
            return _ORDER[path], problem.field
        group = problem.field.split(".", 1)[0]
        group_index = GROUPS.index(group) if group in GROUPS else len(GROUPS)
        first = next((i for p, i in _ORDER.items() if p.startswith(group + ".")), len(_ORDER))
        return (first if group_index < len(GROUPS) else len(_ORDER)), problem.field

    unique: dict[tuple[str, str], Problem] = {}
    for problem in problems:
        unique.setdefault((problem.field, problem.rule), problem)
    return sorted(unique.values(), key=key)
