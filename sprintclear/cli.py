"""The ``sprintclear`` command.

Commands are thin: parse, call the engine (or the store, or the reports),
print. Their exit codes are defined once, in ``sprintclear.exits``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from engine.runtime import settle
from rules.errors import InvalidAssessment, Problem
from sprintclear.exits import EXIT_INVALID, EXIT_OK, protocol_or_exit


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sprintclear")
def main() -> None:
    """Return-to-sprint clearance after hamstring or calf muscle injury."""
    _quiet_libraries()


def _quiet_libraries() -> None:
    """pyHanko logs every failed validation with its traceback; the commands print the reason.

    A command's standard error holds sprintclear's own messages only: the
    libraries' loggers get a handler that drops their records (a service that
    configures logging still receives them through the root logger).
    """
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


_Source = tuple[str, str | None, str | None, Problem | None]
"""(name, path to read, text already read, problem finding it)."""


def _sources(paths: tuple[str, ...]) -> Iterator[_Source]:
    """Each input, directories expanded to their *.json (sorted); files are read later, by
    whichever process decides them."""
    for raw in paths:
        if raw == "-":
            yield "<stdin>", None, sys.stdin.read(), None
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(path.glob("*.json"))
            if not files:
                yield raw, None, None, Problem("<file>", "unreadable",
                                               "directory holds no *.json file")
            for file in files:
                yield str(file), str(file), None, None
            continue
        yield raw, raw, None, None


_EVALUATOR: Any = None


def _start_evaluating(protocol: Any) -> None:
    """Build (or find) the evaluator of ``protocol`` in this process (batch initializer)."""
    from engine.decide import evaluator_for

    global _EVALUATOR
    _EVALUATOR = evaluator_for(protocol)


def _evaluate_one(item: tuple[_Source, bool]) -> tuple[str | None, list[str], str | None]:
    """One input → (decision output, error lines for standard error, error JSON line).

    Runs in a batch worker: module-level, and returns text only.
    """
    (name, path, text, problem), as_json = item
    problems: tuple[Problem, ...]
    if problem is None and path is not None:
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problem = Problem("<file>", "unreadable", f"cannot be read: {reason}")
    if problem is not None:
        message, problems = "the input cannot be read", (problem,)
    else:
        assert text is not None
        try:
            if as_json:
                return _EVALUATOR.decision_text(text), [], None
            from sprintclear.summary import render_summary

            return render_summary(_EVALUATOR.decide_json(text), name), [], None
        except InvalidAssessment as exc:
            message, problems = exc.summary, exc.problems
    errors = [f"{name}: {message}", *(f"  {p}" for p in problems)]
    error_json = json.dumps({"error": {
        "input": name, "message": message,
        "fields": [p.as_dict() for p in problems]}}, ensure_ascii=False) if as_json else None
    return None, errors, error_json


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True,
              help="One decision JSON object per input, one per line, in input order.")
@click.option("--protocol", "protocol_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A clinic's protocol file instead of the default protocol.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes deciding in parallel (default: the number of cores). The "
                   "output is the same, in the same order, whatever the number.")
def evaluate(paths: tuple[str, ...], as_json: bool, protocol_path: Path | None,
             jobs: int | None) -> None:
    """Decide the assessments in PATHS (files, directories of *.json, or - for stdin).

    Into a file or a pipe the output is UTF-8 whatever the locale."""
    from engine.decide import evaluator_for
    from sprintclear.batch import ordered_map

    protocol = protocol_or_exit(protocol_path)
    evaluator_for(protocol)
    # The rule network, schemas and imports live as long as the process: keep the
    # garbage collector from rescanning them (p99 of a long batch halves; bench/decide.py).
    # Batch workers are forked after this and freeze their own start-up too.
    settle()
    sources = list(_sources(paths))
    any_invalid = False
    first = True
    results = ordered_map(_evaluate_one, ((source, as_json) for source in sources),
                          jobs=jobs, total=len(sources), initializer=_start_evaluating,
                          initargs=(protocol,), description="deciding", unit="assessment")
    # Into a file or a pipe: UTF-8 bytes through stdout's buffer, flushed before each line
    # on standard error (so the two keep their order) and at the end; a flush per decision
    # was the parent's main cost beside two busy workers (bench/evaluate.py). On a
    # terminal: line by line, in the terminal's encoding, as it is read.
    terminal = sys.stdout.isatty()
    out: Any = sys.stdout.buffer

    def emit(text: str) -> None:
        if terminal:
            click.echo(text)
        else:
            out.write(text.encode("utf-8") + b"\n")

    for output, errors, error_json in results:
        if output is not None:
            emit(output if as_json else ("" if first else "\n") + output)
            first = False
            continue
        any_invalid = True
        out.flush()
        for line in errors:
            click.echo(line, err=True)
        if error_json is not None:
            emit(error_json)
    out.flush()
    sys.exit(EXIT_INVALID if any_invalid else EXIT_OK)


@main.group()
def protocol() -> None:
    """Show, export or check a protocol file."""


@protocol.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
def protocol_export(output: Path | None) -> None:
    """Write the default protocol file, to edit into a clinic's own."""
    from rules.loading import default_protocol_text

    text = default_protocol_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")
        click.echo(f"wrote {output}", err=True)


@protocol.command("check")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def protocol_check(path: Path) -> None:
    """Validate a protocol file and print its id and rule base version."""
    from engine.decide import rulebase_version

    loaded = protocol_or_exit(path)
    click.echo(f"{path}: valid protocol {loaded.id} {loaded.version} · "
               f"{len(loaded.criteria)} criteria, {len(loaded.red_flags)} red flags, "
               f"{len(loaded.holds)} holds, {len(loaded.cautions)} cautions, "
               f"{len(loaded.activities)} activities · rule base {rulebase_version(loaded)}")


# ---- commands of the other layers, each in its own module ------------------------
# reports (issue 3): report, sign, verify, demo-pki  → sprintclear/report_cli.py
from sprintclear.report_cli import demo_pki, report, sign, timestamp, verify  # noqa: E402

main.add_command(report)
main.add_command(sign)
main.add_command(timestamp)
main.add_command(verify)
main.add_command(demo_pki)
# service (issue 4): serve, keys, audit              → sprintclear/service_cli.py
from sprintclear.service_cli import audit, keys, serve, worker  # noqa: E402

main.add_command(serve)
main.add_command(keys)
main.add_command(audit)
main.add_command(worker)
# FHIR (issue 12): export fhir, import fhir          → sprintclear/fhir_cli.py
from sprintclear.fhir_cli import export_group, import_group  # noqa: E402

main.add_command(export_group)
main.add_command(import_group)

# the input (issue 10): fields, schema                → sprintclear/input_cli.py
from sprintclear.input_cli import fields, schema  # noqa: E402

main.add_command(fields)
main.add_command(schema)


if __name__ == "__main__":  # pragma: no cover
    main()
