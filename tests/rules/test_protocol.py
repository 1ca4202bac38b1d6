"""The default protocol against ``protocol.md``, and a clinic's own protocol file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support import SPEC, hamstring_play

from engine import Evaluator, rulebase_version
from rules import ProtocolError, default_protocol, load_protocol, parse_protocol
from rules.loading import default_protocol_text


def _spec_text() -> str:
    if not SPEC.exists():
        pytest.skip(f"the clinical contract is not beside the checkout ({SPEC})")
    return SPEC.read_text("utf-8")


def _table_rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:] if rows else rows


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_phases_match_the_spec() -> None:
    """Six phases with the spec's numbers, ids and names."""
    rows = _table_rows(_section(_spec_text(), "## 2. Phases", "**Cleared to sprint**"))
    expected = [(int(r[0]), r[1].strip("`"), r[2]) for r in rows]
    assert [(p.number, p.id, p.name) for p in default_protocol().phases] == expected


def test_criteria_match_the_spec() -> None:
    """Every criterion of section 3 with its id, gate, name and region, and no other."""
    text = _section(_spec_text(), "## 3. Gates", "## 4. Safety rules")
    expected, gate = {}, None
    for line in text.splitlines():
        heading = re.match(r"### (G[1-5]) ", line)
        if heading:
            gate = heading.group(1)
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"C[1-5][0-9]{2}", row[0]):
            expected[row[0]] = (gate, row[1], row[3])
    found = {c.id: (c.gate, c.name, c.region) for c in default_protocol().criteria}
    assert found == expected


def test_red_flags_holds_and_cautions_match_the_spec() -> None:
    """The ids of sections 4.1 (red flags), 4.2 (holds) and 4.4 (cautions), table by table."""
    text = _spec_text()
    protocol = default_protocol()
    for heading, end, found in (
            ("### 4.1 Red flags", "**Symptom flare", protocol.red_flags),
            ("### 4.2 Holds", "### 4.3", protocol.holds),
            ("### 4.4 Cautions", "### 4.5", protocol.cautions)):
        rows = _table_rows(_section(text, heading, end))
        assert [r.id for r in found] == [row[0] for row in rows], heading
    kinds = {r.id: r.effect.kind for r in protocol.red_flags}
    assert kinds == {"R1": "refer", "R2": "cap", "R3": "flare", "R4": "flare", "R10": "cap",
                     "R11": "refer"}
    caps = {r.id: r.effect.cap for r in protocol.red_flags}
    assert caps["R10"] == "run" and caps["R1"] == caps["R2"] == caps["R11"] == "protect"
    holds = {h.id: h.effect for h in protocol.holds}
    assert holds["R5"].kind == "cap" and holds["R5"].cap == "sprint"
    assert holds["R6"].kind == "signed_step" and holds["R6"].unsigned_cap == "run"
    assert (holds["R6"].steps, holds["R6"].same_day_steps) == (1, 0)
    assert holds["R13"].kind == "screening"


def test_screening_matches_section_4_3() -> None:
    """The screening table: each field, the first phase that needs it, and its region."""
    found = {(s.field, s.region): s.from_phase for s in default_protocol().screening}
    assert found == {
        ("pain.rest", "both"): "load", ("signs.swelling_increasing", "both"): "load",
        ("signs.avulsion_suspected", "hamstring"): "load",
        ("signs.dvt_suspected", "calf"): "load",
        ("pain.next_morning", "both"): "run", ("pain.exercise", "both"): "run",
        ("pain.running", "both"): "sprint", ("pain.sprint", "both"): "train"}


