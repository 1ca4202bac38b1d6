"""The FHIR import: round trips give the same assessment and decision; what cannot be mapped
is refused naming the resource and element."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fhir_support import decision_of, entries, evaluator, example_bundle, example_document
from support import EXAMPLES

from api.fhir.importing import assessment_from_bundle, assessment_from_resources, parse_bundle
from engine.assessment import parse_assessment
from rules.errors import InvalidAssessment

ALL_EXAMPLES = sorted(path.stem for path in EXAMPLES.glob("*.json"))
WINGER = "hamstring-winger-cleared-to-sprint"


def _import(bundle: dict[str, Any]) -> dict[str, Any]:
    return assessment_from_bundle(json.dumps(bundle))


def _refused(bundle: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidAssessment) as caught:
        _import(bundle)
    return [str(problem) for problem in caught.value.problems]


def _observation(bundle: dict[str, Any], code: str, method: str | None = None
                 ) -> dict[str, Any]:
    for observation in entries(bundle, "Observation"):
        if observation["code"]["coding"][0]["code"] != code:
            continue
        if method is None or observation["method"]["coding"][0]["code"] == method:
            return observation
    raise AssertionError(code)


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_round_trip_gives_the_same_assessment_and_decision(name: str) -> None:
    """Export → import gives the same canonical assessment (same SHA-256), and deciding it
    gives the identical decision (signed Bundles too: what the export derives is skipped)."""
    document = example_document(name)
    imported = _import(example_bundle(name, signed="accept", report=True))
    assert parse_assessment(imported).input_sha256 == parse_assessment(document).input_sha256
    assert decision_of(imported) == decision_of(document)


def test_an_unknown_observation_is_refused_naming_resource_and_element() -> None:
    """A measure sprintclear does not map: the Observation and its code are named."""
    bundle = example_bundle(WINGER)
    observation = _observation(bundle, "strength.nordic_n")
    observation["id"] = "obs-7"
    observation["code"]["coding"][0] = {"system": "http://loinc.org", "code": "8867-4"}
    problems = _refused(bundle)
    assert problems == ["Observation/obs-7.code: is not a measure sprintclear maps (codes: "
                        "http://loinc.org|8867-4)"]


def test_a_unit_that_is_not_the_tables_is_refused_not_converted() -> None:
    """Nordic force in lbf: refused at the component's valueQuantity.code."""
    bundle = example_bundle(WINGER)
    observation = _observation(bundle, "strength.nordic_n")
    observation["component"][0]["valueQuantity"].update(code="[lbf_av]", unit="lbf")
    problems = _refused(bundle)
    assert len(problems) == 1
    assert ".component[0].valueQuantity.code: strength.nordic_n is recorded in UCUM 'N'" in (
        problems[0])


def test_a_pain_score_without_its_context_is_refused() -> None:
    """LOINC 72514-3 without a method: which pain it is cannot be known."""
    bundle = example_bundle(WINGER)
    del _observation(bundle, "72514-3", "pain.rest")["method"]
    assert any(".method: a pain score (LOINC 72514-3) needs its context" in p
               for p in _refused(bundle))


def test_a_condition_without_laterality_is_refused() -> None:
    """The injured side is required: no SNOMED CT laterality, the bodySite is named."""
    bundle = example_bundle(WINGER)
    entries(bundle, "Condition")[0]["bodySite"].pop()
    assert any("Condition" in p and ".bodySite: no laterality" in p for p in _refused(bundle))


def test_an_lsi_that_disagrees_with_the_sides_is_refused() -> None:
    """A bilateral measure whose lsi component does not follow from its sides."""
    bundle = example_bundle(WINGER)
    _observation(bundle, "strength.nordic_n")["component"][2]["valueQuantity"]["value"] = 99.0
    assert any("the lsi component (99.0 %) does not agree with the sides (93.5 %)" in p
               for p in _refused(bundle))


def test_a_whole_number_measure_with_a_fraction_is_refused() -> None:
    """Pain is an NRS integer: 2.5 is refused at valueQuantity.value."""
    bundle = example_bundle(WINGER)
    _observation(bundle, "72514-3", "pain.exercise")["valueQuantity"]["value"] = 2.5
    assert any(".valueQuantity.value: pain.exercise must be a whole number" in p
               for p in _refused(bundle))


def test_the_same_measure_twice_on_one_day_is_refused() -> None:
    """Two readings of one measure on the assessment day: which counts is not guessed."""
    bundle = example_bundle(WINGER)
    twin = copy.deepcopy(next(e for e in bundle["entry"]
                              if e["resource"]["resourceType"] == "Observation"
                              and e["resource"]["code"]["coding"][0]["code"] == "hop.single_cm"))
    twin["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    bundle["entry"].append(twin)
    assert any("hop.single_cm is given twice on 2026-03-17" in p for p in _refused(bundle))


def test_readings_of_an_earlier_day_are_not_carried_into_the_assessment() -> None:
    """An Observation dated before the assessment day is left out: not assessed, not passed."""
    bundle = example_bundle(WINGER)
    _observation(bundle, "72514-3", "pain.sprint")["effectiveDateTime"] = "2026-03-10"
    imported = _import(bundle)
    assert "sprint" not in imported["pain"]
    decision = evaluator().decide_data(imported)
    assert "pain.sprint" in {m["field"] for m in decision["missing_screening"]}


def test_lenient_reading_skips_what_is_not_sprintclears() -> None:
    """strict=False (the CDS Hooks service): a blood pressure and an unrelated Condition are
    skipped, and the assessment is the exported one."""
    bundle = example_bundle(WINGER)
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "effectiveDateTime": "2026-03-18"}})
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "code": {"text": "asthma"}, "subject": {"display": "x"}}})
    located = parse_bundle(json.dumps(bundle))
    document = assessment_from_resources(located, strict=False)
    assert parse_assessment(document).input_sha256 == parse_assessment(
        example_document(WINGER)).input_sha256
    with pytest.raises(InvalidAssessment):
        assessment_from_resources(located, strict=True)


def test_a_file_that_is_not_a_bundle_is_refused() -> None:
    """Not valid FHIR (an Observation without its required code): the element is named."""
    with pytest.raises(InvalidAssessment) as caught:
        assessment_from_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                           "entry": [{"resource": {
                                               "resourceType": "Observation",
                                               "status": "final"}}]}))
    assert caught.value.summary == "the file is not a valid FHIR R4 Bundle"
    assert caught.value.problems[0].field.startswith("Bundle.entry")
