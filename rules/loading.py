"""Loading a protocol: the default one that ships with sprintclear, or a clinic's own file.

A clinic file is a complete protocol document (export the default with
``sprintclear protocol export`` and edit it). It is validated when loaded;
every problem names the entry it is in, by id where the entry has one::

    criteria.C302.parts.0.threshold: must be a number (got 'ninety')
    red_flags.R3: missing (every criterion, red flag, hold, caution, profile
    and activity of the default protocol must be present)

Thresholds, wording, sources may change and criteria, safety rules and
activities may be added; the ids of the clinical contract may not disappear,
because clinicians, other systems and audits refer to them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules.errors import Problem, ProtocolError
from rules.protocol import Protocol, _SemanticProblems

DEFAULT_PROTOCOL_RESOURCE = "data/default_protocol.json"

_LISTS_WITH_IDS = {"criteria", "red_flags", "holds", "cautions", "activities", "profiles",
                   "phases", "gates", "sources"}


@cache
def default_protocol() -> Protocol:
    """The protocol that ships with sprintclear (protocol.md encoded)."""
    text = resources.files("rules").joinpath(DEFAULT_PROTOCOL_RESOURCE).read_text("utf-8")
    return parse_protocol(text, origin="default protocol", require_contract=False)


def default_protocol_text() -> str:
    """The default protocol file, as shipped (for ``sprintclear protocol export``)."""
    return resources.files("rules").joinpath(DEFAULT_PROTOCOL_RESOURCE).read_text("utf-8")


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a clinic's protocol file."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"cannot read protocol file {path}",
                            [Problem("<file>", "unreadable", str(exc))]) from exc
    return parse_protocol(text, origin=str(path))


def parse_protocol(text: str, *, origin: str = "protocol",
                   require_contract: bool = True) -> Protocol:
    """Validate protocol JSON text; raise ``ProtocolError`` naming every offending entry."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{origin} is not valid JSON", [
            Problem("<file>", "json", f"line {exc.lineno} column {exc.colno}: {exc.msg}")
        ]) from exc
    if not isinstance(document, dict):
        raise ProtocolError(f"{origin} is not a protocol",
                            [Problem("<file>", "type", "must be a JSON object")])
    problems: list[Problem] = []
    protocol: Protocol | None = None
    try:
        protocol = Protocol.model_validate(document)
    except ValidationError as exc:
        problems.extend(_translate(exc, document))
        cause: Exception | None = exc
    else:
        cause = None
    if require_contract:
        problems.extend(_missing_contract_ids(document))
    if problems or protocol is None:
        raise ProtocolError(f"{origin} is not a valid protocol", problems) from cause
    return protocol


def _translate(exc: ValidationError, document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        ctx_error = (error.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _SemanticProblems):
            problems.extend(ctx_error.problems)
            continue
        where = _entry_path(error["loc"], document)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "is required"
        elif "input" in error and error["type"] not in ("model_type", "dict_type"):
            message = f"{message} (got {error['input']!r})"
        problems.append(Problem(where, error["type"], message))
    # a union reports one error per branch; keep the first of each place
    unique: dict[str, Problem] = {}
    for problem in problems:
        unique.setdefault(problem.field, problem)
    return list(unique.values())


def _entry_path(loc: tuple[int | str, ...], document: Any) -> str:
    """``('criteria', 3, 'parts', 0)`` → ``criteria.C302.parts.0`` using the entries' ids."""
    parts: list[str] = []
    node = document
    for index, key in enumerate(loc):
        name = str(key)
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            item = node[key]
            container = loc[index - 1] if index else None
            if container in _LISTS_WITH_IDS and isinstance(item, dict) and "id" in item:
                name = str(item["id"])
            node = item
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            node = None
        # pydantic names union branches ("Condition", "AnyOf", "function-after[...]"); skip them
        if isinstance(key, str) and (key[:1].isupper() or "[" in key):
            continue
        parts.append(name)
    return ".".join(parts) or "<file>"


def _missing_contract_ids(document: dict[str, Any]) -> list[Problem]:
    """The ids of the default protocol that ``document`` leaves out."""
    contract = default_protocol()
    problems: list[Problem] = []
    note = ("missing (every criterion, red flag, hold, caution, profile and activity of the "
            "default protocol must be present)")
    for collection in ("criteria", "red_flags", "holds", "cautions", "activities", "profiles"):
        entries = document.get(collection)
        have = {entry.get("id") for entry in entries if isinstance(entry, dict)} if isinstance(
            entries, list) else set()
        for item in getattr(contract, collection):
            if item.id not in have:
                problems.append(Problem(f"{collection}.{item.id}", "missing", note))
    return problems
