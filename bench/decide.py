"""Benchmark: decide many varied assessments in one process, single-threaded.

    python bench/decide.py [--count 2000] [--seed 7] [--profile]

Each assessment is one of the examples with a few tests changed to random
values of their range or left out, so every phase, red flag and caution
occurs. Three paths are timed per decision, each over all the inputs:

- **full path**: validation, inference, writing the decision down and its
  JSON text (``Evaluator.decision_text``: what ``sprintclear evaluate --json``
  and a batch do per input);
- **typed path**: the same plus the typed ``Decision`` (``decide(document)``
  and ``to_json()``: what the service, the reports and replay call);
- **inference alone**: ``Inference.run`` on already-validated cases.

For each: decisions per second (wall), the median and p99 wall latency, and
the median CPU time per decision (``time.process_time``), which other
processes on a shared machine disturb less. The load average is printed
with the figures. ``--profile`` prints the full path's top functions
(cProfile). Targets (issue 11), full path on one thread: ≥ 600 decisions/s
(aim 1,000) and p99 < 3 ms.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from engine import decide, evaluator_for
from engine.assessment import parse_assessment
from engine.conditions import Case
from engine.runtime import settle
from rules.dictionary import INPUT_FIELDS, MEASURE_GROUPS, FieldKind, InputField

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MEASURES = [spec for spec in INPUT_FIELDS if spec.group in MEASURE_GROUPS]


def _random_value(spec: InputField, rng: random.Random) -> Any:
    low, high = max(spec.minimum or 0, spec.reference_minimum or 0), spec.maximum or 0
    if spec.kind is FieldKind.BOOLEAN:
        return rng.random() < 0.5
    if spec.kind is FieldKind.INTEGER:
        return rng.randint(int(low), int(high))
    if spec.kind is FieldKind.NUMBER:
        return round(rng.uniform(max(low, 0.5), high), 2)
    uninjured = rng.randint(10, int(high) // 2) if spec.integer else round(
        rng.uniform(10, high / 2), 1)
    factor = rng.uniform(0.6, 1.1)
    injured = round(uninjured * factor) if spec.integer else round(uninjured * factor, 1)
    return {"injured": injured, "uninjured": uninjured}


def varied_assessments(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    bases = [json.loads(path.read_text("utf-8")) for path in sorted(EXAMPLES.glob("*.json"))]
    documents = []
    for index in range(count):
        document = copy.deepcopy(bases[index % len(bases)])
        document["athlete"]["id"] = f"BENCH-{index:05d}"
        document["assessment"]["profile"] = rng.choice(["standard", "conservative"])
        for spec in rng.sample(MEASURES, rng.randint(0, 4)):
            group = document.setdefault(spec.group, {})
            if rng.random() < 0.3:
                group.pop(spec.name, None)
            else:
                group[spec.name] = _random_value(spec, rng)
        documents.append(document)
    return documents


def _timed(label: str, work: Any, inputs: list[Any]) -> None:
    walls, cpus = [], []
    started = time.perf_counter()
    for item in inputs:
        c0, t0 = time.process_time(), time.perf_counter()
        work(item)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    elapsed = time.perf_counter() - started
    walls.sort()
    p50 = statistics.median(walls) * 1000
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))] * 1000
    cpu = statistics.median(cpus) * 1000
    print(f"  {label:<16} {len(inputs) / elapsed:6.0f}/s · p50 {p50:.2f} ms · "
          f"p99 {p99:.2f} ms · CPU median {cpu:.3f} ms ({1000 / cpu if cpu else 0:.0f}/s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    documents = varied_assessments(args.count, args.seed)
    evaluator = evaluator_for()  # build the rule network once, as a long-running process does
    evaluator.decision_text(documents[0])  # warm up
    cases = [Case.of(parse_assessment(document), evaluator.protocol)
             for document in documents]
    settle()  # as `sprintclear evaluate` and the service do after start-up

    phases: Counter[str] = Counter()
    fired = []
    for case in cases:
        run = evaluator._inference.run(case)
        phases[evaluator.protocol.phase_by_number[run.phase or 1].id] += 1
        fired.append(len(run.trace))
    sizes = [len(evaluator.decision_text(document).encode()) for document in documents]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{len(documents)} varied assessments, one thread · load average {load} · "
          f"{os.cpu_count()} cores")
    _timed("full path", evaluator.decision_text, documents)
    _timed("typed path", lambda document: decide(document).to_json(), documents)
    _timed("inference alone", evaluator._inference.run, cases)
    print(f"  rules fired per decision: median {statistics.median(fired):.0f}, max "
          f"{max(fired)} · decision JSON median {statistics.median(sizes) / 1024:.1f} KiB")
    print("  phases: " + ", ".join(f"{phase} {phases[phase]}" for phase in
                                   ("protect", "load", "run", "sprint", "train", "play")))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for document in documents:
            evaluator.decision_text(document)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
