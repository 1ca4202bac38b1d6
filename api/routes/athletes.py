"""Athletes, their injury episodes, and an athlete's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import Allowed, RawBody, StoreDep
from api.openapi import body, error_responses
from api.responses import location
from api.schemas import AthleteIn, InjuryIn, parse_body
from api.store import Principal
from api.store.records import Athlete, Injury, Timeline
from rules.errors import InvalidInput, Problem

router = APIRouter(prefix="/v1/athletes", tags=["athletes"])


@router.post("", status_code=201, summary="Add an athlete",
             responses=error_responses(401, 403, 409, 413, 422),
             openapi_extra=body(AthleteIn))
def create_athlete(caller: Annotated[Principal, Depends(Allowed("athlete.create"))],
                   raw: RawBody, store: StoreDep, response: Response) -> Athlete:
    """The id is the athlete's id in assessments (``athlete.id``); it may be used once."""
    new = parse_body(AthleteIn, raw, "athlete")
    if new.id in {".", ".."}:  # dot segments: no URL can address /v1/athletes/. or /..
        raise InvalidInput("the athlete is not valid", [Problem(
            "id", "pattern", f"must not be {new.id!r}: a URL path cannot address that id")])
    # every header is built before the write commits: nothing can fail after it
    response.headers["Location"] = location("/v1/athletes", new.id)
    return store.create_athlete(caller, athlete_id=new.id, name=new.name, sport=new.sport,
                                position=new.position)


@router.get("", summary="List the athletes", responses=error_responses(401, 403))
def list_athletes(_caller: Annotated[Principal, Depends(Allowed("athlete.read"))],
                  store: StoreDep) -> list[Athlete]:
    return store.list_athletes()


@router.get("/{athlete_id}", summary="Read an athlete", responses=error_responses(401, 403, 404))
def read_athlete(athlete_id: str,
                 _caller: Annotated[Principal, Depends(Allowed("athlete.read"))],
                 store: StoreDep) -> Athlete:
    return store.get_athlete(athlete_id)


@router.get("/{athlete_id}/timeline", summary="The athlete's assessments, decisions and phases "
            "over time", responses=error_responses(401, 403, 404))
def timeline(athlete_id: str, _caller: Annotated[Principal, Depends(Allowed("athlete.read"))],
             store: StoreDep) -> Timeline:
    """Each injury episode with its assessments in date order: the decided phase, the
    criteria phase, red flags, cautions, what blocked the next gate, the rule base version,
    the sign-off (accepted or overridden, by whom), and which correction superseded which."""
    return store.timeline(athlete_id)


@router.post("/{athlete_id}/injuries", status_code=201, summary="Add an injury episode",
             responses=error_responses(401, 403, 404, 409, 413, 422),
             openapi_extra=body(InjuryIn))
def create_injury(athlete_id: str,
                  caller: Annotated[Principal, Depends(Allowed("injury.create"))],
                  raw: RawBody, store: StoreDep, response: Response) -> Injury:
    """Region, side and date identify the episode; its assessments must match them."""
    new = parse_body(InjuryIn, raw, "injury")
    injury = store.create_injury(caller, athlete_id, region=new.region, side=new.side,
                                 date=new.date.isoformat(), muscle=new.muscle,
                                 bamic_grade=new.bamic_grade, mechanism=new.mechanism)
    # the injury's id is the store's own ASCII ``inj_<hex>``: its header cannot fail
    response.headers["Location"] = location("/v1/injuries", injury.id)
    return injury


@router.get("/{athlete_id}/injuries", summary="List an athlete's injury episodes",
            responses=error_responses(401, 403, 404))
def list_injuries(athlete_id: str,
                  _caller: Annotated[Principal, Depends(Allowed("injury.read"))],
                  store: StoreDep) -> list[Injury]:
    return store.list_injuries(athlete_id)
