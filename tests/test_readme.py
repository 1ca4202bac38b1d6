"""The README's commands and sample output stay true."""

from __future__ import annotations

import re
import subprocess
import sys

from support import REPO


def _block_after(marker: str) -> str:
    text = (REPO / "README.md").read_text("utf-8")
    after = text[text.index(marker):]
    match = re.search(r"```[a-z]*\n(.*?)```", after, re.S)
    assert match, marker
    return match.group(1)


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run extracts and runs the README's test command, which runs pytest."""
    command = _block_after("<!-- test-command").strip()
    assert "pytest" in command and "system-deps" in command
    script = (REPO / ".ci" / "run").read_text("utf-8")
    assert "<!-- test-command" in script and "README.md" in script


def test_sample_output_is_what_the_command_prints() -> None:
    """The README's sample summary is the real output (the version line aside)."""
    sample = _block_after("<!-- sample-output").rstrip("\n").splitlines()
    source = sample[0].removeprefix("== ")
    result = subprocess.run([sys.executable, "-m", "sprintclear", "evaluate", source],
                            capture_output=True, text=True, check=True, cwd=REPO)
    live = result.stdout.rstrip("\n").splitlines()

    def without_version(lines: list[str]) -> list[str]:
        cut = next(i for i, line in enumerate(lines) if line.startswith("Rule base"))
        return lines[:cut]

    assert without_version(live) == without_version(sample)


def test_every_curl_example_fails_on_an_error() -> None:
    """An error answer never passes as a result (nor is it saved as report.pdf)."""
    text = (REPO / "README.md").read_text("utf-8")
    calls = re.findall(r"^\s*curl .*$", text, re.M)
    assert calls
    for call in calls:
        assert re.search(r"--fail(-with-body)?\b", call), call
        if " -o " in call:
            assert "--fail-with-body" not in call, call  # the error body would be the file


def test_the_input_commands_are_linked() -> None:
    text = (REPO / "README.md").read_text("utf-8")
    assert "sprintclear fields" in text and "sprintclear schema" in text
