"""Corrections: an assessment that supersedes an earlier one of the same injury.

A stored assessment is never changed; a correction is a new assessment naming the
one it ``supersedes``. An assessment can be superseded once; a superseded
assessment's decision can no longer be signed off. These two queries are shared
by assessments, decisions and sign-offs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.store.tables import AssessmentRow, InjuryRow
from api.store.transaction import get_row
from rules.errors import Conflict

__all__ = ["check_supersedes", "superseded_by"]


def superseded_by(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """For each of these assessment ids that a correction superseded: the correction's id."""
    if not ids:
        return {}
    return {row.supersedes: row.id for row in session.execute(
        select(AssessmentRow.supersedes, AssessmentRow.id)
        .where(AssessmentRow.supersedes.in_(list(ids))))}


def check_supersedes(session: Session, supersedes: str, injury: InjuryRow) -> None:
    """``Conflict`` unless ``supersedes`` is a not yet superseded assessment of ``injury``."""
    earlier = get_row(session, AssessmentRow, supersedes, "assessment")
    if earlier.athlete_id != injury.athlete_id:
        raise Conflict(f"assessment {supersedes} is of athlete {earlier.athlete_id}, not "
                       f"{injury.athlete_id}: a correction must be of the same athlete")
    if earlier.injury_id != injury.id:
        raise Conflict(f"assessment {supersedes} is of injury {earlier.injury_id}, not "
                       f"{injury.id}: a correction must be of the same injury")
    later = superseded_by(session, [supersedes]).get(supersedes)
    if later is not None:
        raise Conflict(f"assessment {supersedes} was already superseded by {later}: "
                       f"correct {later} instead")
