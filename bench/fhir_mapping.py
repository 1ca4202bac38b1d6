"""Benchmark: the FHIR mapping, one process, single-threaded.

    python bench/fhir_mapping.py [--rounds 20]

For every example: build the decision's transaction Bundle (fhir.resources models) and
write its JSON (``GET /v1/decisions/{id}/fhir`` without the store), then read the JSON
back into an assessment (``sprintclear import fhir``, the CDS Hooks service's mapping).
Prints the p50 / p99 latency of each step and the Bundle sizes.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from pathlib import Path

from api.fhir.export import bundle_json, decision_bundle
from api.fhir.importing import assessment_from_bundle
from engine import evaluator_for
from rules.loading import default_protocol

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    protocol = default_protocol()
    evaluator = evaluator_for(protocol)
    cases = []
    for path in sorted(EXAMPLES.glob("*.json")):
        document = json.loads(path.read_text("utf-8"))
        cases.append((document, evaluator.decide_data(document)))
    gc.freeze()
    export_ms, import_ms, sizes = [], [], []
    for _ in range(args.rounds):
        for document, decision in cases:
            start = time.perf_counter()
            text = bundle_json(decision_bundle(decision, document, protocol=protocol))
            middle = time.perf_counter()
            assessment_from_bundle(text)
            end = time.perf_counter()
            export_ms.append((middle - start) * 1000)
            import_ms.append((end - middle) * 1000)
            sizes.append(len(text))
    print(f"{len(export_ms)} Bundles of {len(cases)} examples, "
          f"{min(sizes) // 1024}–{max(sizes) // 1024} KiB")
    for name, values in (("export", export_ms), ("import", import_ms)):
        print(f"{name}: p50 {statistics.median(values):.1f} ms, "
              f"p99 {_percentile(values, 0.99):.1f} ms")


if __name__ == "__main__":
    main()
