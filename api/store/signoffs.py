"""Sign-offs: a clinician accepts a decision's recommended phase or overrides it.

The decision itself is never changed. A sign-off is final (one per decision) and
is refused for the decision of a superseded assessment. It is audited as
``signoff.accept`` or ``signoff.override``.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from api.store.corrections import superseded_by
from api.store.records import Principal, Signoff
from api.store.tables import DecisionRow, SignoffRow
from api.store.transaction import StorePart, new_id, refuse_nul
from rules.errors import Conflict, InvalidInput, Problem

__all__ = ["Signoffs", "signoff_record"]


def signoff_record(row: SignoffRow) -> Signoff:
    return Signoff(id=row.id, decision_id=row.decision_id,
                   action=row.action,  # type: ignore[arg-type]
                   recommended_phase=row.recommended_phase, signed_phase=row.signed_phase,
                   reason=row.reason, clinician=row.clinician_name,
                   clinician_key_id=row.clinician_key_id, signed_at=row.signed_at)


class Signoffs(StorePart):
    """The store's sign-offs (part of :class:`~api.store.store.Store`)."""

    def sign_off(self, actor: Principal, decision_id: str, *,
                 action: Literal["accept", "override"], phase: str | None = None,
                 reason: str | None = None) -> Signoff:
        """Accept the recommendation or override it; the decision itself is never changed.

        A sign-off is final: a second one is a ``Conflict``, and so is signing the
        decision of an assessment that a correction has superseded.
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
            recommended = decision.phase_id
            if action == "accept":
                if phase is not None and phase != recommended:
                    raise InvalidInput("the sign-off is not valid", [Problem(
                        "phase", "accept_phase", f"accepting signs the recommended phase "
                        f"({recommended}); to sign {phase}, override with a reason")])
                signed = recommended
            else:
                if phase is None or not (reason or "").strip():
                    raise InvalidInput("the sign-off is not valid", [
                        *([Problem("phase", "required", "is required to override")]
                          if phase is None else []),
                        *([Problem("reason", "required", "is required to override the "
                                   "recommendation")] if not (reason or "").strip() else [])])
                if phase == recommended:
                    raise InvalidInput("the sign-off is not valid", [Problem(
                        "phase", "same_phase", f"is the recommended phase ({recommended}): "
                        f"accept it instead of overriding")])
                signed = phase
            row = SignoffRow(id=new_id("sig"), decision_id=decision_id, action=action,
                             recommended_phase=recommended, signed_phase=signed,
                             reason=reason.strip() if reason and reason.strip() else None,
                             clinician_key_id=actor.key_id, clinician_name=actor.name,
                             signed_at=tx.at)
            refuse_nul(row.audited(), "the sign-off is not valid")
            tx.session.add(row)
            tx.audit(f"signoff.{action}", f"signoff/{row.id}",
                     {"signoff_id": row.id, "decision_id": decision_id,
                      "recommended_phase": recommended, "signed_phase": signed,
                      "reason": row.reason}, record=row)
            return signoff_record(row)