def test_floors_and_plan_figures_match_sections_4_5_and_6() -> None:
    """Grade floors 7/7/14/21/42, unknown as grade 2, 28 for site c or tendon, +7 extras,
    play = sprint + 7; ceilings 0/70/90/100; re-assess 2/2/3/3/7 days, 2 after a red flag;
    surveillance at 1, 2, 6 and 15 weeks."""
    protocol = default_protocol()
    floors = protocol.day_floors
    assert floors.sprint_by_grade == {"0": 7, "1": 7, "2": 14, "3": 21, "4": 42}
    assert floors.unknown_grade == "2" and floors.play_after_sprint == 7
    assert [m.days for m in floors.minimums] == [28]
    assert [e.days for e in floors.extra_days] == [7, 7, 7, 7]
    plan = protocol.plan
    assert plan.velocity_ceiling_pct == {"protect": 0, "load": 70, "run": 90, "sprint": 100,
                                         "train": 100, "play": 100}
    assert plan.reassess_days == {"protect": 2, "load": 2, "run": 3, "sprint": 3, "train": 7}
    assert plan.red_flag_reassess_days == 2 and plan.volume_from_phase == "run"
    assert protocol.surveillance.weeks == (1, 2, 6, 15)
    assert protocol.surveillance.then_every_months == 3


def test_activities_match_the_spec() -> None:
    """Every activity of section 6's minimum catalogue, from the phase and for the region
    the spec gives."""
    rows = _table_rows(_section(_spec_text(), "## 6. Activities", "**Maintenance**"))
    expected = {row[0].strip("`"): (row[1], row[2]) for row in rows}
    found = {a.id: (a.from_phase, a.region) for a in default_protocol().activities}
    assert {k: found.get(k) for k in expected} == expected


def test_maintenance_is_region_specific() -> None:
    """Hamstring: Nordics; calf: straight- and bent-knee raises; both: sprint exposure."""
    protocol = default_protocol()
    assert [m.region for m in protocol.maintenance] == ["hamstring", "calf", "both"]


def test_profiles_match_the_spec() -> None:
    """standard has L = 4, conservative L = 0."""
    limits = {p.id: p.exercise_pain_limit for p in default_protocol().profiles}
    assert limits == {"standard": 4, "conservative": 0}


def test_every_entry_carries_rationale_and_sources() -> None:
    """Each criterion, safety rule and activity has its provenance, and seeds are cited by title."""
    protocol = default_protocol()
    for item in (*protocol.criteria, *protocol.safety_rules):
        assert item.rationale and item.sources, item.id  # type: ignore[union-attr]
    for activity in protocol.activities:
        assert activity.sources, activity.id
    seeds = [s for s in protocol.sources if s.kind == "seed"]
    assert [s.id for s in seeds] == ["S000", "S001", "S002", "S003", "S004"]
    for seed in seeds:
        assert len(seed.citation) > 40  # the title, not just the file number


def test_conventions_are_marked() -> None:
    """Thresholds the spec marks [convention] cite the convention source, so clinics see them."""
    conventions = {c.id for c in default_protocol().criteria if "convention" in c.sources}
    assert {"C105", "C204", "C302", "C303", "C305", "C308", "C310", "C312", "C313", "C401",
            "C406", "C407", "C502", "C504"} <= conventions


# ---- a clinic's protocol -------------------------------------------------------------

def _default_document() -> dict[str, Any]:
    return json.loads(default_protocol_text())


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_clinic_protocol_changes_a_threshold_and_adds_an_activity(tmp_path: Path) -> None:
    """A clinic file with a stricter C302 and a new activity is used as written."""
    document = _default_document()
    document["id"] = "clinic-north"
    next(c for c in document["criteria"] if c["id"] == "C302")["parts"][0]["threshold"] = 95
    document["activities"].append({"id": "aqua_jogging", "name": "Aqua jogging",
                                   "from_phase": "load", "sources": ["convention"]})
    clinic = load_protocol(_write(tmp_path, document))
    decision = Evaluator(clinic).decide(hamstring_play() | {
        "strength": {**hamstring_play()["strength"],
                     "isometric_90_90": {"injured": 280, "uninjured": 300}}})
    c302 = next(c for c in decision.criteria if c.id == "C302")
    assert c302.status == "unmet" and c302.threshold == 95
    assert "aqua_jogging" in decision.allowed_activities
    assert decision.rulebase.protocol == "clinic-north"
    assert decision.rulebase.version == rulebase_version(clinic) != rulebase_version(
        default_protocol())


