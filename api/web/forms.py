"""The assessment form: its layout, read from the data dictionary, and form → JSON document.

**Layout.** :data:`SECTIONS` groups the fields of ``rules.dictionary.INPUT_FIELDS``
like a testing session (session, injury, pain, signs and function, running,
strength, flexibility, H-test, hops, technique, sprint, training, running
load, readiness). Labels, units, ranges, choices and help all come from the
dictionary; a section names the paths or groups it holds and takes them in
dictionary order. The athlete and the injury's region, side and date are not
inputs: they are the stored episode's (:data:`FROM_EPISODE`), so an assessment
always matches the injury it is entered for. A test keeps every dictionary
field in exactly one place. A bilateral measure is two inputs (injured,
uninjured side); the physician review (``injury.physician_review``) is a small
fieldset of three: its date, the management decided and by whom.

**The injury's region.** The form lays out the fields the protocol asks for in
the injury's region (:func:`form_view` with ``rules.protocol.field_regions``):
the Nordic and H-test fields for a hamstring injury, the knee-bent heel raises,
knee-to-wall and the DVT screen for a calf injury; fields of both regions for
both. A field of the other region that holds a value stays, marked, so a
correction never drops what was recorded.

**Reading a form** (:func:`read_assessment_form`) is strict and lossless:

- an empty input (or only spaces) means "not assessed": the field is left out;
- a number is read as written: ``12`` becomes 12 and ``12.5`` becomes 12.5,
  never rounded or clamped (ranges are the engine's to check); one with more
  digits than a double keeps exactly is refused rather than rounded;
- text that is not a number (``abc``, ``12,5``, ``1e3``) is a problem named
  by that field (``strength.nordic_n.injured``), never dropped and never a 500;
- a bilateral measure with one side empty is passed on with one side, so the
  engine names the missing side; a review with a part empty likewise (the
  engine names a missing date or management); all three empty: no review;
- yes / no / not assessed are the only answers to a yes-or-no question;
- unknown or repeated inputs are problems too.

The document is then validated by ``engine.parse_assessment`` as any other
input; the problems of both steps are shown together, each next to its input
(:func:`place_problems`). What was typed is kept, as typed, to show again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from engine.assessment import Assessment, parse_assessment
from rules.dictionary import (
    FIELDS_BY_PATH,
    INPUT_FIELDS,
    MUSCLES_BY_REGION,
    READABLE_FIELDS,
    REVIEW_SUBFIELDS,
    FieldKind,
    InputField,
)
from rules.errors import InvalidAssessment, Problem

__all__ = [
    "FROM_EPISODE",
    "SECTIONS",
    "FormReading",
    "Section",
    "assess_form",
    "entered_from_document",
    "input_names",
    "label_of",
    "place_problems",
    "read_assessment_form",
    "section_fields",
]

FROM_EPISODE = ("athlete.id", "athlete.name", "athlete.sport", "athlete.position",
                "injury.region", "injury.side", "injury.date")
"""Fields the page takes from the stored athlete and injury episode, not from inputs."""

SIDES = ("injured", "uninjured")
REVIEW_PARTS = tuple(REVIEW_SUBFIELDS)
"""``injury.physician_review`` is entered as three inputs: date, management, by."""
YES, NO = "yes", "no"
MAX_NUMBER_TEXT = 32
"""Longer text in a number field is refused before it is read (no 4,000-digit numbers)."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the testing session: a fieldset of the form."""

    id: str
    title: str
    members: tuple[str, ...]
    """Dictionary paths or whole groups (``pain``), taken in dictionary order."""
    intro: str = ""


