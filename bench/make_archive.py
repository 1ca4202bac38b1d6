"""Fill a database with N stored decisions for the replay benchmark.

    python bench/make_archive.py --count 100000 --database-url sqlite:///archive.sqlite3

Each injury episode has two visits: the first decided and signed off (accepted);
the second stored the 2026.1 way, with ``previous.phase`` and no ``previous.date``,
so that replay must take ``previous`` from the sign-offs (protocol section 2.1).
The inputs are ``bench/decide.py``'s varied assessments (the examples with
measures varied), each with its own athlete. Every stored decision is the real
decision of a template input under the current rule base: a few hundred
templates are decided and their decisions stored with each copy (the copies
differ from their template only in the athlete id and the assessor).

For speed the rows are bulk-inserted into the store's tables, not through the
API: the audit chain of this database does not vouch for them (`audit verify`
reports them) — it is a benchmark fixture, not an archive to keep.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from decide import varied_assessments  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from api.store import Store  # noqa: E402
from api.store.canonical import canonical_json, sha256_hex  # noqa: E402
from api.store.tables import (  # noqa: E402
    AssessmentRow,
    AthleteRow,
    DecisionRow,
    InjuryRow,
    SignoffRow,
)
from engine.decide import evaluator_for  # noqa: E402
from rules.errors import InvalidAssessment  # noqa: E402

TEMPLATES = 400
BATCH = 2000


def _templates(evaluator: Any) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(document, decision data, decision JSON) for each valid varied assessment."""
    out = []
    for document in varied_assessments(TEMPLATES, seed=11):
        if not (document.get("previous") or {}).get("phase"):
            continue  # the second visit needs a signed phase to strip the date from
        try:
            decision = evaluator.decide(document, evaluated_at=None)
        except InvalidAssessment:
            continue
        out.append((document, decision.model_dump(mode="json"), decision.to_json()))
    return out


def fill(url: str, count: int) -> int:
    """Store ``count`` assessments (rounded up to an even number) with their decisions."""
    store = Store.open(url, migrate_schema=True)
    evaluator = evaluator_for()
    templates = _templates(evaluator)
    stamp = "2026-06-01T00:00:00.000000Z"
    rows: dict[Any, list[dict[str, Any]]] = {}

    def flush() -> None:
        with store.database.writing() as session:
            for model in (AthleteRow, InjuryRow, AssessmentRow, DecisionRow, SignoffRow):
                if rows.get(model):
                    session.execute(insert(model), rows[model])
        rows.clear()

    episodes = (count + 1) // 2
    for episode in range(episodes):
        document, decision, decision_json = templates[episode % len(templates)]
        athlete = f"ARC-{episode:07d}"
        injury = document["injury"]
        rows.setdefault(AthleteRow, []).append({"id": athlete, "created_at": stamp})
        rows.setdefault(InjuryRow, []).append({
            "id": f"inj-{athlete}", "athlete_id": athlete, "region": injury["region"],
            "side": injury["side"], "date": injury["date"], "created_at": stamp})
        for visit in (0, 1):
            doc = copy.deepcopy(document)
            doc["athlete"]["id"] = athlete
            doc["assessment"]["assessor"] = f"Dr. Visit {visit}"
            if visit == 1:
                doc["previous"].pop("date", None)
            text = canonical_json(doc)
            assessment_id = f"asm-{athlete}-{visit}"
            created = f"2026-06-01T00:00:{visit:02d}.{episode:06d}Z"
            rows.setdefault(AssessmentRow, []).append({
                "id": assessment_id, "athlete_id": athlete, "injury_id": f"inj-{athlete}",
                "supersedes": None, "assessment_date": doc["assessment"]["date"],
                "document": text, "input_sha256": sha256_hex(text), "created_at": created})
            decision_id = f"dec-{athlete}-{visit}"
            rows.setdefault(DecisionRow, []).append({
                "id": decision_id, "assessment_id": assessment_id,
                "input_sha256": sha256_hex(text),
                "rulebase_version": decision["rulebase"]["version"],
                "protocol_id": decision["rulebase"]["protocol"],
                "protocol_version": decision["rulebase"]["protocol_version"],
                "evaluated_at": created, "phase_number": decision["phase"]["number"],
                "phase_id": decision["phase"]["id"],
                "criteria_phase_number": decision["criteria_phase"]["number"],
                "criteria_phase_id": decision["criteria_phase"]["id"],
                "cleared_to_sprint": decision["cleared_to_sprint"],
                "cleared_to_play": decision["cleared_to_play"], "summary": "{}",
                "decision_json": decision_json, "decision_sha256": sha256_hex(decision_json)})
            if visit == 0:
                rows.setdefault(SignoffRow, []).append({
                    "id": f"sig-{athlete}", "decision_id": decision_id, "action": "override",
                    "recommended_phase": decision["phase"]["id"],
                    "signed_phase": document["previous"]["phase"], "reason": "bench",
                    "clinician_key_id": None, "clinician_name": "Dr. Bench",
                    "signed_at": f"2026-06-01T00:00:00.{episode:06d}Z"})
        if len(rows[AssessmentRow]) >= BATCH:
            flush()
    if rows:
        flush()
    stored = store.count("decisions")
    # The planner's statistics, as a server with autovacuum would have them for an archive
    # grown over years: without them PostgreSQL picked sequential scans for replay's
    # reads of the signed phases (400 ms a chunk instead of 2 ms; this server runs with
    # autovacuum off). SQLite's planner needs none for these reads.
    if store.dialect == "postgresql":
        with store.database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE")
    store.close()
    return stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    stored = fill(args.database_url, args.count)
    print(f"{stored} stored decisions in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
