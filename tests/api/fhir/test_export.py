"""The FHIR export: golden Bundles, model validation, declared codes and what each resource says."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir_support import (
    codings,
    decision_of,
    entries,
    example_bundle,
    example_document,
    undeclared,
)
from support import EXAMPLES

from api.fhir import codes
from api.fhir.export import decision_bundle
from rules.errors import InvalidInput
from rules.loading import default_protocol

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_CASES = {
    # name → how it is exported (reviewed by eye once; compared structurally since)
    "hamstring-winger-cleared-to-sprint": {"signed": "accept", "report": True},
    "hamstring-red-flag-increasing-swelling-refer": {},
    "calf-missing-tests-heel-raise-and-hop-not-done": {"signed": "protect"},
}
ALL_EXAMPLES = sorted(path.stem for path in EXAMPLES.glob("*.json"))


_DERIVED = re.compile(r"urn:uuid:[0-9a-f-]{36}|\b[0-9a-f]{64}\b|\b[0-9a-f]{32}\b")


def _structure(bundle: dict[str, Any]) -> Any:
    """The Bundle as the fhir.resources models read it: formatting and key order do not count,
    nor the values derived from the decision's id (which hashes the rule base version, so any
    change to the engine's source changes it): resource uuids, the decision id, SHA-256
    digests. Each is replaced by its order of first appearance, so references still have to
    point at the same resources."""
    dumped = json.dumps(Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True),
                        sort_keys=True)
    seen: dict[str, str] = {}
    return json.loads(_DERIVED.sub(lambda m: seen.setdefault(m.group(0), f"#{len(seen)}"),
                                   dumped))


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_bundles(name: str) -> None:
    """The Bundle of each golden example has the structure reviewed once (not the bytes)."""
    bundle = example_bundle(name, **GOLDEN_CASES[name])
    path = GOLDEN / f"{name}.json"
    if os.environ.get("SPRINTCLEAR_REGENERATE_GOLDEN"):
        path.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", "utf-8")
    golden = json.loads(path.read_text("utf-8"))
    assert _structure(bundle) == _structure(golden)


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_every_bundle_validates_and_declares_its_codes(name: str) -> None:
    """Every example's Bundle (signed, with a report) reads back through the R4B models, and
    every code in it is LOINC, SNOMED CT, UCUM, the shipped CodeSystem or a named HL7 one."""
    bundle = example_bundle(name, signed="accept", report=True)
    model = Bundle.model_validate_json(json.dumps(bundle))
    assert model.type == "transaction"
    assert all(entry.request is not None for entry in model.entry or [])
    assert undeclared(bundle) == []


def test_the_codes_used_are_listed_and_each_is_declared() -> None:
    """The codes of all examples' Bundles, listed by system; each one is declared."""
    used: dict[str, set[str]] = {}
    for name in ALL_EXAMPLES:
        for _, system, code in codings(example_bundle(name, signed="accept", report=True)):
            used.setdefault(system, set()).add(code)
    assert used[codes.LOINC] == {"72514-3"}
    assert used[codes.SNOMED] <= set(codes.SNOMED_CODES)
    assert used[codes.UCUM] <= codes.UCUM_UNITS and {"N", "cm", "deg", "{reps}", "m/s",
                                                     "%"} <= used[codes.UCUM]
    assert all(codes.declared_code(code) for code in used[codes.CODE_SYSTEM_URL])
    assert set(used) <= {codes.LOINC, codes.SNOMED, codes.UCUM, codes.CODE_SYSTEM_URL,
                         *codes.HL7_CODES}


def test_an_undeclared_code_is_found() -> None:
    """The check of declared codes fails on a code the CodeSystem does not hold."""
    bundle = example_bundle("hamstring-winger-cleared-to-sprint")
    entries(bundle, "Observation")[0]["code"]["coding"][0]["code"] = "pain.resting"
    entries(bundle, "Condition")[0]["bodySite"][1]["coding"][0]["code"] = "1234567"
    problems = undeclared(bundle)
    assert len(problems) == 2
    assert "sprintclear|pain.resting" in problems[0] + problems[1]


def test_the_shipped_code_system_is_the_generated_one() -> None:
    """api/fhir/data/CodeSystem-sprintclear.json is what `python -m api.fhir.codes` prints."""
    shipped = (Path(codes.__file__).parent / "data" / "CodeSystem-sprintclear.json").read_text(
        "utf-8")
    assert shipped == codes.code_system_text()
    assert codes.code_system().url == "https://sprintclear.org/fhir/CodeSystem/sprintclear"