SECTIONS: tuple[Section, ...] = (
    Section("session", "Session", ("assessment", "previous"),
            "Who assessed, when, under which profile; and the last phase a clinician signed "
            "for this injury with the date of the assessment it was signed for (give both or "
            "neither)."),
    Section("injury", "Injury", ("injury",),
            "Region, side and date are the stored episode's; the rest may be revised."),
    Section("pain", "Pain", ("pain",),
            "Numeric rating scale: 0 no pain, 10 worst imaginable."),
    Section("function", "Signs and function", ("signs", "function")),
    Section("running", "Running", ("running",)),
    Section("strength", "Strength", ("strength",),
            "Injured and uninjured side. The limb symmetry index (LSI) shown as you type is a "
            "preview; the server computes the value that decides."),
    Section("flexibility", "Flexibility", ("flexibility.passive_slr_deg", "flexibility.ake_deg",
                                           "flexibility.ake_discomfort",
                                           "flexibility.knee_to_wall_cm")),
    Section("h-test", "Askling H-test", ("flexibility.h_test_insecurity",),
            "Insecurity felt during the test, 0 none to 100 the most."),
    Section("hop", "Hop tests", ("hop",),
            "Distance of the best valid trial on each side."),
    Section("technique", "Sprint technique", ("technique",),
            "Each rating: 0 poor, 1 acceptable, 2 good, judged at submaximal speed."),
    Section("sprint", "Sprint", ("sprint",)),
    Section("training", "Training", ("training",)),
    Section("exposure", "Running load", ("exposure",),
            "Metres of high-speed running (above 5.5 m/s) and sprinting (above 7.0 m/s) from GPS "
            "or timing data: the last 7 days, the 7 days before, and the athlete's usual week "
            "before the injury. Without such data, the clinician may attest that the usual "
            "load was completed."),
    Section("readiness", "Readiness", ("readiness",)),
)


def section_fields(section: Section) -> list[InputField]:
    """The dictionary fields of a section, in dictionary order, without the episode's."""
    chosen = []
    for spec in INPUT_FIELDS:
        if spec.path in FROM_EPISODE:
            continue
        if spec.path in section.members or spec.group in section.members:
            chosen.append(spec)
    return chosen


def _parts_of(spec: InputField) -> tuple[str, ...]:
    """The inputs a field is entered in: the two sides of a bilateral measure, the parts of
    the physician review (date, management, by), or none (one input, the field's own)."""
    if spec.kind is FieldKind.BILATERAL:
        return SIDES
    if spec.kind is FieldKind.REVIEW:
        return REVIEW_PARTS
    return ()


def _inputs_of(spec: InputField) -> list[str]:
    parts = _parts_of(spec)
    return [f"{spec.path}.{part}" for part in parts] if parts else [spec.path]


def input_names() -> list[str]:
    """Every input of the form, in page order (bilateral measures as two inputs)."""
    return [name for section in SECTIONS for spec in section_fields(section)
            for name in _inputs_of(spec)]


# ---- form → document -------------------------------------------------------------


@dataclass
class FormReading:
    """A form read: the document it gives, what could not be read, and what was typed."""

    document: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    entered: dict[str, str] = field(default_factory=dict)


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _number(spec: InputField, name: str, text: str) -> int | float | Problem:
    whole = spec.kind is FieldKind.INTEGER or (spec.kind is FieldKind.BILATERAL and spec.integer)
    if len(text) > MAX_NUMBER_TEXT:
        return Problem(name, "number", f"must be a number of at most {MAX_NUMBER_TEXT} "
                                       f"characters (got {len(text)} characters)")
    if _INTEGER.fullmatch(text):
        return int(text)
    if whole:
        if _DECIMAL.fullmatch(text) or _DECIMAL_COMMA.fullmatch(text):
            return Problem(name, "integer", f"must be a whole number (got {_show(text)})")
        return Problem(name, "integer", f"must be a whole number, like 12 (got {_show(text)})")
    if _DECIMAL.fullmatch(text):
        number = float(text)
        if Decimal(repr(number)) != Decimal(text):
            return Problem(name, "number", f"has more digits than can be kept exactly; "
                                           f"round it to 15 significant digits (got "
                                           f"{_show(text)})")
        return number
    if _DECIMAL_COMMA.fullmatch(text):
        return Problem(name, "number", f"must be a number written with a decimal point, like "
                                       f"{text.replace(',', '.')} (got {_show(text)})")
    return Problem(name, "number", f"must be a number, like 12 or 12.5 (got {_show(text)})")


