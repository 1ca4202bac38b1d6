"""Benchmark: decide many varied assessments in one process, single-threaded.

    python bench/decide.py [--count 2000] [--seed 7]

Each assessment is one of the examples with a few tests changed to random
values of their range or left out, so every phase, red flag and caution
occurs. Timed per decision: validation, inference and writing the decision
JSON (what ``sprintclear evaluate --json`` does per input). Prints decisions
per second and the p50 / p99 latency. Target on a 2-core machine: ≥ 200/s.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from engine import decide, evaluator_for
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    documents = varied_assessments(args.count, args.seed)
    evaluator_for()  # build the rule network once, as a long-running process does
    decide(documents[0]).to_json()  # warm up
    gc.freeze()  # as `sprintclear evaluate` and the service do after start-up

    latencies = []
    phases: Counter[str] = Counter()
    started = time.perf_counter()
    for document in documents:
        t0 = time.perf_counter()
        decision = decide(document)
        decision.to_json()
        latencies.append(time.perf_counter() - t0)
        phases[decision.phase.id] += 1
    elapsed = time.perf_counter() - started

    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"decided {len(documents)} varied assessments in {elapsed:.2f} s (single thread)")
    print(f"  {len(documents) / elapsed:.0f} decisions/s · p50 {p50:.2f} ms · p99 {p99:.2f} ms")
    print("  phases: " + ", ".join(f"{phase} {phases[phase]}" for phase in
                                   ("protect", "load", "run", "sprint", "train", "play")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
