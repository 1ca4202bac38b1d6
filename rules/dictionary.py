"""The data dictionary of the clinical contract (protocol section 7).

One entry per input field: its dotted path, its kind, unit, allowed range and
the words a clinician uses for it. Everything that needs to know about the
input fields reads this table and nothing else: the input model in
``engine/assessment.py`` is built from it, the protocol validator checks that
every criterion reads a field that exists and has the right kind, and the
form, report and command line take their labels and units from it.

Absent or ``null`` means "not assessed" for every field that is not marked
required. Bilateral measures are ``{"injured": x, "uninjured": y}`` and need
both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal, get_args


class FieldKind(StrEnum):
    """What kind of value a field holds."""

    TEXT = "text"
    CHOICE = "choice"
    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    BILATERAL = "bilateral"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class InputField:
    """One field of the assessment input, as protocol section 7 defines it."""

    path: str
    kind: FieldKind
    label: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    """For bilateral measures: both sides must be whole numbers."""
    choices: tuple[str, ...] = ()
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    """For text: a regular expression the whole value must match (``athlete.id``)."""
    pattern_text: str = ""
    """The pattern in words, for error messages and forms."""
    reference_minimum: float | None = None
    """The smallest value this field may take when it is a reference other values are
    divided by (the uninjured side of a bilateral measure, a pre-injury figure); a value
    below it is refused, because the ratio to it would be meaningless (section 7)."""
    zero_reference_allowed: bool = False
    """A reference of exactly 0 is allowed (section 3.1: an exposure reference of 0 makes
    that part met)."""
    help: str = ""

    @property
    def group(self) -> str:
        """The JSON object the field sits in (``pain`` for ``pain.rest``)."""
        return self.path.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The key inside its group (``rest`` for ``pain.rest``)."""
        return self.path.split(".", 1)[1]

    @property
    def is_percentage(self) -> bool:
        """Percentages are rounded to one decimal (half up) before comparison."""
        return self.unit == "%"

    @property
    def range_text(self) -> str:
        """The allowed range in words, for forms and error messages."""
        if self.kind is FieldKind.CHOICE:
            return "one of " + ", ".join(self.choices)
        if self.kind is FieldKind.BOOLEAN:
            return "true or false"
        if self.kind is FieldKind.DATE:
            return "an ISO date (YYYY-MM-DD)"
        if self.kind is FieldKind.REVIEW:
            return ("an object {date, management, by}: date an ISO date, management one of "
                    + ", ".join(REVIEW_MANAGEMENT) + ", by the physician (optional)")
        if self.kind is FieldKind.TEXT:
            if self.pattern_text:
                return f"{self.min_length or 0}–{self.max_length} characters: {self.pattern_text}"
            if self.max_length is not None:
                return f"{self.min_length or 0}–{self.max_length} characters"
            return "text"
        low, high = _plain(self.minimum), _plain(self.maximum)
        return f"{low}–{high}{self._unit_suffix}"

    @property
    def bounds_text(self) -> str:
        """``0 and 10`` / ``0 and 2000 N``: the range as an error message words it."""
        return f"{_plain(self.minimum)} and {_plain(self.maximum)}{self._unit_suffix}"

    @property
    def _unit_suffix(self) -> str:
        if not self.unit or self.unit in {"NRS", "0–2", "0–100"}:
            return ""
        return " %" if self.unit == "%" else f" {self.unit}"


def _plain(number: float | None) -> str:
    if number is None:
        return "?"
    return str(int(number)) if float(number).is_integer() else str(number)


SINGLE_LINE_TEXT = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"
"""Text fields are single lines of printable text (section 7): no C0 or C1 control (NUL,
tab, newline, escape, U+0085 NEXT LINE), no U+2028/U+2029 line or paragraph separator, and
no bidi embedding, override or isolate control (U+202A–U+202E, U+2066–U+2069), which
would re-order what a page shows after it. Written with ``\\uXXXX`` escapes, which
Python's ``re``, pydantic's regex engine and JSON Schema (ECMA-262) all read alike."""
SINGLE_LINE_TEXT_PROBLEM = ("must be a single line of printable text (no control characters "
                            "such as NUL, tab or newline, no Unicode line separator and no "
                            "bidirectional override)")