def _value(spec: InputField, name: str, text: str) -> Any:
    """The JSON value of one non-empty input, or a Problem."""
    match spec.kind:
        case FieldKind.INTEGER | FieldKind.NUMBER | FieldKind.BILATERAL:
            return _number(spec, name, text)
        case FieldKind.BOOLEAN:
            if text in (YES, NO):
                return text == YES
            return Problem(name, "boolean", f"must be yes, no or not assessed (got {_show(text)})")
        case _:  # text, choice and date are checked by the engine, as given
            return text


def read_assessment_form(pairs: Iterable[tuple[str, str]], episode: Mapping[str, Mapping[str, Any]]
                         ) -> FormReading:
    """The assessment document of a posted form, with the episode's fixed fields filled in."""
    specs = {name: (spec, name.rpartition(".")[2] if _parts_of(spec) else None)
             for section in SECTIONS for spec in section_fields(section)
             for name in _inputs_of(spec)}
    reading = FormReading(document={group: dict(values) for group, values in episode.items()})
    seen: dict[str, int] = {}
    for name, raw in pairs:
        seen[name] = seen.get(name, 0) + 1
        if name not in specs:
            reading.problems.append(Problem(name[:80] or "<form>", "unknown_field",
                                            "is not a field of this form"))
            continue
        if seen[name] > 1:
            reading.problems.append(Problem(name, "duplicate_key",
                                            "is given more than once; each field may appear "
                                            "only once"))
            continue
        reading.entered[name] = raw
        text = raw.strip()
        if not text:
            continue  # not assessed
        spec, part = specs[name]
        value = _value(REVIEW_SUBFIELDS[part] if spec.kind is FieldKind.REVIEW and part
                       else spec, name, text)
        if isinstance(value, Problem):
            reading.problems.append(value)
            continue
        group = reading.document.setdefault(spec.group, {})
        if part is None:
            group[spec.name] = value
        else:  # one side, or one part of the review: the engine names what is missing
            group.setdefault(spec.name, {})[part] = value
    return reading


def assess_form(reading: FormReading) -> tuple[Assessment | None, list[Problem]]:
    """The validated assessment, or every problem: the form's and the engine's together.

    A form with any problem gives no assessment, even when the rest would validate."""
    unreadable = {problem.field for problem in reading.problems}
    try:
        assessment = parse_assessment(reading.document)
    except InvalidAssessment as exc:
        engine = [p for p in exc.problems if p.field not in unreadable]
        return None, _in_page_order([*reading.problems, *engine])
    if reading.problems:
        return None, _in_page_order(reading.problems)
    return assessment, []


def _in_page_order(problems: Sequence[Problem]) -> list[Problem]:
    order = {name: index for index, name in enumerate([*FROM_EPISODE, *input_names()])}

    def key(problem: Problem) -> tuple[int, str]:
        path = problem.field
        while path and path not in order:
            candidates = [i for name, i in order.items() if name.startswith(path + ".")]
            if candidates:
                return min(candidates), problem.field
            path = path.rpartition(".")[0]
        return order.get(path, len(order)), problem.field

    return sorted(problems, key=key)


# ---- document → inputs (a correction starts from the stored assessment) -------------


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    return str(value)


def entered_from_document(document: Mapping[str, Any]) -> dict[str, str]:
    """The inputs that show a stored document again (for a correction), as text."""
    entered: dict[str, str] = {}
    for section in SECTIONS:
        for spec in section_fields(section):
            value = (document.get(spec.group) or {}).get(spec.name)
            if value is None:
                continue
            if _parts_of(spec):
                for part in _parts_of(spec):
                    if value.get(part) is not None:
                        entered[f"{spec.path}.{part}"] = _text_of(value[part])
            else:
                entered[spec.path] = _text_of(value)
    return entered


