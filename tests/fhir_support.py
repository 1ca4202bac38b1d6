"""Shared material of the FHIR and CDS Hooks tests: example Bundles and the codes they use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from support import EXAMPLES

from api.fhir import codes
from api.fhir.export import SignedReport, bundle_json, decision_bundle
from api.store.records import Signoff
from engine.decide import evaluator_for
from rules.loading import default_protocol


@cache
def evaluator() -> Any:
    return evaluator_for(default_protocol())


def example_document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return document


def decision_of(document: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = evaluator().decide_data(document)
    return data


def signoff_for(decision: dict[str, Any], *, override: str | None = None) -> Signoff:
    """A clinician's sign-off of ``decision``, as the store would give it back."""
    recommended = decision["phase"]["id"]
    return Signoff(id="sig_test", decision_id=decision["decision_id"],
                   action="override" if override else "accept",
                   recommended_phase=recommended, signed_phase=override or recommended,
                   reason="Clinical judgement: repeat the hop tests first" if override else None,
                   clinician="Dr. A. Moreau", clinician_key_id="key_test",
                   signed_at="2026-03-17T10:00:00Z")


REPORT = SignedReport(url="https://clinic.example/v1/decisions/d1/report.pdf", size=123456,
                      sha1_base64="2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
                      sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                      created_at="2026-03-17T10:05:00Z")


def example_bundle(name: str, *, signed: str | None = None, report: bool = False,
                   include_name: bool = True) -> dict[str, Any]:
    """The Bundle of an example as JSON data. ``signed``: "accept" or a phase to override to."""
    document = example_document(name)
    decision = decision_of(document)
    signoff = None
    if signed is not None:
        signoff = signoff_for(decision, override=None if signed == "accept" else signed)
    bundle = decision_bundle(decision, document, protocol=default_protocol(), signoff=signoff,
                             report=REPORT if report else None, include_name=include_name)
    data: dict[str, Any] = json.loads(bundle_json(bundle))
    return data


def codings(node: Any, where: str = "Bundle") -> Iterator[tuple[str, str, str]]:
    """(where, system, code) of every Coding and Quantity in a FHIR JSON tree."""
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield where, node["system"], node["code"]
        for key, value in node.items():
            yield from codings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from codings(value, f"{where}[{index}]")


def undeclared(node: Any) -> list[str]:
    """Every code in ``node`` that is not declared by LOINC, SNOMED CT, UCUM, the shipped
    CodeSystem or the HL7 code systems the mapping names (with where it is)."""
    problems = []
    for where, system, code in codings(node):
        if system == codes.LOINC:
            ok = code in codes.LOINC_CODES
        elif system == codes.SNOMED:
            ok = code in codes.SNOMED_CODES
        elif system == codes.UCUM:
            ok = code in codes.UCUM_UNITS
        elif system == codes.CODE_SYSTEM_URL:
            ok = codes.declared_code(code)
        else:
            ok = code in codes.HL7_CODES.get(system, frozenset())
        if not ok:
            problems.append(f"{where}: {system}|{code}")
    return problems


def entries(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
