"""The store: every query and write of the service, each write one transaction.

A write takes the write lock (:meth:`Database.writing`), checks what it must
against what is stored, adds its rows and appends its audit entries, and
commits, or raises and leaves nothing behind. Routes and commands call these
methods and nothing below them.

Ids are the athlete's own id (``athlete.id`` of the assessments), the
engine's ``decision_id`` for decisions, and ``<kind>_<20 hex digits>`` for
everything else. An id that cannot exist (too long, a NUL character) is
"not found" without asking the database.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session, defer

from api.roles import Role
from api.store import audit, checkpoint, squad, trail
from api.store.canonical import canonical_json, sha256_hex
from api.store.database import Database, check_schema, make_engine, migrate
from api.store.records import (
    ApiKeyInfo,
    AssessmentEntry,
    AssessmentRecord,
    Athlete,
    AuditEntry,
    DecisionSummary,
    Injury,
    InjuryTimeline,
    NewApiKey,
    Principal,
    ReportInfo,
    Signoff,
    StoredDecision,
    StoredReport,
    SummaryPhase,
    Timeline,
)
from api.store.squad import SquadAthlete
from api.store.tables import (
    ApiKeyRow,
    AssessmentRow,
    AthleteRow,
    AuditEntryRow,
    DecisionRow,
    InjuryRow,
    ReportRow,
    SignoffRow,
)
from engine.assessment import Assessment
from engine.decision import Decision
from rules.errors import (
    Conflict,
    InvalidAssessment,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    Problem,
    StoreCorrupted,
)

__all__ = ["Store", "StoredAssessmentInput", "safety_ids", "signoff_problems", "stamp",
           "utc_now"]

RowT = TypeVar("RowT")

_MAX_ID = 64
_MAX_KEY = 256
KEY_PREFIX = "sck_"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(at: dt.datetime) -> str:
    """ISO 8601 in UTC, always with microseconds and a ``Z``: one width, so text order is
    time order (``2026-03-10T09:15:02.000000Z``)."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _new_id(kind: str) -> str:
    return f"{kind}_{secrets.token_hex(10)}"


def _plausible(identifier: str) -> bool:
    return 0 < len(identifier) <= _MAX_ID and "\x00" not in identifier


