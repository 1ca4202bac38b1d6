"""The service's commands: ``serve``, ``keys create/list/revoke``, ``audit verify/replay``.

Thin like the rest of the command line: open the store, call it, print. Exit
status:

- 0: done (``audit verify``: the chain is intact);
- 1: a check failed (``audit verify`` found a break);
- 2: what was asked cannot be done: an invalid value, an unknown id, a conflict;
- 3: the service cannot run: no database, a setting missing or unusable.

Each command takes ``--database-url``; without it the URL is
``SPRINTCLEAR_DATABASE_URL``, or the default SQLite file.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rules.errors import (
    AccessDenied,
    Conflict,
    InvalidAssessment,
    InvalidInput,
    NotFound,
    SprintclearError,
)
from sprintclear.exits import (
    EXIT_CHECK_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    protocol_or_exit,
)

T = TypeVar("T")

_database_option = click.option(
    "--database-url", envvar="SPRINTCLEAR_DATABASE_URL", metavar="URL",
    help="SQLAlchemy URL (default: SPRINTCLEAR_DATABASE_URL, or a SQLite file in "
         "~/.local/share/sprintclear).")
_protocol_option = click.option(
    "--protocol", "protocol_path", type=click.Path(path_type=Path, dir_okay=False),
    envvar="SPRINTCLEAR_PROTOCOL", help="A clinic's protocol file instead of the default.")


def _exit_code(error: SprintclearError) -> int:
    if isinstance(error, InvalidInput | InvalidAssessment | NotFound | Conflict | AccessDenied):
        return EXIT_INVALID
    return EXIT_UNAVAILABLE


def _run(action: Callable[[], T]) -> T:
    """Call ``action``; print a SprintclearError to standard error and exit with its code."""
    try:
        return action()
    except SprintclearError as exc:
        click.echo(f"sprintclear: {exc}", err=True)
        sys.exit(_exit_code(exc))


def _url(database_url: str | None) -> str:
    from api.settings import default_database_url

    return database_url or default_database_url()


def _operator() -> Any:
    from api.store import Principal

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        user = "unknown"
    return Principal(key_id=None, name=f"command line ({user}@{socket.gethostname()})",
                     role="operator")


def _open(database_url: str | None, *, migrate: bool) -> Any:
    from api.store import Store

    return _run(lambda: Store.open(_url(database_url), migrate_schema=migrate))


def _evaluator(protocol_path: Path | None) -> Any:
    from engine.decide import evaluator_for

    return evaluator_for(protocol_or_exit(protocol_path))


# ---- serve ----------------------------------------------------------------------------


def _listening_socket(host: str, port: int, workers: int = 1) -> list[socket.socket]:
    # Bound here, with the protocol given explicitly: uvicorn's own multi-worker
    # socket leaves proto at 0, so asyncio never sets TCP_NODELAY on the accepted
    # connections and every keep-alive request waits ~40 ms for a delayed ACK
    # (Kludex/uvicorn#3149). Several workers get one socket each where the platform
    # has SO_REUSEPORT (sprintclear.workers), else they share this one.
    from sprintclear.workers import reuse_port_available, worker_sockets

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if workers > 1 and reuse_port_available():
        try:
            return worker_sockets(family, (host, port), workers)
        except OSError as exc:
            click.echo(f"sprintclear: cannot listen on {host}:{port}: {exc.strerror}", err=True)
            sys.exit(EXIT_UNAVAILABLE)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.set_inheritable(True)
        return [sock]
    except OSError as exc:
        sock.close()
        click.echo(f"sprintclear: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        sys.exit(EXIT_UNAVAILABLE)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; the one chosen is printed).")
@_database_option
@_protocol_option
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (on 2 cores, 2 workers served 1.3–1.6× the requests of 1).")
@click.option("--demo", is_flag=True,
              help="Load the example assessments as a small squad, into a fresh temporary "
                   "database unless --database-url is given; print demo keys; sign reports "
                   "with a demo key unless SPRINTCLEAR_SIGNING_P12 is set.")
@click.option("--examples", "examples_dir", type=click.Path(path_type=Path, file_okay=False),
              help="The examples/ folder for --demo (default: the checkout's).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log every request.")
def serve(host: str, port: int, database_url: str | None, protocol_path: Path | None,
          workers: int, demo: bool, examples_dir: Path | None, access_log: bool) -> None:
    """Run the clearance service (migrates the database schema first)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.demo import read_examples
    from api.main import create_app
    from api.settings import Settings
    from engine.runtime import settle
    from sprintclear.workers import WorkerSockets

    examples = _run(lambda: read_examples(examples_dir)) if demo else []
    folder = Path(tempfile.mkdtemp(prefix="sprintclear-demo-")) if demo else None
    if folder is not None and database_url is None:
        database_url = f"sqlite:///{folder / 'demo.sqlite3'}"
    url = _url(database_url)
    store = _open(url, migrate=True)
    click.echo(f"database     {store.database.engine.url.render_as_string(hide_password=True)}"
               f" ({store.dialect}, schema migrated)")
    evaluator = _evaluator(protocol_path)
    os.environ["SPRINTCLEAR_DATABASE_URL"] = url
    if folder is not None and not os.environ.get("SPRINTCLEAR_SIGNING_P12"):
        _demo_signing_key(folder)  # before the demo's sign-offs, which issue their reports
    try:
        if demo:
            _run(lambda: _load_demo(store, evaluator, examples))
    finally:
        store.close()

    if folder is not None and not os.environ.get("SPRINTCLEAR_SESSION_SECRET") and \
            not os.environ.get("SPRINTCLEAR_SESSION_SECRET_FILE"):
        # the demo's page sessions end with the demo, like its database
        os.environ["SPRINTCLEAR_SESSION_SECRET_FILE"] = str(folder / "session-secret")
    if protocol_path is not None:
        os.environ["SPRINTCLEAR_PROTOCOL"] = str(protocol_path)
    app = _run(lambda: create_app(Settings()))  # also checks the settings before any worker
    sockets = _listening_socket(host, port, workers)
    bound_host, bound_port = sockets[0].getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"rule base    {evaluator.version[:12]} (protocol {evaluator.protocol.id} "
               f"{evaluator.protocol.version})")
    click.echo(_signing_line(app.state.reports))
    click.echo(f"listening on http://{shown}:{bound_port}  (pages at /, API docs at /docs; "
               f"{workers} worker{'s' if workers > 1 else ''})", nl=True)
    sys.stdout.flush()
    config = uvicorn.Config("api.main:app_from_env" if workers > 1 else app, factory=workers > 1,
                            workers=workers, access_log=access_log, log_level="info",
                            proxy_headers=False, server_header=False)
    try:
        if workers > 1:
            del app
            if len(sockets) > 1:
                WorkerSockets(config, sockets).run()
            else:
                Multiprocess(config, sockets=sockets).run()
        else:
            settle()  # the rule network and imports are built (engine.runtime)
            uvicorn.Server(config).run(sockets=sockets)
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly on Ctrl+C, then raises the signal again: a clean stop
        pass


