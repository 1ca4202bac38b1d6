"""``sprintclear export fhir`` and ``sprintclear import fhir``: the FHIR mapping on files.

Both call :mod:`api.fhir` (the same code as ``GET /v1/decisions/{id}/fhir`` and the CDS
Hooks service), then print or write; exit codes are those of :mod:`sprintclear.exits`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rules.errors import InvalidAssessment, InvalidInput
from sprintclear.exits import fail, protocol_or_exit

__all__ = ["export_group", "import_group"]


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: the {what} cannot be read: {exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{path}: the {what} is not valid JSON (line {exc.lineno} column {exc.colno}: "
             f"{exc.msg})")


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", "utf-8")
    except OSError as exc:
        fail(f"{output}: cannot be written: {exc.strerror or exc}")
    click.echo(f"wrote {output}", err=True)


@click.group("export")
def export_group() -> None:
    """Export a decision in a clinical standard."""


@export_group.command("fhir")
@click.argument("decision_path", metavar="DECISION.json",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--assessment", "assessment_path", required=True, metavar="INPUT.json",
              type=click.Path(path_type=Path, dir_okay=False),
              help="The assessment the decision was made from (its measures become the "
                   "Observations; its SHA-256 must be the decision's input_sha256).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the Bundle to this file instead of standard output.")
@click.option("--protocol", "protocol_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The clinic's protocol file that made the decision (default: the shipped "
                   "protocol).")
@click.option("--no-name", is_flag=True, help="Leave the athlete's name out of the Patient.")
def export_fhir(decision_path: Path, assessment_path: Path, output: Path | None,
                protocol_path: Path | None, no_name: bool) -> None:
    """Write DECISION.json (one decision of ``evaluate --json``) as a FHIR R4 transaction
    Bundle: Patient, Condition, Observations, GuidanceResponse and CarePlan. A decision
    decided on the command line has no sign-off, so no Provenance or DocumentReference."""
    from api.fhir.export import bundle_json, decision_bundle

    protocol = protocol_or_exit(protocol_path)
    decision = _read_json(decision_path, "decision")
    if not isinstance(decision, dict) or "decision_id" not in decision:
        fail(f"{decision_path}: is not a decision (one object of `sprintclear evaluate "
             f"--json`)")
    made_by = (decision.get("rulebase") or {}).get("protocol_sha256")
    if made_by is not None and made_by != protocol.content_hash:
        fail(f"{decision_path}: the decision was made by another protocol file "
             f"(protocol_sha256 {made_by}); give it with --protocol")
    document = _read_json(assessment_path, "assessment")
    try:
        bundle = decision_bundle(decision, document, protocol=protocol,
                                 include_name=not no_name)
    except (InvalidAssessment, InvalidInput) as exc:
        fail(f"{assessment_path}: {exc.summary}", [str(p) for p in exc.problems])
    _write(bundle_json(bundle), output)


@click.group("import")
def import_group() -> None:
    """Import an assessment from a clinical standard."""


@import_group.command("fhir")
@click.argument("bundle_path", metavar="BUNDLE.json",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the assessment to this file instead of standard output.")
def import_fhir(bundle_path: Path, output: Path | None) -> None:
    """Turn a FHIR Bundle of a Patient, the injury's Condition and Observations into an
    assessment input (protocol section 7). Whatever cannot be mapped is refused, naming
    the resource and element; the assessment is validated before it is written."""
    from api.fhir.importing import assessment_from_bundle
    from engine.assessment import parse_assessment

    try:
        text = bundle_path.read_bytes()
    except OSError as exc:
        fail(f"{bundle_path}: cannot be read: {exc.strerror or exc}")
    try:
        assessment = parse_assessment(assessment_from_bundle(text))
    except InvalidAssessment as exc:
        fail(f"{bundle_path}: {exc.summary}", [str(p) for p in exc.problems])
    _write(json.dumps(assessment.document, indent=2, ensure_ascii=False), output)