def test_every_measure_has_a_declared_code_and_unit() -> None:
    """Each measure of the table is LOINC (pain, with a declared method) or sprintclear."""
    for measure in codes.MEASURES.values():
        if measure.system == codes.LOINC:
            assert measure.code in codes.LOINC_CODES and codes.declared_code(measure.method or "")
        else:
            assert codes.declared_code(measure.code), measure.path
        assert measure.unit is None or measure.unit in codes.UCUM_UNITS


def test_the_resources_of_a_signed_decision() -> None:
    """Winger: pain as LOINC with its context, bilateral components with the LSI, success,
    the CarePlan's ceiling and re-assessment, the sign-off and the report's hashes."""
    bundle = example_bundle("hamstring-winger-cleared-to-sprint", signed="accept", report=True)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:3] == ["Patient", "Condition", "Provenance"]
    assert kinds[-3:] == ["GuidanceResponse", "CarePlan", "DocumentReference"]
    observations = {o["code"]["coding"][0]["code"] + "/" + o.get("method", {}).get(
        "coding", [{}])[0].get("code", ""): o for o in entries(bundle, "Observation")}
    rest = observations["72514-3/pain.rest"]
    assert rest["valueQuantity"] == {"value": 0, "unit": "{score}",
                                     "system": codes.UCUM, "code": "{score}"}
    nordic = observations["strength.nordic_n/"]["component"]
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"],
             c["valueQuantity"]["code"]) for c in nordic] == [
        ("injured", 318.0, "N"), ("uninjured", 340.0, "N"), ("lsi", 93.5, "%")]
    guidance = entries(bundle, "GuidanceResponse")[0]
    assert guidance["status"] == "success"
    assert guidance["moduleCanonical"] == ("https://sprintclear.org/fhir/PlanDefinition/"
                                           "sprintclear-rts|2027.1")
    output = {p["name"]: p for p in guidance["contained"][0]["parameter"]}
    assert output["phase"]["valueCoding"]["code"] == "phase.sprint"
    assert output["cleared_to_sprint"]["valueBoolean"] is True
    urls = {e["resource"].get("code", {}).get("coding", [{}])[0].get("code"): e["fullUrl"]
            for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
            and "method" not in e["resource"]}
    reasons = {r["reference"] for r in guidance["reasonReference"]}
    assert urls["sprint.max_velocity_mps"] in reasons  # C401 blocks the next gate
    assert guidance["note"][0]["text"].startswith("In force: sprint, signed by Dr. A. Moreau")
    care_plan = entries(bundle, "CarePlan")[0]
    assert care_plan["period"]["end"] == "2026-03-20" and care_plan["status"] == "active"
    details = [a["detail"] for a in care_plan["activity"]]
    assert {"code": "activity.competition", "do_not": True} in [
        {"code": d["code"]["coding"][0]["code"], "do_not": d.get("doNotPerform")} for d in details
        if d["code"].get("coding")]
    ceiling = [d for d in details if d["code"]["coding"][0]["code"] == "plan.max_velocity"]
    assert [d["quantity"]["value"] for d in ceiling] == [95.0, 9.1]
    provenance = entries(bundle, "Provenance")[0]
    assert provenance["target"][0]["reference"] == next(
        e["fullUrl"] for e in bundle["entry"]
        if e["resource"]["resourceType"] == "GuidanceResponse")
    assert provenance["signature"][0]["type"][0]["code"] == "1.2.840.10065.1.12.1.5"
    assert provenance["activity"]["coding"][0]["code"] == "signoff.accept"
    document = entries(bundle, "DocumentReference")[0]
    attachment = document["content"][0]["attachment"]
    assert attachment["hash"] == "2jmj7l5rSw0yVb/vlWAYkK/YBwk=" and attachment["size"] == 123456
    assert document["identifier"][0]["value"].startswith("e3b0c442")


def test_missing_tests_make_the_guidance_data_required() -> None:
    """A blocking criterion not assessed: status data-required, the measure in dataRequirement."""
    bundle = example_bundle("calf-missing-tests-heel-raise-and-hop-not-done", signed="protect")
    guidance = entries(bundle, "GuidanceResponse")[0]
    assert guidance["status"] == "data-required"
    assert [r["codeFilter"][0]["code"][0]["code"] for r in guidance["dataRequirement"]] == [
        "strength.heel_raise_reps"]
    provenance = entries(bundle, "Provenance")[0]
    assert provenance["activity"]["coding"][0]["code"] == "signoff.override"
    assert provenance["reason"][0]["text"].startswith("Clinical judgement")
    assert provenance["extension"][0]["valueCoding"]["code"] == "phase.protect"
    assert entries(bundle, "CarePlan")[0]["status"] == "revoked"


