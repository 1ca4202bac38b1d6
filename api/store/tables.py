"""The tables of the store (SQLAlchemy 2 declarative models).

Clinical records are written once and never changed: athletes, injury
episodes, assessments, decisions, sign-offs and reports. The migration adds
database triggers that refuse an UPDATE or DELETE of them, so a correction is
always a new row (an assessment that ``supersedes`` another). API keys change
only when revoked. The audit chain is ``audit_entries`` plus the one-row
``audit_head`` that every write locks.

Times are stored as ISO 8601 text in UTC (``2026-03-10T09:15:02.123456Z``)
and large documents as text, exactly as they were hashed, so that a record
reads back byte for byte on SQLite and PostgreSQL alike.

Each record's :meth:`audited` gives the content its audit entry vouches for;
big values appear there by their SHA-256, recomputed from what is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.store.canonical import sha256_hex

__all__ = [
    "IMMUTABLE_TABLES",
    "ApiKeyRow",
    "AssessmentRow",
    "AthleteRow",
    "AuditCheckpointRow",
    "AuditEntryRow",
    "AuditHeadRow",
    "Base",
    "DecisionRow",
    "InjuryRow",
    "ReportRow",
    "SignoffRow",
]

ID = String(64)
STAMP = String(32)
HASH = String(64)

NAMING = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AthleteRow(Base):
    __tablename__ = "athletes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    sport: Mapped[str | None] = mapped_column(Text)
    position: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(STAMP)

    def audited(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "sport": self.sport,
                "position": self.position, "created_at": self.created_at}


class InjuryRow(Base):
    __tablename__ = "injuries"
    __table_args__ = (UniqueConstraint("athlete_id", "region", "side", "date"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    athlete_id: Mapped[str] = mapped_column(ID, ForeignKey("athletes.id"), index=True)
    region: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    date: Mapped[str] = mapped_column(String(10))
    muscle: Mapped[str | None] = mapped_column(String(40))
    bamic_grade: Mapped[str | None] = mapped_column(String(4))
    mechanism: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(STAMP)

    def audited(self) -> dict[str, Any]:
        return {"id": self.id, "athlete_id": self.athlete_id, "region": self.region,
                "side": self.side, "date": self.date, "muscle": self.muscle,
                "bamic_grade": self.bamic_grade, "mechanism": self.mechanism,
                "created_at": self.created_at}


class AssessmentRow(Base):
    __tablename__ = "assessments"
    # the archive's storage order, by which replay cuts it into chunks (migration 0005)
    __table_args__ = (Index("ix_assessments_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    athlete_id: Mapped[str] = mapped_column(ID, ForeignKey("athletes.id"), index=True)
    injury_id: Mapped[str] = mapped_column(ID, ForeignKey("injuries.id"), index=True)
    supersedes: Mapped[str | None] = mapped_column(ID, ForeignKey("assessments.id"),
                                                   unique=True)
    assessment_date: Mapped[str] = mapped_column(String(10))
    document: Mapped[str] = mapped_column(Text)
    """The canonical input (``Assessment.document``) as canonical JSON text."""
    input_sha256: Mapped[str] = mapped_column(HASH, unique=True)
    created_at: Mapped[str] = mapped_column(STAMP)

    def audited(self) -> dict[str, Any]:
        return {"id": self.id, "athlete_id": self.athlete_id, "injury_id": self.injury_id,
                "supersedes": self.supersedes, "assessment_date": self.assessment_date,
                "input_sha256": self.input_sha256, "document_sha256": sha256_hex(self.document),
                "created_at": self.created_at}


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    """The engine's ``decision_id``."""
    assessment_id: Mapped[str] = mapped_column(ID, ForeignKey("assessments.id"), unique=True)
    input_sha256: Mapped[str] = mapped_column(HASH)
    rulebase_version: Mapped[str] = mapped_column(HASH)
    protocol_id: Mapped[str] = mapped_column(String(80))
    protocol_version: Mapped[str] = mapped_column(Text)
    evaluated_at: Mapped[str] = mapped_column(STAMP)
    phase_number: Mapped[int] = mapped_column(Integer)
    phase_id: Mapped[str] = mapped_column(String(16))
    criteria_phase_number: Mapped[int] = mapped_column(Integer)
    criteria_phase_id: Mapped[str] = mapped_column(String(16))
    cleared_to_sprint: Mapped[bool] = mapped_column(Boolean)
    cleared_to_play: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text)
    """Canonical JSON of the ids a timeline shows: red flags, cautions, blocking criteria."""
    decision_json: Mapped[str] = mapped_column(Text)
    """The full decision, explanation included, exactly as ``Decision.to_json()`` wrote it."""
    decision_sha256: Mapped[str] = mapped_column(HASH)

    def audited(self) -> dict[str, Any]:
        return {"id": self.id, "assessment_id": self.assessment_id,
                "input_sha256": self.input_sha256, "rulebase_version": self.rulebase_version,
                "protocol_id": self.protocol_id, "protocol_version": self.protocol_version,
                "evaluated_at": self.evaluated_at, "phase_number": self.phase_number,
                "phase_id": self.phase_id, "criteria_phase_number": self.criteria_phase_number,
                "criteria_phase_id": self.criteria_phase_id,
                "cleared_to_sprint": self.cleared_to_sprint,
                "cleared_to_play": self.cleared_to_play, "summary": self.summary,
                "decision_sha256": self.decision_sha256,
                "decision_json_sha256": sha256_hex(self.decision_json)}


