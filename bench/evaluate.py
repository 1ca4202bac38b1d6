"""Benchmark: ``sprintclear evaluate --json`` of many files, one process against a pool.

    python bench/evaluate.py [--count 10000] [--jobs 2] [--seed 7]

Writes ``--count`` varied assessments (bench/decide.py's generator) as files
in a temporary directory, then runs ``sprintclear evaluate --json DIR`` with
``--jobs 1`` and with ``--jobs N`` as separate processes, and prints for each
the wall time, the CPU time of the command and its workers (user + system,
from ``resource.getrusage(RUSAGE_CHILDREN)``), and the speed-up. The two
outputs must be byte-identical (checked). Target (issue 11): ``--jobs 2`` at
least 1.8× faster than one process on 10,000 files, on an otherwise idle
2-core machine. The load average is printed: on a shared machine the ratio
is bounded by the cores other processes leave.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decide import varied_assessments

COMMAND = [sys.executable, "-m", "sprintclear", "evaluate", "--json"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(directory: Path, jobs: int) -> tuple[float, float, str, int]:
    """One run, its standard output to a file (a pipe read by this process would take a
    share of the two cores from the workers); the file's SHA-256 and lines after it."""
    output = directory.parent / f"output-jobs{jobs}.jsonl"
    cpu_before = _children_cpu()
    started = time.perf_counter()
    with output.open("wb") as sink:
        done = subprocess.run([*COMMAND, "--jobs", str(jobs), str(directory)], stdout=sink,
                              stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"evaluate --jobs {jobs} failed ({done.returncode}): "
                 f"{done.stderr.decode()[:2000]}")
    digest, lines = hashlib.sha256(), 0
    with output.open("rb") as written:
        for block in iter(lambda: written.read(1 << 20), b""):
            digest.update(block)
            lines += block.count(b"\n")
    output.unlink()
    return wall, _children_cpu() - cpu_before, digest.hexdigest(), lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sprintclear-bench-") as tmp:
        directory = Path(tmp) / "inputs"
        directory.mkdir()
        for index, document in enumerate(varied_assessments(args.count, args.seed)):
            (directory / f"{index:06d}.json").write_text(json.dumps(document), "utf-8")
        print(f"{args.count} files in {directory} · load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} · {os.cpu_count()} cores")
        one_wall, one_cpu, one_digest, one_lines = _run(directory, 1)
        print(f"  --jobs 1: {one_wall:.1f} s wall, {one_cpu:.1f} s CPU, "
              f"{args.count / one_wall:.0f} files/s")
        many_wall, many_cpu, many_digest, many_lines = _run(directory, args.jobs)
        print(f"  --jobs {args.jobs}: {many_wall:.1f} s wall, {many_cpu:.1f} s CPU, "
              f"{args.count / many_wall:.0f} files/s")
        if (one_digest, one_lines) != (many_digest, many_lines) or one_lines != args.count:
            print("  OUTPUTS DIFFER (was the source changed between the runs? the rule base "
                  "version covers it)", file=sys.stderr)
            return 1
        print(f"  identical output ({one_lines} lines, sha256 {one_digest[:16]}…) · "
              f"speed-up {one_wall / many_wall:.2f}× · load average after "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
