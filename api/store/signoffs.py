"""Sign-offs: a clinician accepts a decision's recommended phase or overrides it.

The decision itself is never changed. A sign-off is final (one per decision) and
is refused for the decision of a superseded assessment. It is audited as
``signoff.accept`` or ``signoff.override``, with the red flags, holds and cautions
the clinician acknowledged when given (``acknowledged``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from api.signed_phase import SignedStep, latest_signed_step
from api.store.canonical import canonical_json
from api.store.corrections import superseded_by
from api.store.records import Principal, Signoff
from api.store.tables import AssessmentRow, DecisionRow, InjuryRow, SignoffRow
from api.store.transaction import StorePart, get_row, new_id, refuse_nul
from rules.errors import Conflict, InvalidInput, Problem

__all__ = [
    "Signoffs",
    "safety_ids",
    "signed_steps",
    "signed_steps_of",
    "signoff_problems",
    "signoff_record",
    "stale_previous",
]


def signoff_record(row: SignoffRow) -> Signoff:
    return Signoff(id=row.id, decision_id=row.decision_id,
                   action=row.action,  # type: ignore[arg-type]
                   recommended_phase=row.recommended_phase, signed_phase=row.signed_phase,
                   reason=row.reason, clinician=row.clinician_name,
                   clinician_key_id=row.clinician_key_id, signed_at=row.signed_at,
                   acknowledged=json.loads(row.acknowledged) if row.acknowledged else None)


def signoff_problems(recommended: str, action: str, phase: str | None,
                     reason: str | None) -> list[Problem]:
    """What is wrong with a sign-off of a decision that recommended ``recommended``: accepting
    signs the recommended phase; overriding needs another phase and a reason."""
    if action == "accept":
        if phase is not None and phase != recommended:
            return [Problem("phase", "accept_phase", f"accepting signs the recommended phase "
                            f"({recommended}); to sign {phase}, override with a reason")]
        return []
    problems = []
    if phase is None:
        problems.append(Problem("phase", "required", "is required to override"))
    if not (reason or "").strip():
        problems.append(Problem("reason", "required", "is required to override the "
                                "recommendation"))
    if problems:
        return problems
    if phase == recommended:
        return [Problem("phase", "same_phase", f"is the recommended phase ({recommended}): "
                        f"accept it instead of overriding")]
    return []


def safety_ids(decision_json: str) -> list[str]:
    """The ids of a stored decision's red flags, holds and cautions, in that order, once
    each (a sign-off's ``acknowledged`` must be among them)."""
    document = json.loads(decision_json)
    found: list[str] = []
    for key in ("red_flags", "holds", "cautions"):
        for item in document.get(key) or []:
            if isinstance(item, dict) and item.get("id") not in found:
                found.append(str(item.get("id")))
    return found


def _acknowledged(decision_json: str, given: Sequence[str] | None) -> list[str] | None:
    if given is None:
        return None
    known = safety_ids(decision_json)
    unknown = [item for item in given if item not in known]
    if unknown:
        raise InvalidInput("the sign-off is not valid", [Problem(
            "acknowledged", "choice", f"{', '.join(repr(u[:20]) for u in unknown[:5])} "
            f"{'is' if len(unknown) == 1 else 'are'} not a red flag, hold or caution of this "
            f"decision (it has {', '.join(known) or 'none'})")])
    return [item for item in known if item in set(given)]


# Built once: building it (an aliased table, three joins) cost more CPU than running it,
# on every assessment stored (bench/service.py).
_CORRECTION = aliased(AssessmentRow)
_SIGNED_STEPS = (
    select(AssessmentRow.injury_id, AssessmentRow.id, AssessmentRow.assessment_date,
           AssessmentRow.created_at, SignoffRow.signed_phase, SignoffRow.signed_at,
           _CORRECTION.created_at)
    .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
    .join(SignoffRow, SignoffRow.decision_id == DecisionRow.id)
    .outerjoin(_CORRECTION, _CORRECTION.supersedes == AssessmentRow.id)
    .where(AssessmentRow.injury_id.in_(bindparam("injury_ids", expanding=True)))
    .order_by(AssessmentRow.assessment_date, AssessmentRow.created_at, AssessmentRow.id))


def signed_steps_of(session: Session, injury_ids: Iterable[str]
                    ) -> dict[str, list[SignedStep]]:
    """Every signed assessment of these injuries, with when it was stored, signed and
    superseded, by injury: the records :func:`api.signed_phase.latest_signed_step` reads
    (one query; the service asks for one injury, replay for a chunk's injuries)."""
    wanted = sorted(set(injury_ids))
    found: dict[str, list[SignedStep]] = {}
    if not wanted:
        return found
    rows = session.execute(_SIGNED_STEPS, {"injury_ids": wanted})
    for injury, a_id, date, stored, phase, signed, superseded in rows:
        found.setdefault(injury, []).append(SignedStep(
            assessment_id=a_id, assessment_date=date, stored_at=stored, signed_phase=phase,
            signed_at=signed, superseded_at=superseded))
    return found


def signed_steps(session: Session, injury_id: str) -> list[SignedStep]:
    """Every signed assessment of one injury (:func:`signed_steps_of`)."""
    return signed_steps_of(session, [injury_id]).get(injury_id, [])


def stale_previous(session: Session, decision: DecisionRow) -> str | None:
    """Why ``decision`` may no longer be signed because the signed phase it started from is
    not the one on record now, or None when it still is.

    The record is what :func:`api.signed_phase.latest_signed_step` finds today among the
    sign-offs of the episode's assessments earlier than this one (``stored_before``: dated
    before it, or the same day and stored before it; not the one it corrects): the rule
    the service fills ``previous`` with, applied again at the sign-off, so that a
    sign-off corrected away after the decision (the decision then started from a phase no
    clinician stands by) or a sign-off of an earlier visit made after it was decided
    never lets a step stand on a stale phase. A decision of the 2026.1 format (no
    ``previous.date``) is not checked.
    """
    document = json.loads(decision.decision_json)
    if document.get("format") != "sprintclear-decision/2":
        return None
    assessment = session.get(AssessmentRow, decision.assessment_id)
    if assessment is None:
        return None
    now = latest_signed_step(signed_steps(session, assessment.injury_id),
                             assessment.assessment_date, excluding=assessment.supersedes,
                             stored_before=assessment.created_at)
    given = document.get("previous") or {}
    then: dict[str, Any] = {"phase": given.get("phase"), "date": given.get("date")}
    found: dict[str, Any] = dict(now) if now else {"phase": None, "date": None}
    if found == then:
        return None
    def said(step: Mapping[str, Any] | None) -> str:
        if not step or step.get("phase") is None:
            return "no signed phase"
        return f"{step['phase']} (signed for the assessment of {step['date']})"
    return (f"decision {decision.id} started from {said(then)}, but the signed phase on "
            f"record before its assessment is now {said(now)}: it cannot be signed; store "
            f"the assessment again as a correction (?supersedes={decision.assessment_id}) "
            f"to decide it from the phase on record")


class Signoffs(StorePart):
    """The store's sign-offs (part of :class:`~api.store.store.Store`)."""

    def signed_steps(self, injury_id: str) -> list[SignedStep]:
        """The injury's signed assessments for :func:`api.signed_phase.latest_signed_step`
        (``NotFound`` without the injury)."""
        with self.database.reading() as session:
            get_row(session, InjuryRow, injury_id, "injury")
            return signed_steps(session, injury_id)

    def sign_off(self, actor: Principal, decision_id: str, *,
                 action: Literal["accept", "override"], phase: str | None = None,
                 reason: str | None = None, acknowledged: Sequence[str] | None = None
                 ) -> Signoff:
        """Accept the recommendation or override it; the decision itself is never changed.

        ``acknowledged``: the ids of the decision's red flags, holds and cautions the
        clinician acknowledged (the pages' confirmation step lists them); recorded with the
        sign-off and its audit entry. An id the decision does not have is ``InvalidInput``.

        A sign-off is final: a second one is a ``Conflict``, and so is signing the
        decision of an assessment that a correction has superseded, and so is signing a
        decision whose ``previous`` (the signed phase it started from, protocol 2.1) is no
        longer the one on record: a sign-off it relied on was corrected away, or another
        earlier visit was signed since (:func:`stale_previous`).
        """
        with self.transaction(actor) as tx:
            decision = tx.get(DecisionRow, decision_id, "decision")
            existing = tx.session.execute(select(SignoffRow).where(
                SignoffRow.decision_id == decision_id)).scalar_one_or_none()
            if existing is not None:
                verb = "accepted" if existing.action == "accept" else "overridden"
                raise Conflict(f"decision {decision_id} was already signed off ({verb} by "
                               f"{existing.clinician_name} at {existing.signed_at}); a "
                               f"sign-off is final: store a corrected assessment to decide again")
            later = superseded_by(tx.session, [decision.assessment_id]).get(
                decision.assessment_id)
            if later is not None:
                raise Conflict(f"assessment {decision.assessment_id} of decision {decision_id} "
                               f"was superseded by {later}: sign off that one's decision")
            stale = stale_previous(tx.session, decision)
            if stale is not None:
                raise Conflict(stale)
            recommended = decision.phase_id
            problems = signoff_problems(recommended, action, phase, reason)
            if problems:
                raise InvalidInput("the sign-off is not valid", problems)
            signed = recommended if action == "accept" else str(phase)
            noted = _acknowledged(decision.decision_json, acknowledged)
            row = SignoffRow(id=new_id("sig"), decision_id=decision_id, action=action,
                             recommended_phase=recommended, signed_phase=signed,
                             reason=reason.strip() if reason and reason.strip() else None,
                             clinician_key_id=actor.key_id, clinician_name=actor.name,
                             signed_at=tx.at,
                             acknowledged=None if noted is None else canonical_json(noted))
            refuse_nul(row.audited(), "the sign-off is not valid")
            tx.session.add(row)
            tx.audit(f"signoff.{action}", f"signoff/{row.id}",
                     {"signoff_id": row.id, "decision_id": decision_id,
                      "recommended_phase": recommended, "signed_phase": signed,
                      "reason": row.reason,
                      **({} if noted is None else {"acknowledged": noted})}, record=row)
            return signoff_record(row)
