"""``sprintclear export fhir`` and ``sprintclear import fhir``: files in, Bundle and
assessment out, the round trip, and refusals with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from support import EXAMPLES

from sprintclear.cli import main

WINGER = EXAMPLES / "hamstring-winger-cleared-to-sprint.json"
RED_FLAG = EXAMPLES / "hamstring-red-flag-increasing-swelling-refer.json"


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _decision(tmp_path: Path, example: Path) -> Path:
    result = _run("evaluate", "--json", str(example))
    assert result.exit_code == 0, result.output
    path = tmp_path / "decision.json"
    path.write_text(result.stdout, "utf-8")
    return path


def test_export_import_evaluate_gives_the_identical_decision(tmp_path: Path) -> None:
    """evaluate → export fhir → import fhir → evaluate: the same decision, byte for byte."""
    decision = _decision(tmp_path, WINGER)
    bundle, assessment = tmp_path / "bundle.json", tmp_path / "assessment.json"
    exported = _run("export", "fhir", str(decision), "--assessment", str(WINGER),
                    "-o", str(bundle))
    assert exported.exit_code == 0, exported.output
    data = json.loads(bundle.read_text("utf-8"))
    assert data["resourceType"] == "Bundle" and data["type"] == "transaction"
    imported = _run("import", "fhir", str(bundle), "-o", str(assessment))
    assert imported.exit_code == 0, imported.output
    again = _run("evaluate", "--json", str(assessment))
    assert again.stdout == decision.read_text("utf-8")


def test_export_to_standard_output_without_the_name(tmp_path: Path) -> None:
    """Without -o the Bundle is printed; --no-name leaves the athlete's name out."""
    result = _run("export", "fhir", str(_decision(tmp_path, WINGER)), "--assessment",
                  str(WINGER), "--no-name")
    assert result.exit_code == 0, result.output
    patient = json.loads(result.stdout)["entry"][0]["resource"]
    assert patient["resourceType"] == "Patient" and "name" not in patient


def test_export_refuses_an_assessment_of_another_decision(tmp_path: Path) -> None:
    """The assessment must be the decision's own: exit 2, naming input_sha256."""
    result = _run("export", "fhir", str(_decision(tmp_path, WINGER)), "--assessment",
                  str(RED_FLAG))
    assert result.exit_code == 2
    assert "input_sha256: the assessment's SHA-256 is" in result.stderr


def test_export_refuses_what_is_not_a_decision(tmp_path: Path) -> None:
    """An assessment given as the decision: exit 2 saying what is expected."""
    result = _run("export", "fhir", str(WINGER), "--assessment", str(WINGER))
    assert result.exit_code == 2
    assert "is not a decision" in result.stderr


def test_import_refuses_what_it_cannot_map(tmp_path: Path) -> None:
    """A Condition without laterality: exit 2, the resource and element named, no file."""
    decision = _decision(tmp_path, WINGER)
    bundle = tmp_path / "bundle.json"
    _run("export", "fhir", str(decision), "--assessment", str(WINGER), "-o", str(bundle))
    data = json.loads(bundle.read_text("utf-8"))
    condition = data["entry"][1]["resource"]
    condition["id"] = "inj-1"
    condition["bodySite"].pop()
    bundle.write_text(json.dumps(data), "utf-8")
    output = tmp_path / "assessment.json"
    result = _run("import", "fhir", str(bundle), "-o", str(output))
    assert result.exit_code == 2
    assert "Condition/inj-1.bodySite: no laterality" in result.stderr
    assert not output.exists()
