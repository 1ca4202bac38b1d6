"""Athletes: the people assessed, under their own id (``athlete.id`` of the assessments).

Creating one is audited (``athlete.create``). An athlete's timeline (injuries with
their assessments) is in :mod:`api.store.assessments`.
"""

from __future__ import annotations

from sqlalchemy import select

from api.store.records import Athlete, Principal
from api.store.tables import AthleteRow
from api.store.transaction import StorePart, get_row, refuse_nul, stamp
from rules.errors import Conflict

__all__ = ["Athletes", "athlete_record"]


def athlete_record(row: AthleteRow) -> Athlete:
    return Athlete(id=row.id, name=row.name, sport=row.sport, position=row.position,
                   created_at=row.created_at)


class Athletes(StorePart):
    """The store's athletes (part of :class:`~api.store.store.Store`)."""

    def create_athlete(self, actor: Principal, *, athlete_id: str, name: str | None = None,
                       sport: str | None = None, position: str | None = None) -> Athlete:
        """A new athlete; ``Conflict`` if the id is taken."""
        at = stamp(self.now())
        row = AthleteRow(id=athlete_id, name=name, sport=sport, position=position,
                         created_at=at)
        refuse_nul(row.audited(), "the athlete is not valid")
        with self.transaction(actor, at) as tx:
            if tx.session.get(AthleteRow, athlete_id) is not None:
                raise Conflict(f"athlete {athlete_id} already exists")
            tx.session.add(row)
            tx.audit("athlete.create", f"athlete/{athlete_id}", {"athlete_id": athlete_id},
                     record=row)
        return athlete_record(row)

    def list_athletes(self) -> list[Athlete]:
        with self.database.reading() as session:
            rows = session.execute(select(AthleteRow).order_by(AthleteRow.id)).scalars()
            return [athlete_record(row) for row in rows]

    def get_athlete(self, athlete_id: str) -> Athlete:
        """The athlete; ``NotFound`` if there is none with this id."""
        with self.database.reading() as session:
            return athlete_record(get_row(session, AthleteRow, athlete_id, "athlete"))