def _signing_line(reports: Any) -> str:
    """Whether reports can be signed, and with what, or why not (the ``reports`` line)."""
    signer = reports.signer
    if signer is None:
        return ("reports      cannot be signed: no signing key (set SPRINTCLEAR_SIGNING_P12 and "
                "SPRINTCLEAR_SIGNING_PASSWORD_FILE); report downloads answer 503")
    now = reports.clock()
    validity = f"valid {signer.not_valid_before:%Y-%m-%d} to {signer.not_valid_after:%Y-%m-%d}"
    if now > signer.not_valid_after:
        validity = f"EXPIRED on {signer.not_valid_after:%Y-%m-%d}: signatures will not verify"
    elif now < signer.not_valid_before:
        validity = f"NOT VALID before {signer.not_valid_before:%Y-%m-%d}"
    return (f"reports      signed as \"{reports.name}\" with the key of {signer.subject} "
            f"(issued by {signer.issuer}; {validity})")


def _demo_signing_key(folder: Path) -> None:
    """A demo CA and clinic key, so that the demo's reports can be signed and verified."""
    from reports import make_demo_pki

    pki = make_demo_pki(folder / "pki", clinician_name="sprintclear demo clinic",
                        password=secrets.token_urlsafe(16))
    os.environ["SPRINTCLEAR_SIGNING_P12"] = str(pki.clinician_p12)
    os.environ["SPRINTCLEAR_SIGNING_PASSWORD_FILE"] = str(pki.password_file)
    os.environ["SPRINTCLEAR_SIGNING_NAME"] = pki.clinician_name
    click.echo(f"demo signing {pki.clinician_p12} (verify reports with "
               f"`sprintclear verify --trust {pki.ca_certificate} REPORT.pdf`)")