# The choices of the contract, each written once as a Literal type (for type checkers
# and pydantic models elsewhere) with its tuple of values taken from it.
BamicGrade = Literal["0a", "0b", "1a", "1b", "1c", "2a", "2b", "2c", "3a", "3b", "3c", "4", "4c"]
BAMIC_GRADES: Final[tuple[str, ...]] = get_args(BamicGrade)
"""British Athletics Muscle Injury Classification: grade, then site
(a myofascial, b musculotendinous, c intratendinous)."""

HamstringMuscle = Literal["biceps_femoris_long_head", "biceps_femoris_short_head",
                          "semitendinosus", "semimembranosus"]
CalfMuscle = Literal["gastrocnemius_medial", "gastrocnemius_lateral", "soleus"]
Muscle = Literal[HamstringMuscle, CalfMuscle]
HAMSTRING_MUSCLES: Final[tuple[str, ...]] = get_args(HamstringMuscle)
CALF_MUSCLES: Final[tuple[str, ...]] = get_args(CalfMuscle)
MUSCLES_BY_REGION: Final = {"hamstring": HAMSTRING_MUSCLES, "calf": CALF_MUSCLES}
Region = Literal["hamstring", "calf"]
REGIONS: Final[tuple[str, ...]] = get_args(Region)
Side = Literal["left", "right"]
SIDES: Final[tuple[str, ...]] = get_args(Side)
Mechanism = Literal["sprinting", "stretching", "other"]
MECHANISMS: Final[tuple[str, ...]] = get_args(Mechanism)
PhaseId = Literal["protect", "load", "run", "sprint", "train", "play"]
PHASE_IDS: Final[tuple[str, ...]] = get_args(PhaseId)
ProfileId = Literal["standard", "conservative"]
PROFILE_IDS: Final[tuple[str, ...]] = get_args(ProfileId)
TECHNIQUE_RATINGS: Final = ("posture", "pelvic_control", "foot_strike", "shin_angle", "arm_action")
ReviewManagement = Literal["conservative", "surgical"]
REVIEW_MANAGEMENT: Final[tuple[str, ...]] = get_args(ReviewManagement)
"""How a physician's review decided to manage the injury (R11, section 4.1)."""

ATHLETE_ID_PATTERN: Final = r"^[A-Za-z0-9._-]{1,64}$"
"""``athlete.id``: ASCII letters, digits, ``-``, ``_``, ``.``; no space, no ``/`` (section 7).
The same id is a URL path segment and a file name, so it must never need escaping."""
ATHLETE_ID_RULE: Final = ("ASCII letters, digits, '-', '_' and '.' only (no spaces, no '/'; "
                          "names carry any script)")
