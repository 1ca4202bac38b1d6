"""``sprintclear evaluate``: summaries, JSON lines, exit codes and error reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import EXAMPLES, INVALID_CASES, hamstring_play, varied

from rules.loading import default_protocol_text
from sprintclear.cli import main


def _run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


def _write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), "utf-8")
    return str(path)


def test_summary_of_a_decision(tmp_path: Path) -> None:
    """Without --json the summary shows phase, clearance, what blocks and activities."""
    path = _write(tmp_path, "a.json", varied(hamstring_play(),
                                             {"strength.isometric_90_90": (271, 320)}))
    result = _run("evaluate", path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Phase        3 run — Progressive running" in out
    assert "to sprint: NO · to play: NO" in out
    assert "✗ C302 needs isometric 90/90 LSI ≥ 90.0 %, measured 84.7 %" in out
    assert "Allowed" in out and "running_70_90pct" in out
    assert "Not yet" in out and "sprint_90_100pct" in out


@pytest.mark.parametrize(("changes", "field", "rule"),
                         [pytest.param(c, f, r, id=i) for i, c, f, r in INVALID_CASES])
def test_invalid_input_exits_2_and_names_the_field(tmp_path: Path, changes: dict[str, Any],
                                                   field: str, rule: str) -> None:
    """Every kind of invalid input: exit status 2 and the field path on standard error."""
    path = _write(tmp_path, "bad.json", varied(hamstring_play(), changes))
    result = _run("evaluate", path)
    assert result.exit_code == 2
    assert f"  {field}: " in result.stderr
    json_result = _run("evaluate", "--json", path)
    assert json_result.exit_code == 2
    error = json.loads(json_result.stdout)["error"]
    assert {"field": field, "rule": rule} in [
        {"field": f["field"], "rule": f["rule"]} for f in error["fields"]]


def test_other_inputs_are_still_decided_in_order(tmp_path: Path) -> None:
    """An invalid input takes its place in the JSON lines; the others are decided, in order."""
    good = _write(tmp_path, "good.json", hamstring_play())
    bad = _write(tmp_path, "bad.json", varied(hamstring_play(), {"pain.rest": 11}))
    result = _run("evaluate", "--json", good, bad, good)
    assert result.exit_code == 2
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in line) for line in lines] == [False, True, False]
    assert lines[0]["phase"]["id"] == "play"
    assert lines[1]["error"]["fields"] == [
        {"field": "pain.rest", "rule": "range", "message": "must be between 0 and 10 (got 11)"}]
    assert "pain.rest: must be between 0 and 10 (got 11)" in result.stderr


def test_stdin_dash(tmp_path: Path) -> None:
    """``-`` reads one assessment from standard input."""
    result = _run("evaluate", "--json", "-", stdin=json.dumps(hamstring_play()))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["cleared_to_play"] is True


def test_unreadable_file_and_broken_json(tmp_path: Path) -> None:
    """A file that cannot be read or parsed is an invalid input, reported and exit 2."""
    broken = _write(tmp_path, "broken.json", "{\"athlete\": ")
    result = _run("evaluate", str(tmp_path / "missing.json"), broken)
    assert result.exit_code == 2
    assert "missing.json: the input cannot be read" in result.stderr
    assert "broken.json: the assessment is not valid JSON" in result.stderr


def test_directory_expands_to_its_json_files() -> None:
    """A directory argument decides each of its *.json files, sorted by name."""
    result = _run("evaluate", "--json", str(EXAMPLES))
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == len(list(EXAMPLES.glob("*.json")))


def test_clinic_protocol_option(tmp_path: Path) -> None:
    """--protocol decides with a clinic's file; a bad protocol file is exit 2 with the entry."""
    document = json.loads(default_protocol_text())
    document["id"] = "clinic-south"
    clinic = _write(tmp_path, "clinic.json", document)
    assessment = _write(tmp_path, "a.json", hamstring_play())
    result = _run("evaluate", "--json", "--protocol", clinic, assessment)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rulebase"]["protocol"] == "clinic-south"
    document["criteria"][0]["parts"][0]["field"] = "pain.walk"
    bad = _write(tmp_path, "bad-clinic.json", document)
    result = _run("evaluate", "--protocol", bad, assessment)
    assert result.exit_code == 2
    assert "criteria.C101.parts.0.field: unknown input field 'pain.walk'" in result.stderr


def test_protocol_export_and_check(tmp_path: Path) -> None:
    """The default protocol exports to a file that checks as valid."""
    out = tmp_path / "mine.json"
    assert _run("protocol", "export", "-o", str(out)).exit_code == 0
    result = _run("protocol", "check", str(out))
    assert result.exit_code == 0
    assert "valid protocol sprintclear-rts" in result.stdout


def test_installed_command_runs() -> None:
    """The ``sprintclear`` entry point works as a real process."""
    example = next(iter(sorted(EXAMPLES.glob("*.json"))))
    result = subprocess.run([sys.executable, "-m", "sprintclear", "evaluate", str(example)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Phase" in result.stdout


def test_jobs_give_the_same_output_in_the_same_order(tmp_path: Path) -> None:
    """``--jobs 2`` (a process pool) prints the very bytes of ``--jobs 1``, invalid and
    unreadable inputs in their places; the progress bar stays off a non-terminal stderr."""
    for index, example in enumerate(sorted(EXAMPLES.glob("*.json"))):
        (tmp_path / f"{index:02d}-{example.name}").write_text(example.read_text("utf-8"))
    _write(tmp_path, "05-bad.json", varied(hamstring_play(), {"pain.rest": 11}))
    _write(tmp_path, "07-broken.json", "{")
    for flags in (["--json"], []):
        one = _run("evaluate", *flags, "--jobs", "1", str(tmp_path))
        two = _run("evaluate", *flags, "--jobs", "2", str(tmp_path))
        assert one.exit_code == two.exit_code == 2
        assert one.stdout == two.stdout
        assert one.stderr == two.stderr
    lines = _run("evaluate", "--json", "--jobs", "2", str(tmp_path)).stdout.splitlines()
    assert len(lines) == len(list(EXAMPLES.glob("*.json"))) + 2
    assert sum("error" in json.loads(line) for line in lines) == 2