# ---- problems next to their inputs --------------------------------------------------


@dataclass(frozen=True)
class PlacedProblems:
    """Each problem next to its input; the rest go in the summary only."""

    by_input: Mapping[str, tuple[str, ...]]
    """Input name (or a bilateral measure's or the review's path, or an episode field) →
    messages."""
    anchors: Mapping[Problem, str]
    """Each problem → the name of the input it is shown at (for the summary's links)."""


def place_problems(problems: Sequence[Problem]) -> PlacedProblems:
    """Where each problem is shown: at its input, its bilateral pair or review, or the
    episode."""
    names = set(input_names())
    bilateral = {spec.path for spec in INPUT_FIELDS if _parts_of(spec)}
    by_input: dict[str, list[str]] = {}
    anchors: dict[Problem, str] = {}
    for problem in problems:
        target = problem.field
        if target not in names and target not in FROM_EPISODE:
            parent = target.rpartition(".")[0]
            # a side or part the form does not have (``.left``): at its pair or review
            target = parent if parent in bilateral else target
        if target in names or target in bilateral or target in FROM_EPISODE:
            by_input.setdefault(target, []).append(problem.message)
            anchors[problem] = target
    return PlacedProblems(by_input={k: tuple(v) for k, v in by_input.items()}, anchors=anchors)


def label_of(path: str) -> str:
    """The words of a problem's field: ``Nordic eccentric force, uninjured side``,
    ``Physician review: date of the review``."""
    if path in FIELDS_BY_PATH:
        return FIELDS_BY_PATH[path].label
    if path in READABLE_FIELDS:  # a part of the physician review
        whole = FIELDS_BY_PATH[path.rpartition(".")[0]].label
        label = READABLE_FIELDS[path].label
        return f"{whole}: {label[0].lower()}{label[1:]}"
    parent, _, side = path.rpartition(".")
    if parent in FIELDS_BY_PATH and side in SIDES:
        return f"{FIELDS_BY_PATH[parent].label}, {side} side"
    return path


def muscles_of(region: str) -> tuple[str, ...]:
    """The muscles the dictionary lists for a region (the form offers only those)."""
    return tuple(MUSCLES_BY_REGION.get(region, ()))


# ---- what the template lays out ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Control:
    """One input box (a bilateral measure has two; the physician review three)."""

    name: str
    id: str
    label: str
    value: str
    errors: tuple[str, ...]
    error_id: str
    control: str = ""
    """The review's parts: ``date``, ``select`` or ``text`` (others: the field's control)."""
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    hint_id: str = ""
    required: bool = False
    """Needed whenever the review is recorded (date, management)."""


@dataclass(frozen=True, slots=True)
class FieldView:
    """One field of the form, as the template writes it."""

    path: str
    id: str
    label: str
    control: str
    """``number``, ``pair`` (bilateral), ``review`` (the physician review's three parts),
    ``radio``, ``select``, ``date`` or ``text``."""
    unit: str
    hint: str
    help: str
    required: bool
    inputs: tuple[Control, ...]
    options: tuple[tuple[str, str], ...]
    errors: tuple[str, ...]
    """Problems of the field as a whole (a bilateral measure's, not one side's)."""
    hint_id: str
    error_id: str
    whole: bool
    other_region: str = ""
    """Shown although the protocol asks for it only in another region, because a value is
    recorded (a correction keeps it): that region's name; empty otherwise."""


@dataclass(frozen=True, slots=True)
class SectionView:
    id: str
    title: str
    intro: str
    fields: tuple[FieldView, ...]


