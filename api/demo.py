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
timeline's sign-offs are the ones the later decisions started from. The service
fills ``previous`` from those sign-offs; an example whose ``previous`` refers to a
visit the demo does not hold (most examples are single visits) gets that visit
first: its own measures dated ``previous.date``, signed at ``previous.phase``. A latest
decision that raises the early-sprint caution (R5) is overridden one phase
down, with a reason, to show an override next to the recommendation it leaves
intact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from api.reporting import ReportService
from api.store import Principal, Store
from engine.assessment import Assessment, parse_assessment, parse_assessment_json
from engine.decide import Evaluator
from rules.dictionary import PHASE_IDS
from rules.errors import InvalidAssessment, NotConfigured

__all__ = ["DemoSquad", "checkout_examples", "load_demo", "read_examples", "sign_baseline"]

def _without_previous(assessment: Assessment) -> Assessment:
    document = {k: v for k, v in assessment.document.items() if k != "previous"}
    return parse_assessment(document) if "previous" in assessment.document else assessment


def sign_baseline(store: Store, evaluator: Evaluator, clinician: Principal, injury_id: str,
                   example: Assessment, previous: dict[str, str]) -> None:
    """Store and sign the visit an example's ``previous`` refers to, when none is on record:
    the example's own measures dated ``previous.date``, signed at ``previous.phase``."""
    document = {key: dict(value) if isinstance(value, dict) else value
                for key, value in example.document.items() if key != "previous"}
    document["assessment"]["date"] = previous["date"]
    review = document["injury"].get("physician_review")
    if review is not None and review.get("date", "") > previous["date"]:
        document["injury"] = {k: v for k, v in document["injury"].items()
                              if k != "physician_review"}
    try:
        baseline = store.fill_previous(injury_id, parse_assessment(document))
    except InvalidAssessment as exc:
        raise NotConfigured(f"the demo cannot store the visit of {previous['date']} that "
                            f"{example.athlete_id}'s example starts from: {exc}") from exc
    decision = evaluator.decide(baseline, evaluated_at=store.now())
    kept = store.record_assessment(clinician, injury_id, baseline, decision)
    if decision.phase.id == previous["phase"]:
        store.sign_off(clinician, kept.id, action="accept")
    else:
        store.sign_off(clinician, kept.id, action="override", phase=previous["phase"],
                       reason="The signed phase the next visit starts from (its previous).")


def checkout_examples() -> Path:
    """``examples/`` of the checkout this package runs from (exists in editable installs)."""
    return Path(__file__).resolve().parents[1] / "examples"


@dataclass(frozen=True, slots=True)
class DemoSquad:
    athletes: int
    injuries: int
    assessments: int
    signoffs: int
    reports: int = 0


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
              examples: list[Assessment], *, reports: ReportService | None = None
              ) -> DemoSquad:
    """Store the examples as a squad; refuse a database that already holds athletes.

    With ``reports`` (a service that signs), each sign-off issues its report, as the
    service does at a clinician's sign-off."""
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
        for index, example in enumerate(visits):
            wanted = example.document.get("previous")
            if wanted is not None and store.signed_previous(
                    injury.id, example.document["assessment"]["date"]) is None:
                sign_baseline(store, evaluator, clinician, injury.id, example, wanted)
                stored += 1
                signed += 1
            # previous is the service's (protocol section 2.1): filled from the sign-offs
            assessment = store.fill_previous(injury.id, _without_previous(example))
            decision = evaluator.decide(assessment, evaluated_at=store.now())
            kept = store.record_assessment(clinician, injury.id, assessment, decision,
                                         check_previous=True)
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
    issued = 0
    if reports is not None and reports.signs:
        for entry in store.decision_log(limit=100_000)[0]:
            if entry.signoff is not None:
                report, problem = reports.after_signoff(store, clinician, entry.decision.id)
                if problem is not None:
                    raise NotConfigured(f"the demo cannot issue its reports: {problem}")
                issued += report is not None
    return DemoSquad(athletes=len(athletes), injuries=len(episodes), assessments=stored,
                     signoffs=signed, reports=issued)
