"""The demo squad: every example stored, each earlier visit signed as the next one records."""

from __future__ import annotations

from itertools import pairwise

import pytest
from support import load_example, varied

from api.demo import load_demo, read_examples
from api.store import Principal, Store
from engine import evaluator_for, parse_assessment

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FOOTBALLER = "hamstring-footballer-progressive-running-strength-deficit"
WINGER = "hamstring-winger-cleared-to-sprint"


OPERATOR = Principal(key_id=None, name="test operator", role="operator")


def service_count(store: Store) -> int:
    return store.count("assessments")


def _clinician(store: Store) -> Principal:
    return store.authenticate(store.create_key(OPERATOR, role="clinician", name="demo").key)


def test_each_earlier_visit_is_signed_at_the_phase_the_next_started_from(store: Store) -> None:
    """Every episode: the sign-offs of its earlier visits are the next visits' previous.phase."""
    examples = read_examples()
    squad = load_demo(store, evaluator_for(), _clinician(store), examples)
    # every example, and the signed visit each first visit's previous names
    assert squad.assessments == service_count(store) > len(examples)
    checked = 0
    for athlete in store.list_athletes():
        for episode in store.timeline(athlete.id).injuries:
            visits = episode.assessments
            for earlier, later in pairwise(visits):
                document = store.get_assessment(later.id).document
                assert earlier.signoff is not None
                assert earlier.signoff.signed_phase == document["previous"]["phase"]
                checked += 1
    assert checked >= 2


def test_a_visit_signed_other_than_recommended_is_an_override_with_a_reason(
        store: Store) -> None:
    """When the next visit started from another phase, the earlier one is overridden to it."""
    first = parse_assessment(load_example(FOOTBALLER))
    later = parse_assessment(varied(load_example(WINGER), {"previous.phase": "load"}))
    load_demo(store, evaluator_for(), _clinician(store), [first, later])
    baseline, *visits = store.timeline("FC-23").injuries[0].assessments
    # the footballer's previous (load, 2026-02-24) names a visit: the demo stores it, signed
    assert baseline.assessment_date == "2026-02-24"
    assert baseline.signoff is not None and baseline.signoff.signed_phase == "load"
    signoff = visits[0].signoff
    assert visits[0].decision.phase.id == "run"
    assert signoff is not None and signoff.action == "override"
    assert signoff.signed_phase == "load" and signoff.reason
    assert visits[1].signoff is None  # the latest awaits its clinician
    # the later visit starts from the demo's sign-off of the earlier one (section 2.1)
    later_document = store.get_assessment(visits[1].id).document
    assert later_document["previous"] == {"phase": "load", "date": "2026-03-03"}