NOT_ASSESSED = "not assessed"
_EMPTY_CHOICE = {"previous.phase": "no signed phase on record"}
"""The empty choice where "not assessed" is the wrong word: a phase is signed, not assessed."""
_SUFFIX = {"NRS": "/ 10", "0–100": "/ 100", "0–2": ""}


def html_id(name: str) -> str:
    return "f-" + name.replace(".", "-").replace("_", "-")


def _hint(spec: InputField) -> str:
    if spec.kind in (FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BILATERAL):
        whole = spec.kind is FieldKind.INTEGER or spec.integer
        text = f"{'whole number' if whole else 'number'}, {spec.range_text}"
        if spec.unit == "NRS":
            text += " (numeric rating scale)"
        if spec.kind is FieldKind.BILATERAL:
            text += ", each side"
        return text
    if spec.kind is FieldKind.BOOLEAN:
        return "yes, no, or not assessed"
    if spec.kind is FieldKind.DATE:
        return "date (YYYY-MM-DD)"
    if spec.kind is FieldKind.TEXT and spec.max_length:
        return f"text, up to {spec.max_length} characters"
    if spec.kind is FieldKind.REVIEW:
        required = [sub.label.lower() for sub in REVIEW_SUBFIELDS.values() if sub.required]
        return (f"leave every part empty when no review is recorded; a recorded review needs "
                f"{' and '.join(required)}")
    return ""


def _review_controls(spec: InputField, entered: Mapping[str, str],
                     by_input: Mapping[str, Sequence[str]]) -> tuple[Control, ...]:
    """The physician review's parts, each an input of its own kind (date, choice, text)."""
    controls = []
    for part, sub in REVIEW_SUBFIELDS.items():
        name = f"{spec.path}.{part}"
        control = _control(sub)
        options: tuple[tuple[str, str], ...] = ()
        if control == "select":
            options = (("", "not recorded"), *((c, c.replace("_", " ")) for c in sub.choices))
        controls.append(Control(
            name=name, id=html_id(name), label=sub.label, value=entered.get(name, ""),
            errors=tuple(by_input.get(name, ())), error_id=html_id(name) + "-error",
            control=control, options=options, hint=_hint(sub), hint_id=html_id(name) + "-hint",
            required=sub.required))
    return tuple(controls)


def _control(spec: InputField) -> str:
    if spec.kind is FieldKind.BILATERAL:
        return "pair"
    if spec.kind is FieldKind.REVIEW:
        return "review"
    if spec.kind is FieldKind.BOOLEAN:
        return "radio"
    if spec.kind is FieldKind.INTEGER and spec.minimum is not None and \
            spec.maximum is not None and spec.maximum - spec.minimum <= 2:
        return "radio"
    if spec.kind is FieldKind.CHOICE:
        return "select"
    if spec.kind is FieldKind.DATE:
        return "date"
    if spec.kind is FieldKind.TEXT:
        return "text"
    return "number"


