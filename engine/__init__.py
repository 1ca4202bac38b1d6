"""Inference: one assessment in, one explained decision out.

``engine.assessment`` validates the input against the data dictionary,
``engine.inference`` (the only module that imports experta) runs the
protocol's rules forward, ``engine.decide`` writes the decision down as data
(``engine.decision``). It imports ``rules`` and nothing above it.
"""

from engine.assessment import Assessment, parse_assessment, parse_assessment_json
from engine.decide import Evaluator, decide, evaluator_for, rulebase_version
from engine.decision import Decision

__all__ = [
    "Assessment",
    "Decision",
    "Evaluator",
    "decide",
    "evaluator_for",
    "parse_assessment",
    "parse_assessment_json",
    "rulebase_version",
]