class SignoffRow(Base):
    __tablename__ = "signoffs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    decision_id: Mapped[str] = mapped_column(ID, ForeignKey("decisions.id"), unique=True)
    action: Mapped[str] = mapped_column(String(8))
    """``accept`` or ``override``."""
    recommended_phase: Mapped[str] = mapped_column(String(16))
    signed_phase: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    clinician_key_id: Mapped[str | None] = mapped_column(ID)
    clinician_name: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(STAMP)
    acknowledged: Mapped[str | None] = mapped_column(Text)
    """Canonical JSON list of the red flag, hold and caution ids the clinician acknowledged
    on the confirmation step; null when none was recorded (migration 0003)."""

    def audited(self) -> dict[str, Any]:
        """What ``signoff.*`` vouches for; ``acknowledged`` only when recorded, so sign-offs
        stored before migration 0003 keep the hash their entry recorded."""
        content = {"id": self.id, "decision_id": self.decision_id, "action": self.action,
                   "recommended_phase": self.recommended_phase,
                   "signed_phase": self.signed_phase, "reason": self.reason,
                   "clinician_key_id": self.clinician_key_id,
                   "clinician_name": self.clinician_name, "signed_at": self.signed_at}
        if self.acknowledged is not None:
            content["acknowledged"] = self.acknowledged
        return content


class ReportRow(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    decision_id: Mapped[str] = mapped_column(ID, ForeignKey("decisions.id"), unique=True)
    signoff_id: Mapped[str] = mapped_column(ID, ForeignKey("signoffs.id"))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(HASH)
    size: Mapped[int] = mapped_column(Integer)
    signer_name: Mapped[str] = mapped_column(Text)
    meaning: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(STAMP)

    def audited(self) -> dict[str, Any]:
        return {"id": self.id, "decision_id": self.decision_id, "signoff_id": self.signoff_id,
                "pdf_sha256": self.pdf_sha256, "pdf_bytes_sha256": sha256_hex(self.pdf),
                "size": self.size, "signer_name": self.signer_name, "meaning": self.meaning,
                "created_at": self.created_at}


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    key_sha256: Mapped[str] = mapped_column(HASH, unique=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(STAMP)
    revoked_at: Mapped[str | None] = mapped_column(STAMP)

    def audited(self) -> dict[str, Any]:
        """What ``key.create`` vouches for; revocation is vouched for by ``key.revoke``."""
        return {"id": self.id, "key_sha256": self.key_sha256, "name": self.name,
                "role": self.role, "created_at": self.created_at}


class AuditEntryRow(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(STAMP)
    actor_key_id: Mapped[str | None] = mapped_column(ID)
    actor_name: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(120), index=True)
    details: Mapped[str] = mapped_column(Text)
    """Canonical JSON of what was written (ids, hashes, phases)."""
    prev_hash: Mapped[str] = mapped_column(HASH)
    hash: Mapped[str] = mapped_column(HASH)


class AuditHeadRow(Base):
    """The chain's last entry. Every write locks this row first, so appends are serial."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(HASH)


class AuditCheckpointRow(Base):
    """A position of the chain verified up to then: the audit page verifies only what
    follows the latest one (written once; ``sprintclear audit verify`` checks everything)."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(HASH)
    records_checked: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(8))
    """``full`` (the whole chain and every record) or ``since`` (the entries after the
    previous checkpoint and the records they vouch for)."""
    checked_at: Mapped[str] = mapped_column(STAMP)


IMMUTABLE_TABLES = ("athletes", "injuries", "assessments", "decisions", "signoffs", "reports",
                    "audit_entries", "audit_checkpoints")
"""Tables whose rows the database itself refuses to update or delete (see the migration)."""


class AccessLogRow(Base):
    """One read of a decision or a report by an insurer or an auditor: append-only (the
    database refuses to change or delete a row), outside the audit chain (reads do not
    take the write lock)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(STAMP, index=True)
    actor_key_id: Mapped[str | None] = mapped_column(ID)
    actor_name: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    """``decision.read`` or ``report.read``."""
    subject: Mapped[str] = mapped_column(String(120), index=True)
    """``decision/<id>``."""
    athlete_id: Mapped[str | None] = mapped_column(ID, index=True)
    via: Mapped[str] = mapped_column(String(8))
    """``api`` or ``page``."""
