"""engine/inference.py: the lean experta subclasses fire what stock experta fires.

The speed subclasses (typed matcher, lean tokens, slot facts, lean reset and
run loop; issue 11) must change nothing an auditor sees: the same rules fire
in the same order, matching and declaring the same, with the same outcomes.
Each assessment is decided by the protocol's rule network twice: on the lean
engine, and on the same rules and agenda strategy over experta's own
``KnowledgeEngine`` (its ``ReteMatcher``, ``reset`` through the deffacts, and
``run``).
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from support import example_files

from engine.assessment import parse_assessment
from engine.conditions import Case
from engine.inference import Inference, KnowledgeEngine, Run
from rules.dictionary import INPUT_FIELDS, MEASURE_GROUPS, FieldKind
from rules.errors import InvalidAssessment
from rules.loading import default_protocol

PROTOCOL = default_protocol()
LEAN = Inference(PROTOCOL)
STOCK = Inference(PROTOCOL)
_LEAN_CLASS = type(LEAN._engine)
STOCK._engine = type("StockProtocolEngine", (KnowledgeEngine,), {
    name: value for name, value in vars(_LEAN_CLASS).items()
    if name not in ("__dict__", "__weakref__")})()


def _outcome(run: Run) -> tuple[Any, ...]:
    return (run.trace, run.criteria_phase, run.phase, run.caps, sorted(run.cautions),
            run.plan, run.allowed, run.restricted, run.gates, run.carried_forward,
            {k: (o.result.outcome, o.result.reasons) for k, o in run.red_flags.items()})


def _both(document: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    case = Case.of(parse_assessment(document), PROTOCOL)
    return _outcome(LEAN.run(case)), _outcome(STOCK.run(case))


def test_the_stock_engine_is_experta_s_own() -> None:
    """The comparison is worth something only if the second engine is experta's."""
    assert type(STOCK._engine.matcher).__module__.startswith("experta.")
    assert type(STOCK._engine).reset is KnowledgeEngine.reset
    assert type(LEAN._engine.matcher).__module__ == "engine.inference"


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_examples_fire_the_same_rules(path: Any) -> None:
    lean, stock = _both(json.loads(path.read_text("utf-8")))
    assert lean == stock
    assert lean[0], "no rule fired"


def _varied_documents(count: int, seed: int) -> list[dict[str, Any]]:
    """The examples with up to five tests set to random values of their range or left out,
    signed phases and profiles changed (every phase, red flag and caution occurs)."""
    rng = random.Random(seed)
    bases = [json.loads(path.read_text("utf-8")) for path in example_files()]
    measures = [spec for spec in INPUT_FIELDS if spec.group in MEASURE_GROUPS]
    documents: list[dict[str, Any]] = []
    while len(documents) < count:
        document = copy.deepcopy(rng.choice(bases))
        document["assessment"]["profile"] = rng.choice(["standard", "conservative"])
        for spec in rng.sample(measures, rng.randint(0, 5)):
            group = document.setdefault(spec.group, {})
            low = max(spec.minimum or 0, spec.reference_minimum or 0)
            high = spec.maximum or 0
            if rng.random() < 0.3:
                group.pop(spec.name, None)
            elif spec.kind is FieldKind.BOOLEAN:
                group[spec.name] = rng.random() < 0.5
            elif spec.kind is FieldKind.INTEGER:
                group[spec.name] = rng.randint(int(low), int(high))
            elif spec.kind is FieldKind.NUMBER:
                group[spec.name] = round(rng.uniform(max(low, 0.5), high), 1)
            else:
                uninjured = rng.randint(10, max(11, int(high) // 2))
                group[spec.name] = {"injured": round(uninjured * rng.uniform(0.6, 1.1)),
                                    "uninjured": uninjured}
        try:
            parse_assessment(document)
        except InvalidAssessment:
            continue
        documents.append(document)
    return documents


@pytest.mark.parametrize("document", _varied_documents(80, 11))
def test_varied_assessments_fire_the_same_rules(document: dict[str, Any]) -> None:
    lean, stock = _both(document)
    assert lean == stock
