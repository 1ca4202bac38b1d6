"""engine.runtime.settle: what the long-running commands do after start-up."""

from __future__ import annotations

import subprocess
import sys


def test_settle_freezes_start_up_and_raises_the_young_threshold() -> None:
    """Run in a child process: the test process's own collector is left as it is."""
    code = ("import gc; from engine.runtime import YOUNG_THRESHOLD, settle; "
            "before = gc.get_threshold(); settle(); after = gc.get_threshold(); "
            "assert after == (YOUNG_THRESHOLD, *before[1:]), (before, after); "
            "assert gc.get_freeze_count() > 0; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