ISO_DATE_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""An ISO date is a JSON string ``YYYY-MM-DD`` and nothing else (no time, no number)."""

_K = FieldKind
_NRS = {"kind": _K.INTEGER, "unit": "NRS", "minimum": 0, "maximum": 10}
_BILATERAL = {"kind": _K.BILATERAL, "reference_minimum": 1}
_NEWTONS = {**_BILATERAL, "unit": "N", "minimum": 0, "maximum": 2000}
_CENTIMETRES = {**_BILATERAL, "unit": "cm", "minimum": 0, "maximum": 1500}
_REPS = {**_BILATERAL, "unit": "reps", "minimum": 0, "maximum": 200, "integer": True}
_RATING = {"kind": _K.INTEGER, "unit": "0–2", "minimum": 0, "maximum": 2,
           "help": "0 poor, 1 acceptable, 2 good"}
_METRES_7D = {"kind": _K.NUMBER, "unit": "m", "minimum": 0, "maximum": 100000}
_VELOCITY = {"kind": _K.NUMBER, "unit": "m/s", "minimum": 0, "maximum": 13}


def _field(path: str, label: str, **spec: object) -> InputField:
    return InputField(path=path, label=label, **spec)  # type: ignore[arg-type]


INPUT_FIELDS: Final[tuple[InputField, ...]] = (
    # athlete
    _field("athlete.id", "Athlete id", kind=_K.TEXT, required=True, min_length=1, max_length=64,
           pattern=ATHLETE_ID_PATTERN, pattern_text=ATHLETE_ID_RULE),
    _field("athlete.name", "Name", kind=_K.TEXT, max_length=200),
    _field("athlete.sport", "Sport", kind=_K.TEXT, max_length=200),
    _field("athlete.position", "Position", kind=_K.TEXT, max_length=200),
    # injury
    _field("injury.region", "Region", kind=_K.CHOICE, choices=REGIONS, required=True),
    _field("injury.muscle", "Muscle", kind=_K.CHOICE, choices=HAMSTRING_MUSCLES + CALF_MUSCLES,
           help="must belong to the injured region"),
    _field("injury.side", "Injured side", kind=_K.CHOICE, choices=SIDES, required=True),
    _field("injury.date", "Date of injury", kind=_K.DATE, required=True,
           help="not after the assessment date"),
    _field("injury.mechanism", "Mechanism", kind=_K.CHOICE,
           choices=MECHANISMS),
    _field("injury.bamic_grade", "BAMIC grade", kind=_K.CHOICE, choices=BAMIC_GRADES,
           help="grade then site: a myofascial, b musculotendinous, c intratendinous"),
    _field("injury.tendon_involved", "Tendon involved", kind=_K.BOOLEAN),
    _field("injury.previous_same_site", "Previous injuries at the same site", kind=_K.INTEGER,
           minimum=0, maximum=20),
    _field("injury.physician_review", "Physician review", kind=_K.REVIEW,
           help="a physician's review of a tendon or grade 4 injury (R11): its date (between "
                "the injury and the assessment), the management decided, and by whom"),
    # assessment
    _field("assessment.date", "Assessment date", kind=_K.DATE, required=True),
    _field("assessment.assessor", "Assessor", kind=_K.TEXT, max_length=200),
    _field("assessment.profile", "Profile", kind=_K.CHOICE, choices=PROFILE_IDS,
           help="default standard"),
    # previous: the last signed phase of this injury episode (section 2.1)
    _field("previous.phase", "Last signed phase", kind=_K.CHOICE, choices=PHASE_IDS,
           help="the phase a clinician last signed for this injury; give previous.date with it"),
    _field("previous.date", "Date of the signed assessment", kind=_K.DATE,
           help="the date of the assessment that sign-off belongs to; between the injury and "
                "this assessment"),
    # pain (NRS 0–10)
    _field("pain.rest", "Pain at rest", **_NRS),
    _field("pain.walking", "Pain walking", **_NRS),
    _field("pain.palpation", "Pain on palpation", **_NRS),
    _field("pain.isometric", "Pain on submaximal isometric", **_NRS),
    _field("pain.stretch", "Pain on stretch", **_NRS),
    _field("pain.exercise", "Pain during rehabilitation exercise", **_NRS),
    _field("pain.running", "Pain during running", **_NRS),
    _field("pain.sprint", "Pain sprinting", **_NRS),
    _field("pain.next_morning", "Pain the morning after loading", **_NRS,
           help="symptoms the morning after the last loading session"),
    # signs
    _field("signs.swelling_increasing", "Swelling increasing", kind=_K.BOOLEAN),
    _field("signs.dvt_suspected", "Deep-vein thrombosis suspected", kind=_K.BOOLEAN,
           help="calf swelling or pitting oedema, tenderness along the deep veins, recent long "
                "travel or immobilisation"),
    _field("signs.avulsion_suspected", "Avulsion suspected", kind=_K.BOOLEAN,
           help="palpable gap, extensive bruising, pain on sitting, weakness out of proportion"),
    # function
    _field("function.gait_normal", "Normal gait", kind=_K.BOOLEAN),
    _field("function.single_leg_squat_pain_free", "Pain-free single-leg squat", kind=_K.BOOLEAN),
    _field("function.single_leg_heel_raise_pain_free", "Pain-free single-leg heel raise",
           kind=_K.BOOLEAN),
    # running
    _field("running.max_pain_free_speed_pct", "Max pain-free running speed, self-rated",
           kind=_K.NUMBER, unit="%", minimum=0, maximum=100,
           help="% of the athlete's maximum, as the athlete rates it"),
    _field("running.max_pain_free_velocity_mps", "Max pain-free running velocity, measured",
           **_VELOCITY, help="measured by GPS or timing gates"),
    # strength
    _field("strength.isometric_90_90", "Isometric knee flexion 90/90", **_NEWTONS),
    _field("strength.isometric_90_20", "Isometric knee flexion 90/20", **_NEWTONS),
    _field("strength.nordic_n", "Nordic eccentric force", **_NEWTONS),
    _field("strength.nordic_pre_injury_n", "Nordic force before the injury", kind=_K.NUMBER,
           unit="N", minimum=0, maximum=2000, reference_minimum=1,
           help="the injured side before the injury: the reference of C407"),
    _field("strength.heel_raise_reps", "Single-leg heel raises, knee straight", **_REPS),
    _field("strength.heel_raise_bent_knee_reps", "Single-leg heel raises, knee bent ~45°",
           **_REPS, help="soleus-biased"),
    # flexibility
    _field("flexibility.passive_slr_deg", "Passive straight-leg raise", **_BILATERAL, unit="°",
           minimum=0, maximum=180, help="degrees of hip flexion, knee straight"),
    _field("flexibility.ake_deg", "Active knee extension", **_BILATERAL, unit="°",
           minimum=0, maximum=90,
           help="degrees of knee extension from the 90°/90° start: 0 = knee still at 90° "
                "flexion, 90 = fully straight (not the included angle)"),
    _field("flexibility.ake_discomfort", "Discomfort on active knee extension", kind=_K.BOOLEAN),
    _field("flexibility.knee_to_wall_cm", "Knee-to-wall", **_BILATERAL, unit="cm", minimum=0,
           maximum=30, help="centimetres from toe to wall (ankle dorsiflexion)"),
    _field("flexibility.h_test_insecurity", "Askling H-test insecurity", kind=_K.NUMBER,
           unit="0–100", minimum=0, maximum=100),
    # hop
    _field("hop.single_cm", "Single-leg hop", **_CENTIMETRES),
    _field("hop.triple_cm", "Triple hop", **_CENTIMETRES),
    _field("hop.crossover_cm", "Crossover hop", **_CENTIMETRES),
    # technique
    _field("technique.posture", "Posture", **_RATING),
    _field("technique.pelvic_control", "Pelvic control", **_RATING),
    _field("technique.foot_strike", "Foot strike", **_RATING),
    _field("technique.shin_angle", "Shin angle", **_RATING),
    _field("technique.arm_action", "Arm action", **_RATING),
    _field("technique.stable_under_fatigue", "Technique stable under fatigue", kind=_K.BOOLEAN),
    # sprint
    _field("sprint.max_velocity_mps", "Max sprint velocity", **_VELOCITY),
    _field("sprint.pre_injury_max_velocity_mps", "Pre-injury max velocity", **_VELOCITY,
           reference_minimum=1, help="the reference the current velocities are compared with"),
    _field("sprint.gct_asymmetry_pct", "Ground-contact-time asymmetry", kind=_K.NUMBER, unit="%",
           minimum=0, maximum=100,
           help="at ≥ 90 % of max velocity, optical system or IMU"),
    _field("sprint.repeated_sprint_passed", "Repeated-sprint test passed", kind=_K.BOOLEAN,
           help="6 × 30 m, one every 20 s, pain-free, sprint decrement ≤ 10 %"),
    _field("sprint.deceleration_passed", "Deceleration test passed", kind=_K.BOOLEAN,
           help="20-m sprint at ≥ 90 % then a stop within 5 m (or a 505 test), pain-free, "
                "without loss of control"),
    # training
    _field("training.full_team_sessions", "Full team sessions completed", kind=_K.INTEGER,
           minimum=0, maximum=100),
    # readiness
    _field("readiness.confidence", "Athlete confidence", kind=_K.NUMBER, unit="0–100",
           minimum=0, maximum=100),
    # exposure: running load from GPS or timing data (C504, R14, the plan)
    _field("exposure.hsr_m_7d", "High-speed running, last 7 days", **_METRES_7D,
           help="metres above 5.5 m/s"),
    _field("exposure.sprint_m_7d", "Sprinting, last 7 days", **_METRES_7D,
           help="metres above 7.0 m/s"),
    _field("exposure.hsr_m_prior_7d", "High-speed running, the 7 days before", **_METRES_7D),
    _field("exposure.sprint_m_prior_7d", "Sprinting, the 7 days before", **_METRES_7D),
    _field("exposure.pre_injury_hsr_m_7d", "High-speed running, usual week before the injury",
           **_METRES_7D, reference_minimum=1, zero_reference_allowed=True),
    _field("exposure.pre_injury_sprint_m_7d", "Sprinting, usual week before the injury",
           **_METRES_7D, reference_minimum=1, zero_reference_allowed=True),
    _field("exposure.running_load_restored", "Usual running load completed (attested)",
           kind=_K.BOOLEAN,
           help="the clinician attests that the usual weekly running and sprint volume was "
                "completed (for clinics without GPS or timing data)"),
)

REVIEW_SUBFIELDS: Final[dict[str, InputField]] = {
    "date": _field("injury.physician_review.date", "Date of the review", kind=_K.DATE,
                   required=True),
    "management": _field("injury.physician_review.management", "Management decided",
                         kind=_K.CHOICE, choices=REVIEW_MANAGEMENT, required=True),
    "by": _field("injury.physician_review.by", "Reviewing physician", kind=_K.TEXT,
                 max_length=200),
}
"""The parts of ``injury.physician_review``; protocol conditions may read them by path."""

FIELDS_BY_PATH: Final[dict[str, InputField]] = {field.path: field for field in INPUT_FIELDS}

READABLE_FIELDS: Final[dict[str, InputField]] = {
    **FIELDS_BY_PATH, **{f.path: f for f in REVIEW_SUBFIELDS.values()}}
"""Every path a protocol condition may read: the fields, and the parts of the review."""

GROUPS: Final[tuple[str, ...]] = tuple(dict.fromkeys(field.group for field in INPUT_FIELDS))
"""The top-level JSON objects, in the order of section 7."""

REQUIRED_GROUPS: Final[frozenset[str]] = frozenset(
    field.group for field in INPUT_FIELDS if field.required
)

MEASURE_GROUPS: Final[tuple[str, ...]] = tuple(
    group for group in GROUPS if group not in {"athlete", "injury", "assessment", "previous"}
)
"""The groups that hold test results (everything a clinician measures)."""


def bamic_grade_number(grade: str) -> int:
    """The numeric grade of a BAMIC code (``3`` for ``3b``)."""
    return int(grade[0])


def bamic_site(grade: str) -> str | None:
    """The site letter of a BAMIC code (``b`` for ``3b``), ``None`` for plain ``4``."""
    return grade[1] if len(grade) > 1 else None