def _load_demo(store: Any, evaluator: Any, examples: list[Any]) -> None:
    from api.demo import load_demo
    from api.reporting import ReportService
    from api.settings import Settings

    reports = ReportService.from_settings(Settings(), store.now, evaluator.protocol)

    keys = {}
    for role in ("clinician", "auditor", "insurer", "admin"):
        keys[role] = store.create_key(_operator(), role=role, name=f"demo {role}")
    clinician = store.authenticate(keys["clinician"].key)
    squad = load_demo(store, evaluator, clinician, examples, reports=reports)
    click.echo(f"demo squad   {squad.athletes} athletes, {squad.injuries} injuries, "
               f"{squad.assessments} assessments, {squad.signoffs} sign-offs, "
               f"{squad.reports} signed reports")
    for role, new in keys.items():
        click.echo(f"demo key     {role:<10} {new.key}")


# ---- worker ---------------------------------------------------------------------------


@click.command()
@_database_option
@click.option("--redis-url", envvar="SPRINTCLEAR_REDIS_URL", required=True, metavar="URL",
              help="The Redis the service queues jobs on (default: SPRINTCLEAR_REDIS_URL).")
@click.option("--queue", envvar="SPRINTCLEAR_RQ_QUEUE", default="sprintclear",
              show_default=True, help="The queue to take jobs from.")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--name", default=None, help="The worker's name in RQ (default: a unique one).")
def worker(database_url: str | None, redis_url: str, queue: str, burst: bool,
           name: str | None) -> None:
    """Take replay jobs from the queue (run any number, on any machines sharing the
    database). At start-up, queues a job for every replay left unfinished."""
    from api.jobs import run_worker

    store = _open(database_url, migrate=False)
    try:
        _run(lambda: run_worker(store, redis_url, queue=queue, burst=burst, name=name))
    finally:
        store.close()


# ---- keys -----------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Create, list or revoke API keys."""


@keys.command("create")
@click.option("--role", required=True,
              type=click.Choice(["clinician", "auditor", "insurer", "admin"]),
              help="What the key may do.")
@click.option("--name", required=True, help="Who holds the key (a person or a system).")
@_database_option
def keys_create(role: str, name: str, database_url: str | None) -> None:
    """Create a key and print it, once: only its hash is stored."""
    store = _open(database_url, migrate=True)
    try:
        new = _run(lambda: store.create_key(_operator(), role=role, name=name))
    finally:
        store.close()
    click.echo(new.key)
    click.echo(f"created {new.info.id} ({new.info.role}, {new.info.name}); the key above is "
               f"shown only this once", err=True)


@keys.command("list")
@_database_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key.")
def keys_list(database_url: str | None, as_json: bool) -> None:
    """List the keys: id, role, holder, created, revoked (never the keys themselves)."""
    store = _open(database_url, migrate=False)
    try:
        listed = _run(store.list_keys)
    finally:
        store.close()
    for info in listed:
        if as_json:
            click.echo(info.model_dump_json())
        else:
            state = f"revoked {info.revoked_at}" if info.revoked_at else "active"
            click.echo(f"{info.id}  {info.role:<9}  {info.name}  created {info.created_at}  "
                       f"{state}")


@keys.command("revoke")
@click.argument("key_id")
@_database_option
def keys_revoke(key_id: str, database_url: str | None) -> None:
    """Revoke a key by its id (from `keys list`); a running service refuses it within 2 s."""
    store = _open(database_url, migrate=False)
    try:
        info = _run(lambda: store.revoke_key(_operator(), key_id))
    finally:
        store.close()
    click.echo(f"revoked {info.id} ({info.role}, {info.name}) at {info.revoked_at}")


# ---- audit ----------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """Verify the audit chain, or replay stored assessments with the current rules."""


@audit.command("verify")
@_database_option
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
def audit_verify(database_url: str | None, as_json: bool) -> None:
    """Check every audit entry, link and record; exit 1 and say where if anything is off."""
    store = _open(database_url, migrate=False)
    try:
        result = _run(store.verify_audit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    elif result.intact:
        click.echo(f"audit chain intact: {result.entries} entries, {result.records_checked} "
                   f"records checked; head #{result.head_seq} {result.head_hash}")
    else:
        first = result.first_problem
        assert first is not None
        click.echo(f"audit chain BROKEN: {len(result.problems)} problem"
                   f"{'s' if len(result.problems) > 1 else ''}; first: {first.message}")
        for problem in result.problems:
            where = f"#{problem.seq}" if problem.seq is not None else "-"
            click.echo(f"  {problem.kind:<9} {where:<6} {problem.message}")
    sys.exit(EXIT_OK if result.intact else EXIT_CHECK_FAILED)


@audit.command("replay")
@_database_option
@_protocol_option
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Processes deciding in parallel (default: the number of cores); the "
                   "output is the same for any N.")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=250, hidden=True,
              help="Assessments per chunk (the unit of work of a process).")
