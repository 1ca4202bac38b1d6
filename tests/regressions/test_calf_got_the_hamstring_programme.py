"""Regression (2027.1, section 10, the calf module): calf injuries got the hamstring
programme (Nordics, L-protocol) and the soleus was never tested knee-bent.
"""

from __future__ import annotations

from support import calf_play, criterion, varied

from engine import decide


def test_calf_activities_and_criteria() -> None:
    """A calf athlete: no Nordics or L-protocol; C105, C312, C313 and 30 heel raises count."""
    decision = decide(calf_play())
    listed = decision.allowed_activities + decision.restricted_activities
    assert "nordic_curls" not in listed and "lengthening_exercises" not in listed
    assert "bent_knee_calf_raises" in decision.allowed_activities
    weak_soleus = decide(varied(calf_play(), {"strength.heel_raise_bent_knee_reps": (15, 25)}))
    assert criterion(weak_soleus, "C312").status == "unmet"
    assert weak_soleus.criteria_phase.id == "run"
    assert criterion(decide(varied(calf_play(), {"strength.heel_raise_reps": (29, 30)})),
                     "C309").status == "unmet"
