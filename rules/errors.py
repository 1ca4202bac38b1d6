"""The error tree of sprintclear, in one place.

::

    SprintclearError                 base of everything sprintclear raises on purpose
    ├── ProtocolError                a protocol file is unreadable or breaks the schema;
    │                                .problems names every offending entry
    ├── InvalidAssessment            an assessment breaks the data dictionary;
    │                                .problems names every offending field and rule
    ├── InvalidInput                 any other input (a request body, a query) breaks
    │                                its schema; .problems names every offending field
    ├── ReportError                  a report cannot be rendered, signed or read
    │   ├── ReportInputError         what the caller gave a report step is unusable: earlier
    │   │                            decisions of another athlete or injury, a bad PKCS#12
    │   │                            file or password, a name or meaning that does not fit
    │   │                            the signature block, trust roots that are not certificates
    │   └── VerificationFailed       a signed report is not what it claims to be
    ├── AccessDenied                 the caller may not do this
    │   ├── NotAuthenticated         no API key, or one that is unknown or revoked
    │   └── NotPermitted             the key's role does not allow the operation
    ├── NotConfigured                the operation needs a setting that is not configured
    │                                (for example the clinic's signing key)
    └── StoreError                   the decision store refused an operation
        ├── NotFound                 an id that does not exist
        ├── Conflict                 the operation contradicts what is stored
        ├── StoreUnavailable         the database cannot be reached, or stayed busy
        └── StoreCorrupted           stored records contradict each other (changed
                                     outside sprintclear): run the audit check

"Not cleared" is a normal result of a decision, never an exception. Only the
command line maps these to exit codes and only ``api/`` maps them to HTTP
status codes. Errors of a dependency (pydantic, experta, WeasyPrint, pyHanko,
SQLAlchemy) are translated into this tree in exactly one place each, with
``raise ... from exc``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AccessDenied",
    "Conflict",
    "InvalidAssessment",
    "InvalidInput",
    "NotAuthenticated",
    "NotConfigured",
    "NotFound",
    "NotPermitted",
    "Problem",
    "ProtocolError",
    "ReportError",
    "ReportInputError",
    "SprintclearError",
    "StoreCorrupted",
    "StoreError",
    "StoreUnavailable",
    "VerificationFailed",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where, which rule it broke, in words.

    ``field`` is a dotted path (``pain.rest``, ``strength.nordic_n.uninjured``,
    ``criteria.C302.parts.0.threshold``); ``rule`` is a short stable code
    (``range``, ``unknown_field``, ``required``...) that programs can test;
    ``message`` is the sentence a person reads.
    """

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class SprintclearError(Exception):
    """Base of every error sprintclear raises on purpose."""


class _ProblemsError(SprintclearError):
    def __init__(self, summary: str, problems: list[Problem]) -> None:
        self.summary = summary
        self.problems = tuple(problems)
        lines = [summary, *(f"  {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))


class ProtocolError(_ProblemsError):
    """A protocol file cannot be used; every offending entry is in ``problems``."""


class InvalidAssessment(_ProblemsError):
    """An assessment breaks the data dictionary; every offending field is in ``problems``."""


class InvalidInput(_ProblemsError):
    """A request's input (other than an assessment) breaks its schema; see ``problems``."""


class AccessDenied(SprintclearError):
    """The caller may not do this."""


class NotAuthenticated(AccessDenied):
    """No API key was given, or the key is unknown or revoked."""


class NotPermitted(AccessDenied):
    """The key's role does not allow the operation."""


class NotConfigured(SprintclearError):
    """The operation needs a setting that is not configured; the message names it."""


class ReportError(SprintclearError):
    """A report cannot be rendered, signed or read."""


class ReportInputError(ReportError):
    """What the caller gave a report step cannot be used; the message says which and why.

    ``problems`` lists each offending item (an earlier decision, a field of the
    signing request) so a command or a route can show every one of them.
    """

    def __init__(self, summary: str, problems: list[str] | tuple[str, ...] = ()) -> None:
        self.summary = summary
        self.problems = tuple(problems)
        super().__init__("\n".join([summary, *(f"  {problem}" for problem in self.problems)]))


class VerificationFailed(ReportError):
    """A signed report is not what it claims to be; the message says why."""


class StoreError(SprintclearError):
    """The decision store refused an operation."""


class NotFound(StoreError):
    """An id that does not exist."""


class Conflict(StoreError):
    """The operation contradicts what is already stored."""


class StoreUnavailable(StoreError):
    """The database cannot be reached, or stayed busy longer than the configured wait."""


class StoreCorrupted(StoreError):
    """Stored records contradict each other: the database was changed outside sprintclear."""
