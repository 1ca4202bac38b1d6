"""The README's report demo (demo PKI → report → sign → verify) works as written."""

from __future__ import annotations

import re
import subprocess
import sys

from support import REPO


def _demo_block() -> str:
    text = (REPO / "README.md").read_text("utf-8")
    section = text[text.index("<!-- section: reports -->"):text.index("<!-- /section: reports -->")]
    after = section[section.index("<!-- report-demo"):]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match
    return match.group(1)


def test_the_readme_demo_runs_offline_and_verifies() -> None:
    """Every command of the demo succeeds and the signed report verifies as VALID."""
    script = _demo_block().replace(".venv/bin/sprintclear", f"{sys.executable} -m sprintclear")
    assert script.count("-m sprintclear") == 4
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"signed\.pdf: VALID\n", result.stdout)
    assert "the same decision" in result.stdout
