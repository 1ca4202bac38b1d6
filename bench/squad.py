"""Benchmark: the squad page and the audit page at a clinic's scale.

    python bench/squad.py [--athletes 1000] [--assessments 5000] [--repeat 15]

Builds a fresh database (SQLite in a temporary folder, or the PostgreSQL database of
``SPRINTCLEAR_TEST_DATABASE_URL`` when set, in a schema of its own) with ``--athletes``
athletes, one injury episode each and ``--assessments`` assessments spread over them,
each decided by the engine and stored through the store (so the audit chain is real);
about two thirds of the latest decisions are signed off. Then, in-process through the
app (``fastapi.testclient``: routing, session, template, no network), it times

1. ``GET /squad`` (the default "needs attention" order, first page), a filtered and
   sorted view, and a later page;
2. ``GET /audit``: the first visit (verifies the whole chain, keeps a checkpoint) and
   the later visits (verify only the entries after the checkpoint).

Prints the median and the slowest of ``--repeat`` renders of each. Target: the squad
page in ≤ 250 ms at 1,000 athletes and 5,000 assessments (issue 10, item 5).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO)]

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.store import Principal, Store  # noqa: E402
from engine import evaluator_for, parse_assessment  # noqa: E402

EXAMPLES = sorted((REPO / "examples").glob("*.json"))
OPERATOR = Principal(key_id=None, name="bench operator", role="operator")
CLINICIAN = Principal(key_id=None, name="Dr. Bench", role="clinician")


def _database(folder: Path) -> tuple[str, str | None]:
    """(url, PostgreSQL schema to drop afterwards)."""
    base = os.environ.get("SPRINTCLEAR_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{folder / 'squad.sqlite3'}", None
    import sqlalchemy

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}", schema


def build(store: Store, athletes: int, assessments: int) -> None:
    """``athletes`` athletes, one episode each, ``assessments`` decided assessments."""
    evaluator = evaluator_for()
    bases = [json.loads(path.read_text("utf-8")) for path in EXAMPLES]
    per, extra = divmod(assessments, athletes)
    started = time.perf_counter()
    made = 0
    for index in range(athletes):
        base = copy.deepcopy(bases[index % len(bases)])
        athlete_id = f"SQ-{index:04d}"
        store.create_athlete(CLINICIAN, athlete_id=athlete_id, name=f"Athlete {index:04d}",
                             sport=base["athlete"].get("sport"))
        injury = base["injury"]
        episode = store.create_injury(CLINICIAN, athlete_id, region=injury["region"],
                                      side=injury["side"], date=injury["date"],
                                      muscle=injury.get("muscle"),
                                      bamic_grade=injury.get("bamic_grade"))
        first = dt.date.fromisoformat(base["assessment"]["date"])
        last_decision = None
        for visit in range(per + (1 if index < extra else 0)):
            document = copy.deepcopy(base)
            document["athlete"]["id"] = athlete_id
            document["athlete"]["name"] = f"Athlete {index:04d}"
            document["assessment"]["date"] = (first + dt.timedelta(days=3 * visit)).isoformat()
            # the store holds no sign-off before the first visit: no previous (a decision
            # started from a phase not on record cannot be signed)
            document.pop("previous", None)
            assessment = parse_assessment(document)
            decision = evaluator.decide(assessment, evaluated_at=store.now())
            last_decision = store.record_assessment(CLINICIAN, episode.id, assessment,
                                                    decision)
            made += 1
        if last_decision is not None and index % 3 != 0:
            store.sign_off(CLINICIAN, last_decision.id, action="accept")
        if (index + 1) % 100 == 0:
            print(f"  built {index + 1} athletes, {made} assessments "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)


_CPU: dict[int, list[float]] = {}


def _time(client: TestClient, path: str, repeat: int) -> list[float]:
    """Wall-clock times of ``repeat`` renders (the process's CPU times kept beside them: on a
    machine shared with other work, CPU time is the steadier figure)."""
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    _CPU[id(times)] = cpu
    return times


def _line(label: str, times: list[float]) -> str:
    cpu = _CPU.get(id(times), [])
    return (f"{label:<44} median {statistics.median(times):7.1f} ms   slowest "
            f"{max(times):7.1f} ms   CPU median {statistics.median(cpu) if cpu else 0:6.1f} ms"
            f"   ({len(times)} renders)")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--assessments", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", type=Path, default=None,
                        help="an SQLite file to build once and reuse on later runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        url, schema = _database(Path(temporary))
        reuse = args.keep is not None and args.keep.exists()
        if args.keep is not None:
            url, schema = f"sqlite:///{args.keep}", None
        store = Store.open(url, migrate_schema=True)
        try:
            if not reuse:
                print(f"building {args.athletes} athletes and {args.assessments} assessments "
                      f"on {store.dialect} …", flush=True)
                build(store, args.athletes, args.assessments)
            key = store.create_key(OPERATOR, role="auditor", name="Bench Auditor").key
            if reuse:
                store.create_athlete(CLINICIAN, athlete_id=f"SQ-RUN-{uuid.uuid4().hex[:6]}")
            app = create_app(Settings(database_url="sqlite:////nonexistent/unused.sqlite3",
                                      session_secret="bench-" + "s" * 40), store=store)
            results: dict[str, Any] = {}
            with TestClient(app) as client:
                form = client.get("/signin")
                token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                signed = client.post("/signin", data={"csrf_token": token, "api_key": key},
                                     follow_redirects=False)
                assert signed.status_code == 303, signed.text[:300]
                client.get("/squad")  # templates compiled, caches warm
                entries = store.count("audit_entries")
                print(f"\n{store.dialect}: {args.athletes} athletes, {args.assessments} "
                      f"assessments, {entries} audit entries")
                for label, path in (
                        ("GET /squad (needs attention, page 1)", "/squad"),
                        ("GET /squad?status=signoff&sort=name", "/squad?status=signoff&sort=name"),
                        ("GET /squad?page=10", "/squad?page=10")):
                    times = _time(client, path, args.repeat)
                    results[path] = times
                    print(_line(label, times))
                first = _time(client, "/audit", 1)
                results["/audit first"] = first
                print(_line("GET /audit, first visit" + (" (from the kept checkpoint)" if reuse
                                                         else " (whole chain)"), first))
                store.create_athlete(CLINICIAN, athlete_id=f"SQ-NEW-{uuid.uuid4().hex[:6]}")
                later = _time(client, "/audit", args.repeat)
                results["/audit"] = later
                print(_line("GET /audit, later visits (since checkpoint)", later))
                start = time.perf_counter()
                assert store.verify_audit().intact
                print(f"{'full verify_audit (sprintclear audit verify)':<44} "
                      f"{(time.perf_counter() - start) * 1000:7.1f} ms")
            return results
        finally:
            store.close()
            if schema is not None:
                import sqlalchemy

                engine = sqlalchemy.create_engine(os.environ["SPRINTCLEAR_TEST_DATABASE_URL"])
                with engine.begin() as connection:
                    connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
                engine.dispose()


if __name__ == "__main__":
    main()
