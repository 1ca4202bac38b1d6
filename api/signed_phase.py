"""The signed phase an assessment starts from: ``previous`` filled from the records.

Protocol section 2.1: ``previous.phase`` is the phase a clinician last **signed**
for the injury episode (accepted or overridden) and ``previous.date`` the date of
the assessment that sign-off belongs to. The service fills both from its own
records and refuses a client-supplied ``previous`` that differs (409);
``sprintclear audit replay`` supplies ``previous`` to stored inputs that lack it
with the same function, :func:`latest_signed_step`, so both read the records
the same way. Everything here is pure: plain records in, plain values out.

**The rule.** Among the sign-offs of the episode's assessments, take those of
assessments that are *earlier* than the one being decided and not superseded by
a correction; the latest of them, by assessment date and then by the order the
assessments were stored, gives ``{"phase": signed_phase, "date": assessment_date}``.
None when there is none (R6 then caps the phase at ``run``).

**"Earlier" on the same day.** An assessment dated the same day counts as
earlier when it was stored before the one being decided: a clinician may see an
athlete twice in a day (a morning test, an afternoon re-test), and the morning
sign-off is the signed phase the afternoon starts from. Its date is then the
assessment's own date, so R6 (section 4.2, "same-day sign-off") caps the phase
at the signed phase: no second step on the same day. An assessment dated after
the one being decided (a visit entered late) never counts.

**As of a moment.** ``as_of`` (a store timestamp, ``2026-03-10T09:15:02.000000Z``)
restricts the records to what existed then: assessments stored before it,
sign-offs signed at or before it, and corrections stored before it. The service
decides "now", so it passes nothing; replay passes the stored assessment's own
``created_at`` and so gets what the service would have filled when it stored it.

**Corrections.** A sign-off of an assessment that a correction superseded does not
count: it signed an input since found wrong (and a superseded assessment can no
longer be signed). The assessment being corrected is superseded by the one being
decided, so it is left out too (``excluding``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SignedStep", "latest_signed_step", "previous_conflict"]


@dataclass(frozen=True, slots=True)
class SignedStep:
    """One assessment of the episode with its sign-off, as the store keeps them.

    ``assessment_date`` is ISO ``YYYY-MM-DD``; ``stored_at``, ``signed_at`` and
    ``superseded_at`` are store timestamps (ISO 8601 UTC, fixed width, so text
    order is time order). ``signed_phase`` is a phase id; ``superseded_at`` is
    when the correction that superseded the assessment was stored, or None.
    """

    assessment_id: str
    assessment_date: str
    stored_at: str
    signed_phase: str
    signed_at: str
    superseded_at: str | None = None


def latest_signed_step(signoffs: Iterable[SignedStep | Mapping[str, Any]], before_date: str,
                       *, as_of: str | None = None, excluding: str | None = None,
                       stored_before: str | None = None) -> dict[str, str] | None:
    """The ``previous`` an assessment dated ``before_date`` starts from (protocol 2.1).

    ``signoffs``: the episode's signed assessments (:class:`SignedStep` or mappings with
    the same keys), in any order. ``before_date``: the assessment date being decided,
    ``YYYY-MM-DD``; assessments dated on or before it count (same day: see the module
    docstring). ``as_of``: a store timestamp; only records that existed then count
    (None: all). ``excluding``: the id of an assessment that does not count (the one
    the assessment being decided corrects). ``stored_before``: the store timestamp of
    the assessment being decided when it is already stored (a sign-off's re-check):
    a same-day assessment counts only when stored before it, as when it was decided,
    and the assessment itself never counts; with ``None`` every stored same-day
    assessment counts (the one being decided is not stored yet).

    Returns ``{"phase": <signed phase id>, "date": <its assessment's date>}`` or None.
    """
    best: tuple[str, str, str] | None = None
    found: dict[str, str] | None = None
    for item in signoffs:
        step = item if isinstance(item, SignedStep) else SignedStep(**item)
        if step.assessment_id == excluding or step.assessment_date > before_date:
            continue
        if stored_before is not None and step.assessment_date == before_date \
                and step.stored_at >= stored_before:
            continue
        if as_of is not None and (step.stored_at >= as_of or step.signed_at > as_of):
            continue
        if step.superseded_at is not None and (as_of is None or step.superseded_at < as_of):
            continue
        key = (step.assessment_date, step.stored_at, step.assessment_id)
        if best is None or key > best:
            best = key
            found = {"phase": step.signed_phase, "date": step.assessment_date}
    return found


def previous_conflict(given: Mapping[str, Any] | None, stored: Mapping[str, str] | None
                      ) -> str | None:
    """Why a client-supplied ``previous`` is refused, or None when it may stand.

    ``given`` is the input's ``previous`` (None or empty: not supplied, to be filled);
    ``stored`` what :func:`latest_signed_step` found. A ``previous`` equal to the stored
    one is accepted; any other is refused with a sentence naming the stored values.
    """
    if not given:
        return None
    supplied = {"phase": given.get("phase"), "date": given.get("date")}
    if stored is not None and supplied == dict(stored):
        return None
    told = f"previous is phase {supplied['phase']} of {supplied['date']}"
    if stored is None:
        return (f"{told}, but no phase has been signed for an earlier assessment of this "
                f"injury: omit previous (the service fills it from its records; protocol "
                f"section 2.1)")
    return (f"{told}, but the last signed phase on record for this injury is "
            f"{stored['phase']}, signed for the assessment of {stored['date']}: omit "
            f"previous (the service fills it) or send those values (protocol section 2.1)")