def audit_replay(database_url: str | None, protocol_path: Path | None, as_json: bool,
                 jobs: int | None, chunk_size: int) -> None:
    """Decide every stored assessment again with the current rule base (or --protocol) and
    list the decisions that would change: first how many cases show each kind of change,
    then the cases. Nothing stored is changed.

    A stored input without previous.date (2026.1) is decided with `previous` supplied from
    the store's sign-offs, as the service fills it (protocol 2027.1, section 2.1); each
    such case says so. A progress bar is shown on standard error when it is a terminal.
    """
    from api.replay import (
        ChunkResult,
        end_replay_process,
        plan_chunks,
        replay_planned_chunk,
        start_replay_process,
    )
    from sprintclear.batch import ordered_map

    evaluator = _evaluator(protocol_path)  # refuses an unusable protocol before any work
    url = _url(database_url)
    _, chunks = _run(lambda: plan_chunks(url, chunk_size))
    results = ordered_map(replay_planned_chunk, chunks, jobs=jobs, total=len(chunks),
                          initializer=start_replay_process,
                          initargs=(url, str(protocol_path) if protocol_path else None),
                          description="replay", unit="chunk", min_pool_items=2)
    total = ChunkResult()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as cases:
        def consume() -> None:
            for result in results:
                total.merge_counts(result)
                for item in result.changed:
                    cases.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")

        try:
            _run(consume)
        finally:
            end_replay_process()  # the connection of this process, when no pool was used
        cases.seek(0)
        protocol = evaluator.protocol
        head = {"rulebase_version": evaluator.version, "protocol": protocol.id,
                "protocol_version": protocol.version, "replayed": total.replayed,
                "would_change": total.changed_count,
                "unchanged": total.replayed - total.changed_count,
                "previous_supplied": total.previous_supplied, "summary": total.summary()}
        if as_json:
            _replay_json(head, cases)
        else:
            _replay_text(head, cases)


def _replay_json(head: dict[str, Any], cases: Any) -> None:
    """One JSON object, the cases streamed from the spool (memory flat in their number)."""
    out = sys.stdout
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "changed": [')
    for index, line in enumerate(cases):
        out.write(("," if index else "") + line.rstrip("\n"))
    out.write("]}\n")


def _replay_text(head: dict[str, Any], cases: Any) -> None:
    click.echo(f"replayed {head['replayed']} stored assessments with rule base "
               f"{head['rulebase_version'][:12]} (protocol {head['protocol']} "
               f"{head['protocol_version']}); nothing stored was changed")
    click.echo(f"{head['would_change']} would change, {head['unchanged']} would not")
    if head["previous_supplied"]:
        click.echo(f"{head['previous_supplied']} stored inputs had no previous.date: "
                   f"decided with `previous` from the store's sign-offs, as the service fills "
                   f"it (protocol section 2.1)")
    if not head["summary"]:
        return
    width = len(str(head["summary"][0]["cases"]))
    click.echo("\nBy kind of change (cases showing it)")
    for kind in head["summary"]:
        click.echo(f"  {kind['cases']:>{width}}  {kind['kind']}")
    click.echo("\nCases")
    for line in cases:
        item = json.loads(line)
        note = f", superseded by {item['superseded_by']}" if item["superseded_by"] else ""
        click.echo(f"\n{item['assessment_id']} · {item['athlete_id']} · assessed "
                   f"{item['assessment_date']} · decision {item['decision_id']} (rule base "
                   f"{item['stored_rulebase'][:12]}{note})")
        if item["previous_supplied"]:
            click.echo(f"  {'previous':<20} {item['previous_supplied']}")
        for problem in item["no_longer_valid"]:
            click.echo(f"  {'no longer valid':<20} {problem['field']}: {problem['message']}")
        for change in item["changes"]:
            click.echo(_case_line(change))


def _case_line(change: dict[str, str]) -> str:
    """One change of a case on one or two lines; lists say how many were added and removed
    (the cases are for reading, the full lists are in --json)."""
    what, before, after, why = (change["what"], change["before"], change["after"],
                                change["why"])
    if what in {"allowed activities", "blocking", "red flags not checked"}:
        added = sum(1 for word in why.split() if word.startswith("+"))
        removed = sum(1 for word in why.split() if word.startswith("−"))
        names = " ".join(why.split()) if len(why) <= 60 else f"{added} added, {removed} removed"
        return f"  {what:<20} {names}"
    line = f"  {what:<20} {before} → {after}"
    if why and what not in {"phase", "criteria phase"}:  # the criteria lines say why
        line += f"\n  {'':<20} {why}"
    return line
