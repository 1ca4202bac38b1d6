"""Decisions: the engine's decision on a stored assessment, stored as it was made.

A decision is written with its assessment (:mod:`api.store.assessments`) and never
changed; here it is turned into a row and back, and read with its sign-off and
report, the inputs it was made from, and the same injury's earlier decisions.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, or_, select

from api.store.canonical import canonical_json, json_or_text, sha256_hex
from api.store.corrections import superseded_by
from api.store.records import DecisionSummary, StoredDecision, SummaryPhase
from api.store.reports import report_info
from api.store.signoffs import signoff_record
from api.store.tables import AssessmentRow, DecisionRow, ReportRow, SignoffRow
from api.store.transaction import StorePart, get_row
from engine.decision import Decision, decision_json

__all__ = ["Decisions", "decision_row", "decision_summary", "stored_decision"]


def decision_row(decision: Decision | dict[str, Any], assessment_id: str) -> DecisionRow:
    """The row storing ``decision`` (made with ``evaluated_at``) of a stored assessment:
    a typed :class:`Decision`, or the engine's plain data of one
    (:meth:`engine.decide.Evaluator.decide_data`, what the service stores without
    building the typed model). Plain data is trusted to be the engine's own output, not
    checked again: a caller holding anything else passes a :class:`Decision`."""
    data = decision.plain() if isinstance(decision, Decision) else decision
    assert data["evaluated_at"] is not None
    text = decision_json(data)
    rulebase, phase, criteria_phase = data["rulebase"], data["phase"], data["criteria_phase"]
    summary = canonical_json({"red_flags": [flag["id"] for flag in data["red_flags"]],
                              "cautions": [caution["id"] for caution in data["cautions"]],
                              "blocking": list(data["blocking"])})
    return DecisionRow(
        id=data["decision_id"], assessment_id=assessment_id,
        input_sha256=data["input_sha256"], rulebase_version=rulebase["version"],
        protocol_id=rulebase["protocol"], protocol_version=rulebase["protocol_version"],
        evaluated_at=data["evaluated_at"], phase_number=phase["number"],
        phase_id=phase["id"], criteria_phase_number=criteria_phase["number"],
        criteria_phase_id=criteria_phase["id"],
        cleared_to_sprint=data["cleared_to_sprint"], cleared_to_play=data["cleared_to_play"],
        summary=summary, decision_json=text, decision_sha256=sha256_hex(text))


def decision_summary(row: DecisionRow) -> DecisionSummary:
    summary = json_or_text(row.summary)
    summary = summary if isinstance(summary, dict) else {}
    return DecisionSummary(
        id=row.id, phase=SummaryPhase(number=row.phase_number, id=row.phase_id),
        criteria_phase=SummaryPhase(number=row.criteria_phase_number, id=row.criteria_phase_id),
        cleared_to_sprint=row.cleared_to_sprint, cleared_to_play=row.cleared_to_play,
        red_flags=list(summary.get("red_flags", [])), cautions=list(summary.get("cautions", [])),
        blocking=list(summary.get("blocking", [])), rulebase_version=row.rulebase_version,
        protocol=row.protocol_id, protocol_version=row.protocol_version,
        evaluated_at=row.evaluated_at)


def stored_decision(decision: DecisionRow, assessment: AssessmentRow,
                    signoff: SignoffRow | None, report: ReportRow | None,
                    superseded: str | None) -> StoredDecision:
    return StoredDecision(
        id=decision.id, assessment_id=assessment.id, athlete_id=assessment.athlete_id,
        injury_id=assessment.injury_id, superseded_by=superseded,
        summary=decision_summary(decision),
        signoff=signoff_record(signoff) if signoff else None,
        report=report_info(report) if report else None,
        decision_json=decision.decision_json, decision_sha256=decision.decision_sha256)


class Decisions(StorePart):
    """Reading the store's decisions (part of :class:`~api.store.store.Store`)."""

    def get_decision(self, decision_id: str) -> StoredDecision:
        """A stored decision with its full JSON, sign-off and report."""
        with self.database.reading() as session:
            decision = get_row(session, DecisionRow, decision_id, "decision")
            assessment = session.get_one(AssessmentRow, decision.assessment_id)
            signoff = session.execute(select(SignoffRow).where(
                SignoffRow.decision_id == decision_id)).scalar_one_or_none()
            report = session.execute(select(ReportRow).where(
                ReportRow.decision_id == decision_id)).scalar_one_or_none()
            later = superseded_by(session, [assessment.id]).get(assessment.id)
            return stored_decision(decision, assessment, signoff, report, later)

    def earlier_decisions(self, decision_id: str) -> list[str]:
        """The decision JSON of the same injury's earlier, not superseded assessments."""
        with self.database.reading() as session:
            decision = get_row(session, DecisionRow, decision_id, "decision")
            assessment = session.get_one(AssessmentRow, decision.assessment_id)
            rows = list(session.execute(
                select(AssessmentRow, DecisionRow)
                .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
                .where(AssessmentRow.injury_id == assessment.injury_id,
                       or_(AssessmentRow.assessment_date < assessment.assessment_date,
                           and_(AssessmentRow.assessment_date == assessment.assessment_date,
                                AssessmentRow.created_at < assessment.created_at)))
                .order_by(AssessmentRow.assessment_date, AssessmentRow.created_at)))
            later = superseded_by(session, [row.id for row, _ in rows])
            return [d.decision_json for row, d in rows if row.id not in later]

    def document_of(self, decision_id: str) -> dict[str, Any]:
        """The canonical input the decision was made from."""
        with self.database.reading() as session:
            decision = get_row(session, DecisionRow, decision_id, "decision")
            document: dict[str, Any] = json.loads(
                session.get_one(AssessmentRow, decision.assessment_id).document)
            return document
