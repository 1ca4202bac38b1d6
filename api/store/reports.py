"""Reports: the signed PDF of a signed-off decision, one per decision.

Storing one is audited (``report.create``, with the PDF's SHA-256); reading one is
not a write.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from api.store.canonical import sha256_hex
from api.store.records import Principal, ReportInfo, StoredReport
from api.store.tables import DecisionRow, ReportRow, SignoffRow
from api.store.transaction import StorePart, get_row, new_id, stamp
from rules.errors import Conflict

__all__ = ["Reports", "report_info"]


def report_info(row: ReportRow) -> ReportInfo:
    return ReportInfo(id=row.id, decision_id=row.decision_id, sha256=row.pdf_sha256,
                      size=row.size, signer_name=row.signer_name, meaning=row.meaning,
                      created_at=row.created_at)


class Reports(StorePart):
    """The store's reports (part of :class:`~api.store.store.Store`)."""

    def get_report(self, decision_id: str) -> StoredReport | None:
        """The decision's report, or None if none was issued; ``NotFound`` without the
        decision."""
        with self.database.reading() as session:
            get_row(session, DecisionRow, decision_id, "decision")
            row = session.execute(select(ReportRow).where(
                ReportRow.decision_id == decision_id)).scalar_one_or_none()
            return None if row is None else StoredReport(info=report_info(row), pdf=row.pdf)

    def store_report(self, actor: Principal, decision_id: str, *, pdf: bytes,
                     signer_name: str, meaning: str, at: dt.datetime) -> ReportInfo:
        """Keep a signed report of a signed-off decision; there is one report per decision."""
        with self.transaction(actor, stamp(at)) as tx:
            tx.get(DecisionRow, decision_id, "decision")
            signoff = tx.session.execute(select(SignoffRow).where(
                SignoffRow.decision_id == decision_id)).scalar_one_or_none()
            if signoff is None:
                raise Conflict(f"decision {decision_id} has not been signed off: a report is "
                               f"issued once a clinician accepts or overrides it")
            if tx.session.execute(select(ReportRow.id).where(
                    ReportRow.decision_id == decision_id)).first() is not None:
                raise Conflict(f"decision {decision_id} already has a report")
            row = ReportRow(id=new_id("rep"), decision_id=decision_id, signoff_id=signoff.id,
                            pdf=pdf, pdf_sha256=sha256_hex(pdf), size=len(pdf),
                            signer_name=signer_name, meaning=meaning, created_at=tx.at)
            tx.session.add(row)
            tx.audit("report.create", f"report/{row.id}",
                     {"report_id": row.id, "decision_id": decision_id,
                      "signoff_id": signoff.id, "pdf_sha256": row.pdf_sha256,
                      "size": row.size, "signer_name": signer_name}, record=row)
            return report_info(row)
