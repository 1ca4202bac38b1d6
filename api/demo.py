"""The demo squad: the example assessments as athletes with their injuries and visits.

``sprintclear serve --demo`` loads it so that a newcomer sees a populated
service at once. The examples are the files of ``examples/`` in a sprintclear
checkout (an editable install finds them beside the package); an installed
package does not ship them, so the folder must then be given (``--examples``),
and a missing folder stops the start with that explanation rather than
serving an empty squad.

Every example becomes an assessment of its athlete's injury episode, decided
now, visit after visit in date order. Each earlier visit is signed off by the
demo clinician before the next is stored, at the phase the next visit records
as the last signed one (``previous.phase``, protocol section 2.1): accepted when
that is the recommendation, overridden to it (with a reason) otherwise, so the
timeline's sign-offs are the ones the later decisions started from. A latest
decision that raises the early-sprint caution (R5) is overridden one phase
down, with a reason, to show an override next to the recommendation it leaves
intact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from api.store import Principal, Store
from engine.assessment import Assessment, parse_assessment_json
from engine.decide import Evaluator
from rules.dictionary import PHASE_IDS
from rules.errors import InvalidAssessment, NotConfigured

__all__ = ["DemoSquad", "checkout_examples", "load_demo", "read_examples"]

def checkout_examples() -> Path:
    """``examples/`` of the checkout this package runs from (exists in editable installs)."""
    return Path(__file__).resolve().parents[1] / "examples"


@dataclass(frozen=True, slots=True)
class DemoSquad:
    athletes: int
    injuries: int
    assessments: int
    signoffs: int


def read_examples(folder: Path | None = None) -> list[Assessment]:
    """The example assessments of ``folder`` (default: the checkout's), each validated."""
    folder = folder or checkout_examples()
    if not folder.is_dir():
        raise NotConfigured(
            f"the demo needs the example assessments, and {folder} is not a folder. An "
            f"installed sprintclear does not ship them: pass --examples with the examples/ "
            f"folder of a sprintclear checkout")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise NotConfigured(f"the demo needs the example assessments: {folder} holds no *.json")
    read = []
    for path in files:
        try:
            read.append(parse_assessment_json(path.read_bytes()))
        except InvalidAssessment as exc:
            raise NotConfigured(f"example {path.name} is not a valid assessment: {exc}") from exc
    return read


def load_demo(store: Store, evaluator: Evaluator, clinician: Principal,
              examples: list[Assessment]) -> DemoSquad:
    """Store the examples as a squad; refuse a database that already holds athletes."""
    if store.list_athletes():
        raise NotConfigured("the demo squad goes into an empty database; this one already "
                            "holds athletes")
    episodes: dict[tuple[str, str, str, str], list[Assessment]] = defaultdict(list)
    athletes: dict[str, Assessment] = {}
    for assessment in examples:
        athletes.setdefault(assessment.athlete_id, assessment)
        injury = assessment.document["injury"]
        episodes[(assessment.athlete_id, injury["region"], injury["side"],
                  injury["date"])].append(assessment)
    for athlete_id, first in athletes.items():
        info = first.document["athlete"]
        store.create_athlete(clinician, athlete_id=athlete_id, name=info.get("name"),
                             sport=info.get("sport"), position=info.get("position"))
    stored = signed = 0
    for (athlete_id, region, side, date), visits in episodes.items():
        visits.sort(key=lambda a: a.assessment_date)
        latest = visits[-1].document["injury"]
        injury = store.create_injury(clinician, athlete_id, region=region, side=side,
                                     date=date, muscle=latest.get("muscle"),
                                     bamic_grade=latest.get("bamic_grade"),
                                     mechanism=latest.get("mechanism"))
        for index, assessment in enumerate(visits):
            decision = evaluator.decide(assessment, evaluated_at=store.now())
            kept = store.record_assessment(clinician, injury.id, assessment, decision)
            stored += 1
            if index < len(visits) - 1:
                following = visits[index + 1].document.get("previous") or {}
                phase = following.get("phase") or decision.phase.id
                if phase == decision.phase.id:
                    store.sign_off(clinician, kept.id, action="accept")
                else:
                    store.sign_off(clinician, kept.id, action="override", phase=phase,
                                   reason="Signed as the next visit records it (its last "
                                          "signed phase).")
                signed += 1
            elif any(c.id == "R5" for c in decision.cautions) and decision.phase.number > 1:
                lower = PHASE_IDS[decision.phase.number - 2]
                store.sign_off(clinician, kept.id, action="override", phase=lower,
                               reason="Early for this grade (R5): one more week of progressive "
                                      "running before sprint exposures.")
                signed += 1
    return DemoSquad(athletes=len(athletes), injuries=len(episodes), assessments=stored,
                     signoffs=signed)