def _nul_problems(value: Any, path: str = "") -> Iterator[Problem]:
    if isinstance(value, str):
        if "\x00" in value:
            yield Problem(path or "<input>", "nul_character",
                          "must not contain the NUL character (\\u0000)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _nul_problems(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nul_problems(item, f"{path}.{index}" if path else str(index))


@dataclass(frozen=True, slots=True)
class StoredAssessmentInput:
    """One stored assessment and its decision as stored, for replay."""

    assessment_id: str
    athlete_id: str
    injury_id: str
    assessment_date: str
    document: str
    decision_id: str
    decision_json: str
    rulebase_version: str
    superseded_by: str | None


class Store:
    """The decision store over one database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.database = Database(engine)
        self._clock = clock

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], dt.datetime] = utc_now,
             migrate_schema: bool = False) -> Store:
        """Connect to ``url``; migrate it first, or check that it is migrated."""
        store = cls(make_engine(url), clock=clock)
        try:
            if migrate_schema:
                store.migrate()
            else:
                store.check_schema()
        except BaseException:
            store.close()
            raise
        return store

    # ---- lifecycle --------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self.database.dialect

    def migrate(self) -> str:
        return migrate(self.database.engine)

    def check_schema(self) -> None:
        check_schema(self.database.engine)

    def ping(self) -> None:
        self.database.ping()

    def close(self) -> None:
        self.database.dispose()

    def now(self) -> dt.datetime:
        return self._clock()

    # ---- API keys ---------------------------------------------------------------------

    def create_key(self, actor: Principal, *, role: str, name: str) -> NewApiKey:
        """A new random key; only its SHA-256 is stored, the key itself is returned once."""
        problems = []
        if role not in {r.value for r in Role}:
            problems.append(Problem("role", "choice", "must be one of "
                                    f"{', '.join(r.value for r in Role)} (got {role!r})"))
        cleaned = name.strip()
        if not cleaned or len(cleaned) > 200 or "\x00" in cleaned:
            problems.append(Problem("name", "length",
                                    "must be 1–200 characters, without NUL characters"))
        if problems:
            raise InvalidInput("the key request is not valid", problems)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        at = stamp(self.now())
        row = ApiKeyRow(id=_new_id("key"), key_sha256=sha256_hex(key), name=cleaned, role=role,
                        created_at=at, revoked_at=None)
        with self.database.writing() as session:
            session.add(row)
            audit.append(session, at=at, actor=actor, action="key.create",
                         subject=f"key/{row.id}",
                         details={"key_id": row.id, "name": row.name, "role": row.role,
                                  "record_sha256": audit.record_sha256(row)})
        return NewApiKey(key=key, info=_key_info(row))

    def list_keys(self) -> list[ApiKeyInfo]:
        with self.database.reading() as session:
            rows = session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at,
                                                              ApiKeyRow.id)).scalars()
            return [_key_info(row) for row in rows]

    def revoke_key(self, actor: Principal, key_id: str) -> ApiKeyInfo:
        at = stamp(self.now())
        with self.database.writing() as session:
            row = self._get(session, ApiKeyRow, key_id, "API key")
            if row.revoked_at is not None:
                raise Conflict(f"API key {key_id} was already revoked at {row.revoked_at}")
            row.revoked_at = at
            audit.append(session, at=at, actor=actor, action="key.revoke",
                         subject=f"key/{row.id}", details={"key_id": row.id, "name": row.name,
                                                           "role": row.role})
            return _key_info(row)

    def authenticate(self, key: str | None) -> Principal:
        """The holder of ``key``; ``NotAuthenticated`` if it is missing, unknown or revoked."""
        if not key:
            raise NotAuthenticated("an API key is needed: send it in the X-API-Key header")
        if len(key) > _MAX_KEY or not key.isascii():
            raise NotAuthenticated("the API key is not known")
        with self.database.reading() as session:
            row = session.execute(select(ApiKeyRow).where(
                ApiKeyRow.key_sha256 == sha256_hex(key))).scalar_one_or_none()
            if row is None:
                raise NotAuthenticated("the API key is not known")
            if row.revoked_at is not None:
                raise NotAuthenticated("the API key was revoked")
            return Principal(key_id=row.id, name=row.name, role=row.role)

    # ---- athletes and injuries --------------------------------------------------------

    def create_athlete(self, actor: Principal, *, athlete_id: str, name: str | None = None,
                       sport: str | None = None, position: str | None = None) -> Athlete:
        at = stamp(self.now())
        row = AthleteRow(id=athlete_id, name=name, sport=sport, position=position,
                         created_at=at)
        _refuse_nul(row.audited(), "the athlete is not valid")
        with self.database.writing() as session:
            if session.get(AthleteRow, athlete_id) is not None:
                raise Conflict(f"athlete {athlete_id} already exists")
            session.add(row)
            audit.append(session, at=at, actor=actor, action="athlete.create",
                         subject=f"athlete/{athlete_id}",
                         details={"athlete_id": athlete_id,
                                  "record_sha256": audit.record_sha256(row)})
        return _athlete(row)

    def list_athletes(self) -> list[Athlete]:
        with self.database.reading() as session:
            rows = session.execute(select(AthleteRow).order_by(AthleteRow.id)).scalars()
            return [_athlete(row) for row in rows]

    def squad_board(self) -> list[SquadAthlete]:
        """Every athlete with the latest injury episode, its entries and the plan dates of
        its latest current decision, in a constant number of queries (``api.store.squad``)."""
        with self.database.reading(snapshot=True) as session:
            return squad.board(session, self.dialect)

    def get_athlete(self, athlete_id: str) -> Athlete:
        with self.database.reading() as session:
            return _athlete(self._get(session, AthleteRow, athlete_id, "athlete"))

    def create_injury(self, actor: Principal, athlete_id: str, *, region: str, side: str,
                      date: str, muscle: str | None = None, bamic_grade: str | None = None,
                      mechanism: str | None = None) -> Injury:
        at = stamp(self.now())
        row = InjuryRow(id=_new_id("inj"), athlete_id=athlete_id, region=region, side=side,
                        date=date, muscle=muscle, bamic_grade=bamic_grade, mechanism=mechanism,
                        created_at=at)
        with self.database.writing() as session:
            self._get(session, AthleteRow, athlete_id, "athlete")
            same = session.execute(select(InjuryRow).where(
                InjuryRow.athlete_id == athlete_id, InjuryRow.region == region,
                InjuryRow.side == side, InjuryRow.date == date)).scalar_one_or_none()
            if same is not None:
                raise Conflict(f"athlete {athlete_id} already has a {side} {region} injury of "
                               f"{date}: {same.id}")
            session.add(row)
            audit.append(session, at=at, actor=actor, action="injury.create",
                         subject=f"injury/{row.id}",
                         details={"injury_id": row.id, "athlete_id": athlete_id,
                                  "record_sha256": audit.record_sha256(row)})
        return _injury(row)

    def list_injuries(self, athlete_id: str) -> list[Injury]:
        with self.database.reading() as session:
            self._get(session, AthleteRow, athlete_id, "athlete")
            rows = session.execute(select(InjuryRow).where(InjuryRow.athlete_id == athlete_id)
                                   .order_by(InjuryRow.date, InjuryRow.created_at)).scalars()
            return [_injury(row) for row in rows]

    def get_injury(self, injury_id: str) -> Injury:
        with self.database.reading() as session:
            return _injury(self._get(session, InjuryRow, injury_id, "injury"))

    # ---- assessments and decisions ----------------------------------------------------

    def record_assessment(self, actor: Principal, injury_id: str, assessment: Assessment,
                          decision: Decision, *, supersedes: str | None = None
                          ) -> StoredDecision:
        """Store an assessment of an injury with its decision (decided with ``evaluated_at``).

        Refused with ``Conflict`` when the document names another athlete or another
        injury than the episode, when it is identical to a stored assessment, or when the
        assessment it supersedes belongs elsewhere or was superseded already.
        """
        if decision.input_sha256 != assessment.input_sha256 or decision.evaluated_at is None:
            raise ValueError("the decision must be of this assessment, with evaluated_at")
        _refuse_nul(assessment.document, "the assessment cannot be stored", InvalidAssessment)
        document_text = canonical_json(assessment.document)
        if sha256_hex(document_text) != assessment.input_sha256:  # pragma: no cover - guard
            raise AssertionError("canonical JSON of the store and the engine differ")
        at = stamp(dt.datetime.fromisoformat(decision.evaluated_at.replace("Z", "+00:00")))
        with self.database.writing() as session:
            injury = self._get(session, InjuryRow, injury_id, "injury")
            _check_matches_injury(assessment, injury)
            same = session.execute(select(AssessmentRow).where(
                AssessmentRow.input_sha256 == assessment.input_sha256)).scalar_one_or_none()
            if same is not None:
                raise Conflict(f"this assessment is already stored, identical, as {same.id} "
                               f"(stored {same.created_at}); a correction must change something")
            if supersedes is not None:
                self._check_supersedes(session, supersedes, injury)
            if session.get(DecisionRow, decision.decision_id) is not None:
                raise Conflict(f"decision {decision.decision_id} is already stored")
            row = AssessmentRow(id=_new_id("asm"), athlete_id=injury.athlete_id,
                                injury_id=injury.id, supersedes=supersedes,
                                assessment_date=str(assessment.document["assessment"]["date"]),
                                document=document_text, input_sha256=assessment.input_sha256,
                                created_at=at)
            decision_row = _decision_row(decision, row.id)
            session.add(row)
            session.flush()  # the decision's foreign key needs the assessment first
            session.add(decision_row)
            audit.append(session, at=at, actor=actor, action="assessment.create",
                         subject=f"assessment/{row.id}",
                         details={"assessment_id": row.id, "athlete_id": row.athlete_id,
                                  "injury_id": row.injury_id, "supersedes": supersedes,
                                  "assessment_date": row.assessment_date,
                                  "input_sha256": row.input_sha256,
                                  "record_sha256": audit.record_sha256(row)})
            audit.append(session, at=at, actor=actor, action="decision.create",
                         subject=f"decision/{decision_row.id}",
                         details={"decision_id": decision_row.id, "assessment_id": row.id,
                                  "input_sha256": decision_row.input_sha256,
                                  "rulebase_version": decision_row.rulebase_version,
                                  "protocol": decision_row.protocol_id,
                                  "phase": decision_row.phase_id,
                                  "criteria_phase": decision_row.criteria_phase_id,
                                  "cleared_to_sprint": decision_row.cleared_to_sprint,
                                  "cleared_to_play": decision_row.cleared_to_play,
                                  "decision_sha256": decision_row.decision_sha256,
                                  "record_sha256": audit.record_sha256(decision_row)})
            return _stored_decision(decision_row, row, None, None, None)

    def _check_supersedes(self, session: Session, supersedes: str, injury: InjuryRow) -> None:
        earlier = self._get(session, AssessmentRow, supersedes, "assessment")
        if earlier.athlete_id != injury.athlete_id:
            raise Conflict(f"assessment {supersedes} is of athlete {earlier.athlete_id}, not "
                           f"{injury.athlete_id}: a correction must be of the same athlete")
        if earlier.injury_id != injury.id:
            raise Conflict(f"assessment {supersedes} is of injury {earlier.injury_id}, not "
                           f"{injury.id}: a correction must be of the same injury")
        later = _superseded_by(session, [supersedes]).get(supersedes)
        if later is not None:
            raise Conflict(f"assessment {supersedes} was already superseded by {later}: "
                           f"correct {later} instead")

    def get_assessment(self, assessment_id: str) -> AssessmentRecord:
        with self.database.reading() as session:
            row = self._get(session, AssessmentRow, assessment_id, "assessment")
            entry = self._entries(session, [row])[0]
            return AssessmentRecord(entry=entry, document=json.loads(row.document))

    def list_assessments(self, injury_id: str) -> list[AssessmentEntry]:
        with self.database.reading() as session:
            self._get(session, InjuryRow, injury_id, "injury")
            rows = list(session.execute(select(AssessmentRow)
                                        .where(AssessmentRow.injury_id == injury_id)
                                        .order_by(AssessmentRow.assessment_date,
                                                  AssessmentRow.created_at)).scalars())
            return self._entries(session, rows)

    def timeline(self, athlete_id: str) -> Timeline:
        """An athlete's injuries, each with its assessments, decisions and sign-offs in order."""
        with self.database.reading() as session:
            athlete = self._get(session, AthleteRow, athlete_id, "athlete")
            injuries = list(session.execute(
                select(InjuryRow).where(InjuryRow.athlete_id == athlete_id)
                .order_by(InjuryRow.date, InjuryRow.created_at)).scalars())
            rows = list(session.execute(
                select(AssessmentRow).where(AssessmentRow.athlete_id == athlete_id)
                .order_by(AssessmentRow.assessment_date, AssessmentRow.created_at)).scalars())
            entries = self._entries(session, rows)
            return Timeline(athlete=_athlete(athlete), injuries=[
                InjuryTimeline(injury=_injury(injury),
                               assessments=[e for e in entries if e.injury_id == injury.id])
                for injury in injuries])

    def _entries(self, session: Session, rows: Sequence[AssessmentRow]
                 ) -> list[AssessmentEntry]:
        ids = [row.id for row in rows]
        decisions = {d.assessment_id: d for d in session.execute(
            select(DecisionRow).where(DecisionRow.assessment_id.in_(ids))
            .options(defer(DecisionRow.decision_json))).scalars()}
        signoffs = {s.decision_id: s for s in session.execute(
            select(SignoffRow).where(SignoffRow.decision_id.in_(
                [d.id for d in decisions.values()]))).scalars()}
        later = _superseded_by(session, ids)
        entries = []
        for row in rows:
            decision = decisions.get(row.id)
            if decision is None:
                raise StoreCorrupted(
                    f"assessment {row.id} has no stored decision: the database was changed "
                    "outside sprintclear; run `sprintclear audit verify` (or GET "
                    "/v1/audit/verify) to see what was changed")
            signoff = signoffs.get(decision.id)
            assessor = json.loads(row.document).get("assessment", {}).get("assessor")
            entries.append(AssessmentEntry(
                id=row.id, athlete_id=row.athlete_id, injury_id=row.injury_id,
                assessment_date=row.assessment_date, assessor=assessor,
                supersedes=row.supersedes, superseded_by=later.get(row.id),
                input_sha256=row.input_sha256, created_at=row.created_at,
                decision=_summary(decision), signoff=_signoff(signoff) if signoff else None))
        return entries

    def decision_log(self, *, athlete_id: str | None = None, assessed_from: str | None = None,
                     assessed_to: str | None = None, limit: int = 500, offset: int = 0
                     ) -> tuple[list[AssessmentEntry], bool]:
        """Stored assessments with their decisions and sign-offs, newest assessment first.

        Optionally of one athlete and within assessment dates (ISO, both ends included).
        The second value is true when more entries match than ``limit``."""
        query = select(AssessmentRow)
        if athlete_id is not None:
            query = query.where(AssessmentRow.athlete_id == athlete_id)
        if assessed_from is not None:
            query = query.where(AssessmentRow.assessment_date >= assessed_from)
        if assessed_to is not None:
            query = query.where(AssessmentRow.assessment_date <= assessed_to)
        query = query.order_by(AssessmentRow.assessment_date.desc(),
                               AssessmentRow.created_at.desc(), AssessmentRow.id.desc())
        with self.database.reading() as session:
            rows = list(session.execute(query.offset(offset).limit(limit + 1)).scalars())
            return self._entries(session, rows[:limit]), len(rows) > limit

    def get_decision(self, decision_id: str) -> StoredDecision:
        """A stored decision with its full JSON, sign-off and report."""
        with self.database.reading() as session:
            decision = self._get(session, DecisionRow, decision_id, "decision")
            assessment = session.get_one(AssessmentRow, decision.assessment_id)
            signoff = session.execute(select(SignoffRow).where(
                SignoffRow.decision_id == decision_id)).scalar_one_or_none()
            report = session.execute(select(ReportRow).where(
                ReportRow.decision_id == decision_id)).scalar_one_or_none()
            later = _superseded_by(session, [assessment.id]).get(assessment.id)
            return _stored_decision(decision, assessment, signoff, report, later)

    def earlier_decisions(self, decision_id: str) -> list[str]:
        """The decision JSON of the same injury's earlier, not superseded assessments."""
        with self.database.reading() as session:
            decision = self._get(session, DecisionRow, decision_id, "decision")
            assessment = session.get_one(AssessmentRow, decision.assessment_id)
            rows = list(session.execute(
                select(AssessmentRow, DecisionRow)
                .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
                .where(AssessmentRow.injury_id == assessment.injury_id,
                       or_(AssessmentRow.assessment_date < assessment.assessment_date,
                           and_(AssessmentRow.assessment_date == assessment.assessment_date,
                                AssessmentRow.created_at < assessment.created_at)))
                .order_by(AssessmentRow.assessment_date, AssessmentRow.created_at)))
            later = _superseded_by(session, [row.id for row, _ in rows])
            return [d.decision_json for row, d in rows if row.id not in later]

    def document_of(self, decision_id: str) -> dict[str, Any]:
        """The canonical input the decision was made from."""
        with self.database.reading() as session:
            decision = self._get(session, DecisionRow, decision_id, "decision")
            document: dict[str, Any] = json.loads(
                session.get_one(AssessmentRow, decision.assessment_id).document)
            return document

    def sign_off(self, actor: Principal, decision_id: str, *,
                 action: Literal["accept", "override"], phase: str | None = None,
                 reason: str | None = None, acknowledged: Sequence[str] | None = None
                 ) -> Signoff:
        """Accept the recommendation or override it; the decision itself is never changed.

        ``acknowledged``: the ids of the decision's red flags, holds and cautions the
        clinician acknowledged (the pages' confirmation step lists them); recorded with the
        sign-off and its audit entry. An id the decision does not have is ``InvalidInput``.

        A sign-off is final: a second one is a ``Conflict``, and so is signing the
        decision of an assessment that a correction has superseded.
        """
        at = stamp(self.now())
        with self.database.writing() as session:
            decision = self._get(session, DecisionRow, decision_id, "decision")
            existing = session.execute(select(SignoffRow).where(
                SignoffRow.decision_id == decision_id)).scalar_one_or_none()
            if existing is not None:
                verb = "accepted" if existing.action == "accept" else "overridden"
                raise Conflict(f"decision {decision_id} was already signed off ({verb} by "
                               f"{existing.clinician_name} at {existing.signed_at}); a "
                               f"sign-off is final: store a corrected assessment to decide again")
            later = _superseded_by(session, [decision.assessment_id]).get(
                decision.assessment_id)
            if later is not None:
                raise Conflict(f"assessment {decision.assessment_id} of decision {decision_id} "
                               f"was superseded by {later}: sign off that one's decision")
            recommended = decision.phase_id
            problems = signoff_problems(recommended, action, phase, reason)
            if problems:
                raise InvalidInput("the sign-off is not valid", problems)
            signed = recommended if action == "accept" else str(phase)
            noted = _acknowledged(decision.decision_json, acknowledged)
            row = SignoffRow(id=_new_id("sig"), decision_id=decision_id, action=action,
                             recommended_phase=recommended, signed_phase=signed,
                             reason=reason.strip() if reason and reason.strip() else None,
                             clinician_key_id=actor.key_id, clinician_name=actor.name,
                             signed_at=at,
                             acknowledged=None if noted is None else canonical_json(noted))
            _refuse_nul(row.audited(), "the sign-off is not valid")
            session.add(row)
            audit.append(session, at=at, actor=actor, action=f"signoff.{action}",
                         subject=f"signoff/{row.id}",
                         details={"signoff_id": row.id, "decision_id": decision_id,
                                  "recommended_phase": recommended, "signed_phase": signed,
                                  "reason": row.reason,
                                  **({} if noted is None else {"acknowledged": noted}),
                                  "record_sha256": audit.record_sha256(row)})
            return _signoff(row)

    # ---- reports ----------------------------------------------------------------------

    def get_report(self, decision_id: str) -> StoredReport | None:
        with self.database.reading() as session:
            self._get(session, DecisionRow, decision_id, "decision")
            row = session.execute(select(ReportRow).where(
                ReportRow.decision_id == decision_id)).scalar_one_or_none()
            return None if row is None else StoredReport(info=_report_info(row), pdf=row.pdf)

    def store_report(self, actor: Principal, decision_id: str, *, pdf: bytes,
                     signer_name: str, meaning: str, at: dt.datetime) -> ReportInfo:
        """Keep a signed report of a signed-off decision; there is one report per decision."""
        created = stamp(at)
        with self.database.writing() as session:
            self._get(session, DecisionRow, decision_id, "decision")
            signoff = session.execute(select(SignoffRow).where(
                SignoffRow.decision_id == decision_id)).scalar_one_or_none()
            if signoff is None:
                raise Conflict(f"decision {decision_id} has not been signed off: a report is "
                               f"issued once a clinician accepts or overrides it")
            if session.execute(select(ReportRow.id).where(
                    ReportRow.decision_id == decision_id)).first() is not None:
                raise Conflict(f"decision {decision_id} already has a report")
            row = ReportRow(id=_new_id("rep"), decision_id=decision_id, signoff_id=signoff.id,
                            pdf=pdf, pdf_sha256=sha256_hex(pdf), size=len(pdf),
                            signer_name=signer_name, meaning=meaning, created_at=created)
            session.add(row)
            audit.append(session, at=created, actor=actor, action="report.create",
                         subject=f"report/{row.id}",
                         details={"report_id": row.id, "decision_id": decision_id,
                                  "signoff_id": signoff.id, "pdf_sha256": row.pdf_sha256,
                                  "size": row.size, "signer_name": signer_name,
                                  "record_sha256": audit.record_sha256(row)})
            return _report_info(row)

    # ---- audit and replay -------------------------------------------------------------

    def verify_audit(self) -> audit.AuditVerification:
        with self.database.reading(snapshot=True) as session:
            return audit.verify(session)

    def verify_audit_since_checkpoint(self) -> checkpoint.IncrementalVerification:
        """Verify only what follows the latest verified checkpoint (the whole chain when
        there is none), then keep an intact head as the next checkpoint
        (``api.store.checkpoint``); :meth:`verify_audit` still checks everything."""
        with self.database.reading(snapshot=True) as session:
            checked = checkpoint.verify_since(session)
        result = checked.result
        since = checked.since.seq if checked.since else 0
        if result.intact and result.head_seq > since:
            with self.database.writing() as session:
                checkpoint.record(session, result, at=stamp(self.now()),
                                  scope="since" if checked.since else "full")
        return checked

    def audit_trail(self, *, athlete_id: str | None = None, at_from: str | None = None,
                    at_to: str | None = None, before: int | None = None, limit: int = 50
                    ) -> tuple[list[AuditEntry], bool]:
        """A page of the trail, latest first: of one athlete's records if given, written
        between two dates (ISO, UTC, both included); true when older entries match."""
        with self.database.reading() as session:
            subjects = (trail.athlete_subjects(session, athlete_id) if athlete_id is not None
                        else None)
            return trail.entries(session, subjects=subjects, at_from=at_from, at_to=at_to,
                                 before=before, limit=limit)

    def subject_labels(self, subjects: Iterable[str]) -> dict[str, trail.SubjectLabel]:
        """Names and decision links for audit subjects (``athlete/FC-23``, ``signoff/…``)."""
        with self.database.reading() as session:
            return trail.labels(session, subjects)

    def audit_entries(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        with self.database.reading() as session:
            rows = session.execute(select(AuditEntryRow).where(AuditEntryRow.seq > after)
                                   .order_by(AuditEntryRow.seq).limit(limit)).scalars()
            return [AuditEntry(seq=row.seq, at=row.at,
                               actor={"key": row.actor_key_id, "name": row.actor_name,
                                      "role": row.actor_role},
                               action=row.action, subject=row.subject,
                               details=_json_or_text(row.details), prev_hash=row.prev_hash,
                               hash=row.hash) for row in rows]

    def stored_assessments(self) -> Iterator[StoredAssessmentInput]:
        """Every stored assessment with its decision, in the order they were stored."""
        with self.database.reading(snapshot=True) as session:
            later = {row.supersedes: row.id for row in session.execute(
                select(AssessmentRow.supersedes, AssessmentRow.id)
                .where(AssessmentRow.supersedes.is_not(None)))}
            result = session.execute(
                select(AssessmentRow, DecisionRow)
                .join(DecisionRow, DecisionRow.assessment_id == AssessmentRow.id)
                .order_by(AssessmentRow.created_at, AssessmentRow.id)
                .execution_options(yield_per=200))
            for row, decision in result:
                yield StoredAssessmentInput(
                    assessment_id=row.id, athlete_id=row.athlete_id, injury_id=row.injury_id,
                    assessment_date=row.assessment_date, document=row.document,
                    decision_id=decision.id, decision_json=decision.decision_json,
                    rulebase_version=decision.rulebase_version,
                    superseded_by=later.get(row.id))

    def count(self, table: str) -> int:
        """How many rows a table holds (for health checks and tests)."""
        model = {"athletes": AthleteRow, "injuries": InjuryRow, "assessments": AssessmentRow,
                 "decisions": DecisionRow, "signoffs": SignoffRow, "reports": ReportRow,
                 "api_keys": ApiKeyRow, "audit_entries": AuditEntryRow}[table]
        with self.database.reading() as session:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    # ---- helpers ----------------------------------------------------------------------

    @staticmethod
    def _get(session: Session, model: type[RowT], identifier: str, what: str) -> RowT:
        row = session.get(model, identifier) if _plausible(identifier) else None
        if row is None:
            raise NotFound(f"{what} {identifier[:80]!r} does not exist")
        return row


def _refuse_nul(value: Any, summary: str,
                error: type[InvalidInput] | type[InvalidAssessment] = InvalidInput) -> None:
    problems = list(_nul_problems(value))
    if problems:
        raise error(summary, problems)


def _check_matches_injury(assessment: Assessment, injury: InjuryRow) -> None:
    document = assessment.document
    mismatches = []
    if assessment.athlete_id != injury.athlete_id:
        mismatches.append(f"athlete.id is {assessment.athlete_id}, the injury is of athlete "
                          f"{injury.athlete_id}")
    for name in ("region", "side", "date"):
        given = document["injury"][name]
        if given != getattr(injury, name):
            mismatches.append(f"injury.{name} is {given}, injury {injury.id} has "
                              f"{getattr(injury, name)}")
    if mismatches:
        raise Conflict("the assessment is not of this injury: " + "; ".join(mismatches))


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


def _superseded_by(session: Session, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {row.supersedes: row.id for row in session.execute(
        select(AssessmentRow.supersedes, AssessmentRow.id)
        .where(AssessmentRow.supersedes.in_(list(ids))))}


def _decision_row(decision: Decision, assessment_id: str) -> DecisionRow:
    assert decision.evaluated_at is not None
    decision_json = decision.to_json()
    summary = canonical_json({"red_flags": [flag.id for flag in decision.red_flags],
                              "cautions": [caution.id for caution in decision.cautions],
                              "blocking": list(decision.blocking)})
    return DecisionRow(
        id=decision.decision_id, assessment_id=assessment_id,
        input_sha256=decision.input_sha256, rulebase_version=decision.rulebase.version,
        protocol_id=decision.rulebase.protocol,
        protocol_version=decision.rulebase.protocol_version,
        evaluated_at=decision.evaluated_at, phase_number=decision.phase.number,
        phase_id=decision.phase.id, criteria_phase_number=decision.criteria_phase.number,
        criteria_phase_id=decision.criteria_phase.id,
        cleared_to_sprint=decision.cleared_to_sprint, cleared_to_play=decision.cleared_to_play,
        summary=summary, decision_json=decision_json,
        decision_sha256=sha256_hex(decision_json))


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _athlete(row: AthleteRow) -> Athlete:
    return Athlete(id=row.id, name=row.name, sport=row.sport, position=row.position,
                   created_at=row.created_at)


def _injury(row: InjuryRow) -> Injury:
    return Injury(id=row.id, athlete_id=row.athlete_id,
                  region=row.region,  # type: ignore[arg-type]
                  side=row.side,  # type: ignore[arg-type]
                  date=row.date, muscle=row.muscle, bamic_grade=row.bamic_grade,
                  mechanism=row.mechanism, created_at=row.created_at)


def _summary(row: DecisionRow) -> DecisionSummary:
    summary = _json_or_text(row.summary)
    summary = summary if isinstance(summary, dict) else {}
    return DecisionSummary(
        id=row.id, phase=SummaryPhase(number=row.phase_number, id=row.phase_id),
        criteria_phase=SummaryPhase(number=row.criteria_phase_number, id=row.criteria_phase_id),
        cleared_to_sprint=row.cleared_to_sprint, cleared_to_play=row.cleared_to_play,
        red_flags=list(summary.get("red_flags", [])), cautions=list(summary.get("cautions", [])),
        blocking=list(summary.get("blocking", [])), rulebase_version=row.rulebase_version,
        protocol=row.protocol_id, protocol_version=row.protocol_version,
        evaluated_at=row.evaluated_at)


def _signoff(row: SignoffRow) -> Signoff:
    return Signoff(id=row.id, decision_id=row.decision_id,
                   action=row.action,  # type: ignore[arg-type]
                   recommended_phase=row.recommended_phase, signed_phase=row.signed_phase,
                   reason=row.reason, clinician=row.clinician_name,
                   clinician_key_id=row.clinician_key_id, signed_at=row.signed_at,
                   acknowledged=json.loads(row.acknowledged) if row.acknowledged else None)


def _report_info(row: ReportRow) -> ReportInfo:
    return ReportInfo(id=row.id, decision_id=row.decision_id, sha256=row.pdf_sha256,
                      size=row.size, signer_name=row.signer_name, meaning=row.meaning,
                      created_at=row.created_at)


def _key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(id=row.id, name=row.name, role=row.role, created_at=row.created_at,
                      revoked_at=row.revoked_at)


def _stored_decision(decision: DecisionRow, assessment: AssessmentRow,
                     signoff: SignoffRow | None, report: ReportRow | None,
                     superseded_by: str | None) -> StoredDecision:
    return StoredDecision(
        id=decision.id, assessment_id=assessment.id, athlete_id=assessment.athlete_id,
        injury_id=assessment.injury_id, superseded_by=superseded_by,
        summary=_summary(decision), signoff=_signoff(signoff) if signoff else None,
        report=_report_info(report) if report else None,
        decision_json=decision.decision_json, decision_sha256=decision.decision_sha256)