def field_view(spec: InputField, entered: Mapping[str, str],
               by_input: Mapping[str, Sequence[str]], *, injured_side: str = "",
               choice_labels: Mapping[str, Sequence[tuple[str, str]]] | None = None
               ) -> FieldView:
    """One dictionary field as the template writes it, with its value and problems."""
    control = _control(spec)
    field_id = html_id(spec.path)
    if control == "pair":
        other_side = {"right": "left", "left": "right"}.get(injured_side, "")

        def side_label(side: str) -> str:
            which = injured_side if side == "injured" else other_side
            return f"{side.title()} side" + (f" ({which})" if which else "")

        inputs = tuple(
            Control(name=f"{spec.path}.{side}", id=html_id(f"{spec.path}.{side}"),
                    label=side_label(side), value=entered.get(f"{spec.path}.{side}", ""),
                    errors=tuple(by_input.get(f"{spec.path}.{side}", ())),
                    error_id=html_id(f"{spec.path}.{side}") + "-error")
            for side in SIDES)
    elif control == "review":
        inputs = _review_controls(spec, entered, by_input)
    else:
        inputs = (Control(name=spec.path, id=field_id, label=spec.label,
                          value=entered.get(spec.path, ""),
                          errors=tuple(by_input.get(spec.path, ())),
                          error_id=field_id + "-error"),)
    options: tuple[tuple[str, str], ...] = ()
    if control == "radio" and spec.kind is FieldKind.BOOLEAN:
        options = (("", NOT_ASSESSED), (YES, "yes"), (NO, "no"))
    elif control == "radio":
        lowest, highest = int(spec.minimum or 0), int(spec.maximum or 0)
        options = (("", NOT_ASSESSED), *((str(n), str(n)) for n in range(lowest, highest + 1)))
    elif control == "select":
        labelled = (choice_labels or {}).get(spec.path) or [(c, c.replace("_", " "))
                                                            for c in spec.choices]
        empty = "choose one" if spec.required else _EMPTY_CHOICE.get(spec.path, NOT_ASSESSED)
        options = (("", empty), *labelled)
    return FieldView(
        path=spec.path, id=field_id, label=spec.label, control=control,
        unit=_SUFFIX.get(spec.unit or "", spec.unit or ""), hint=_hint(spec), help=spec.help,
        required=spec.required, inputs=inputs, options=options,
        errors=tuple(by_input.get(spec.path, ())) if control in ("pair", "review") else (),
        hint_id=field_id + "-hint", error_id=field_id + "-error",
        whole=spec.kind is FieldKind.INTEGER or spec.integer)


def shown_for(spec: InputField, region: str | None,
              regions: Mapping[str, frozenset[str]] | None, entered: Mapping[str, str],
              by_input: Mapping[str, Sequence[str]]) -> tuple[bool, str]:
    """(whether the form shows a field for an injury of ``region``, and — when it is shown
    only because something is recorded in it — the region the protocol asks for it in).

    ``regions`` is ``rules.protocol.field_regions`` of the protocol that decides: a
    hamstring injury's form has the Nordic and H-test fields, a calf injury's the
    knee-bent heel raises, knee-to-wall and the DVT screen. A field of the other region
    that holds a value (a correction of a document entered elsewhere) or a problem stays,
    marked, so that nothing recorded is dropped unseen."""
    if region is None or regions is None:
        return True, ""
    belongs = regions.get(spec.path, frozenset({region}))
    if region in belongs:
        return True, ""
    names = [*_inputs_of(spec), spec.path]
    if any(entered.get(name, "").strip() or by_input.get(name) for name in names):
        return True, " and ".join(sorted(belongs))
    return False, ""


def form_view(entered: Mapping[str, str], placed: PlacedProblems, *, injured_side: str,
              choice_labels: Mapping[str, Sequence[tuple[str, str]]],
              region: str | None = None,
              regions: Mapping[str, frozenset[str]] | None = None) -> list[SectionView]:
    """The sections of the assessment form with their values and problems, ready to lay out.

    ``choice_labels`` gives the options of a choice field where the page words them
    (muscles of the episode's region only, phases with their names); other choices are
    the dictionary's, as they are. With ``region`` and ``regions`` (the protocol's
    :func:`rules.protocol.field_regions`), only the fields of the injury's region are
    laid out (:func:`shown_for`), and a section left without fields is left out."""
    sections = []
    for section in SECTIONS:
        fields = []
        for spec in section_fields(section):
            shown, other = shown_for(spec, region, regions, entered, placed.by_input)
            if shown:
                view = field_view(spec, entered, placed.by_input, injured_side=injured_side,
                                  choice_labels=choice_labels)
                fields.append(replace(view, other_region=other) if other else view)
        if fields:
            sections.append(SectionView(id=section.id, title=section.title,
                                        intro=section.intro, fields=tuple(fields)))
    return sections