def test_red_flags_are_in_the_output_parameters() -> None:
    """The red flag R1 is an output parameter with its coded id, message and effect."""
    bundle = example_bundle("hamstring-red-flag-increasing-swelling-refer")
    guidance = entries(bundle, "GuidanceResponse")[0]
    flags = [p for p in guidance["contained"][0]["parameter"] if p["name"] == "red_flag"]
    assert flags[0]["part"][0]["valueCoding"]["code"] == "R1"
    assert "Refer to a physician" in flags[0]["part"][1]["valueString"]
    assert entries(bundle, "Provenance") == [] and entries(bundle, "DocumentReference") == []
    assert guidance["note"][0]["text"].startswith("Not signed by a clinician")


def test_the_name_is_left_out_when_the_caller_may_not_see_it() -> None:
    """include_name=False: the Patient carries the athlete id only, and sport and position
    (which identify an athlete as a name does) are left out too."""
    bundle = example_bundle("hamstring-winger-cleared-to-sprint", include_name=False)
    patient = entries(bundle, "Patient")[0]
    assert "name" not in patient
    assert not [o for o in entries(bundle, "Observation")
                if o["code"]["coding"][0]["code"].startswith("athlete.")]
    assert patient["identifier"] == [{"system": codes.ATHLETE_ID_SYSTEM, "value": "FC-23"}]


def test_an_assessment_of_another_decision_is_refused() -> None:
    """The assessment must be the one the decision was made from (same input_sha256)."""
    decision = decision_of(example_document("hamstring-winger-cleared-to-sprint"))
    with pytest.raises(InvalidInput) as caught:
        decision_bundle(decision, example_document("hamstring-red-flag-increasing-swelling-refer"),
                        protocol=default_protocol())
    assert caught.value.problems[0].field == "input_sha256"


def test_the_readme_mapping_table_is_the_measure_table() -> None:
    """The README's table for clinic IT (measure → code → unit) is generated from MEASURES."""
    from support import REPO

    readme = (REPO / "README.md").read_text("utf-8")
    after = readme[readme.index("<!-- fhir-mapping-table -->"):]
    assert codes.mapping_table() in after


def test_a_decision_of_the_earlier_format_is_refused() -> None:
    """A 2026.1 decision (format 1) is not mapped: refused naming its format."""
    document = example_document("hamstring-winger-cleared-to-sprint")
    decision = {**decision_of(document), "format": "sprintclear-decision/1"}
    with pytest.raises(InvalidInput) as caught:
        decision_bundle(decision, document, protocol=default_protocol())
    assert caught.value.problems[0].field == "format"


def test_sending_the_bundle_twice_creates_nothing_twice() -> None:
    """Each resource with identifiers carries its urn:uuid as one and is created only if none
    has it; the Patient is a conditional update on the athlete id."""
    bundle = example_bundle("hamstring-winger-cleared-to-sprint", signed="accept", report=True)
    for entry in bundle["entry"]:
        resource, request = entry["resource"], entry["request"]
        if resource["resourceType"] == "Patient":
            assert request["method"] == "PUT"
            assert request["url"].startswith("Patient?identifier=")
        elif resource["resourceType"] != "Provenance":
            assert {"system": "urn:ietf:rfc:3986", "value": entry["fullUrl"]} in resource[
                "identifier"]
            assert request["ifNoneExist"] == f"identifier=urn:ietf:rfc:3986|{entry['fullUrl']}"


def test_a_clinics_own_activity_is_named_not_coded() -> None:
    """An activity a clinic's protocol adds is not in the shipped CodeSystem: the CarePlan
    names it in text, and every code of the Bundle is still declared."""
    from engine.decide import evaluator_for
    from rules.loading import default_protocol_text, parse_protocol

    data = json.loads(default_protocol_text())
    data["activities"].append({"id": "aqua_jogging", "name": "Aqua jogging",
                               "from_phase": "protect", "region": "both",
                               "sources": ["S003"]})
    protocol = parse_protocol(json.dumps(data))
    document = example_document("hamstring-winger-cleared-to-sprint")
    decision = evaluator_for(protocol).decide_data(document)
    bundle = json.loads(decision_bundle(decision, document, protocol=protocol)
                        .model_dump_json(exclude_none=True))
    details = [a["detail"] for a in entries(bundle, "CarePlan")[0]["activity"]]
    assert {"text": "Aqua jogging"} in [d["code"] for d in details]
    assert undeclared(bundle) == []
