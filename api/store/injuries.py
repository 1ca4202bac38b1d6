"""Injuries: an athlete's injury episodes, each the subject of its assessments.

An athlete has at most one injury of a region and side on a date; creating one is
audited (``injury.create``).
"""

from __future__ import annotations

from sqlalchemy import select

from api.store.records import Injury, Principal
from api.store.tables import AthleteRow, InjuryRow
from api.store.transaction import StorePart, future_date_problem, get_row, new_id, stamp
from rules.errors import Conflict, InvalidInput

__all__ = ["Injuries", "injury_record"]


def injury_record(row: InjuryRow) -> Injury:
    return Injury(id=row.id, athlete_id=row.athlete_id,
                  region=row.region,  # type: ignore[arg-type]
                  side=row.side,  # type: ignore[arg-type]
                  date=row.date, muscle=row.muscle, bamic_grade=row.bamic_grade,
                  mechanism=row.mechanism, created_at=row.created_at)


class Injuries(StorePart):
    """The store's injuries (part of :class:`~api.store.store.Store`)."""

    def create_injury(self, actor: Principal, athlete_id: str, *, region: str, side: str,
                      date: str, muscle: str | None = None, bamic_grade: str | None = None,
                      mechanism: str | None = None) -> Injury:
        """A new injury of a stored athlete; ``Conflict`` if the same one is stored,
        ``InvalidInput`` if it is dated after today (one day of tolerance)."""
        now = self.now()
        future = future_date_problem("date", date, now)
        if future is not None:
            raise InvalidInput("the injury is not valid", [future])
        at = stamp(now)
        row = InjuryRow(id=new_id("inj"), athlete_id=athlete_id, region=region, side=side,
                        date=date, muscle=muscle, bamic_grade=bamic_grade, mechanism=mechanism,
                        created_at=at)
        with self.transaction(actor, at) as tx:
            tx.get(AthleteRow, athlete_id, "athlete")
            same = tx.session.execute(select(InjuryRow).where(
                InjuryRow.athlete_id == athlete_id, InjuryRow.region == region,
                InjuryRow.side == side, InjuryRow.date == date)).scalar_one_or_none()
            if same is not None:
                raise Conflict(f"athlete {athlete_id} already has a {side} {region} injury of "
                               f"{date}: {same.id}")
            tx.session.add(row)
            tx.audit("injury.create", f"injury/{row.id}",
                     {"injury_id": row.id, "athlete_id": athlete_id}, record=row)
        return injury_record(row)

    def list_injuries(self, athlete_id: str) -> list[Injury]:
        with self.database.reading() as session:
            get_row(session, AthleteRow, athlete_id, "athlete")
            rows = session.execute(select(InjuryRow).where(InjuryRow.athlete_id == athlete_id)
                                   .order_by(InjuryRow.date, InjuryRow.created_at)).scalars()
            return [injury_record(row) for row in rows]

    def get_injury(self, injury_id: str) -> Injury:
        with self.database.reading() as session:
            return injury_record(get_row(session, InjuryRow, injury_id, "injury"))
