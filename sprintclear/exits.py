"""How every ``sprintclear`` command ends: its exit codes, and the two ways it stops early.

===  ====================================================================
0    done: every input decided, the report written, the check passed
     ("not cleared" is a result, not an error)
1    a check failed: a report or the audit chain does not verify, or a
     report could not be written
2    invalid or refused: an assessment, protocol file, key file, time or
     request breaks its rules (every problem is printed with its field),
     or the store refuses it (unknown id, conflict)
3    cannot run: the database cannot be reached or migrated
===  ====================================================================

This module and the error handlers of ``api/`` are the only places that turn
errors into codes (here exit codes, there HTTP status codes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import click

from rules.errors import ProtocolError
from rules.protocol import Protocol

__all__ = ["EXIT_CHECK_FAILED", "EXIT_INVALID", "EXIT_OK", "EXIT_UNAVAILABLE", "fail",
           "protocol_or_exit"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_INVALID = 2
EXIT_UNAVAILABLE = 3


def fail(message: str, problems: Iterable[str] = (), code: int = EXIT_INVALID) -> NoReturn:
    """Print the message and each problem to standard error, and exit with ``code``."""
    click.echo(message, err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(code)


def protocol_or_exit(path: Path | None) -> Protocol:
    """The default protocol, or a clinic's file; an invalid file exits 2 naming each entry."""
    from rules.loading import default_protocol, load_protocol

    if path is None:
        return default_protocol()
    try:
        return load_protocol(path)
    except ProtocolError as exc:
        fail(str(exc))