@pytest.mark.parametrize(
    ("mutate", "where", "rule"),
    [
        (lambda d: d["criteria"][10]["parts"][0].update(field="strength.isometric_9090"),
         "criteria.C302.parts.0.field", "unknown_field"),
        (lambda d: d["criteria"][10]["parts"][0].update(field="pain.rest"),
         "criteria.C302.parts.0.field", "field_kind"),
        (lambda d: d["criteria"][10]["parts"][0].update(threshold="ninety"),
         "criteria.C302.parts.0.threshold", "threshold_type"),
        (lambda d: d["criteria"][1]["parts"][0].update(threshold=11),
         "criteria.C102.parts.0.threshold", "range"),
        (lambda d: d["criteria"].pop(10), "criteria.C302", "missing"),
        (lambda d: d["red_flags"].pop(2), "red_flags.R3", "missing"),
        (lambda d: d["holds"].pop(1), "holds.R6", "missing"),
        (lambda d: d["cautions"].pop(5), "cautions.R14", "missing"),
        (lambda d: d["activities"].pop(0), "activities.walking", "missing"),
        (lambda d: d["criteria"].append(dict(d["criteria"][0])), "criteria.C101", "duplicate"),
        (lambda d: d["criteria"][0].update(gate="G2"), "criteria.C101.gate", "gate"),
        (lambda d: d["criteria"][0].update(sources=["nobody2030"]), "criteria.C101.sources",
         "unknown_source"),
        (lambda d: d["activities"][0].update(from_phase="jog"), "activities.walking.from_phase",
         "phase"),
        (lambda d: d["red_flags"][1].update(
            trigger={"measure": "phase", "op": "==", "threshold": "play"}),
         "red_flags.R2.trigger.0.measure", "measure"),
        (lambda d: d["holds"][0]["effect"].update(cap="jog"), "holds.R5.effect.cap", "phase"),
        (lambda d: d["screening"][0].update(field="pain.restt"), "screening.0.field",
         "unknown_field"),
        (lambda d: d["criteria"][0]["parts"][0].update(if_missing=True),
         "criteria.C101.parts.0.if_missing", "if_missing"),
        (lambda d: d["criteria"][10]["parts"][0].update(zero_reference="passes"),
         "criteria.C302.parts.0.zero_reference", "zero_reference"),
        (lambda d: d["plan"]["velocity_ceiling_pct"].pop("run"), "plan.velocity_ceiling_pct",
         "required"),
        (lambda d: d["red_flags"][1]["trigger"].update(
            fallback={"measure": "value", "field": "pain.rest", "op": "==", "threshold": 0}),
         "red_flags.R2.trigger.0.fallback", "fallback"),
        (lambda d: d["criteria"][0].update(colour="red"), "criteria.C101.colour",
         "extra_forbidden"),
        (lambda d: d["profiles"][0].update(exercise_pain_limit=12),
         "profiles.standard.exercise_pain_limit", "less_than_equal"),
        (lambda d: d["phases"].pop(), "phases", "phases"),
    ],
    ids=["unknown-field", "wrong-field-kind", "text-threshold", "threshold-out-of-range",
         "criterion-removed", "red-flag-removed", "hold-removed", "caution-removed",
         "activity-removed", "duplicate-id", "wrong-gate", "unknown-source", "unknown-phase",
         "red-flag-reading-the-phase", "hold-cap-unknown-phase", "screening-unknown-field",
         "criterion-if-missing", "zero-reference-on-lsi", "plan-ceiling-missing",
         "fallback-on-a-trigger", "unknown-key", "profile-limit-out-of-range",
         "phase-removed"],
)
def test_invalid_protocol_names_the_offending_entry(tmp_path: Path, mutate: Any, where: str,
                                                    rule: str) -> None:
    """A bad protocol file is refused, and the problem names the entry by its id."""
    document = _default_document()
    mutate(document)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(_write(tmp_path, document))
    assert (where, rule) in {(p.field, p.rule) for p in caught.value.problems}, \
        caught.value.problems


def test_unreadable_and_non_json_protocol_files(tmp_path: Path) -> None:
    """A missing file or broken JSON is a ProtocolError, not a stack trace."""
    with pytest.raises(ProtocolError):
        load_protocol(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", "utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(broken)
    assert caught.value.problems[0].rule == "json"


def test_default_protocol_text_round_trips() -> None:
    """The shipped file parses to the default protocol (same content hash)."""
    assert parse_protocol(default_protocol_text()).content_hash == default_protocol().content_hash
