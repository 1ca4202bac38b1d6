"""Roles and what each may do.

Every API key carries one role. Each operation of the service names the roles
that may perform it, here and nowhere else; a route declares its operation
(``Allowed("decision.read")``) and the check happens before the route runs.

=========  ===========================================================
clinician  enter athletes, injuries and assessments; evaluate; read
           everything clinical; sign off decisions; download reports; issue the
           missing reports of signed-off decisions in bulk
auditor    read everything clinical, the audit trail, and verify it; the access log;
           replay the archive with the rule base in use
insurer    read signed decisions and download their reports, nothing else
admin      manage API keys, nothing clinical
=========  ===========================================================
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["OPERATIONS", "Role", "roles_for"]


class Role(StrEnum):
    CLINICIAN = "clinician"
    AUDITOR = "auditor"
    INSURER = "insurer"
    ADMIN = "admin"


_C, _A, _I, _ADMIN = Role.CLINICIAN, Role.AUDITOR, Role.INSURER, Role.ADMIN

OPERATIONS: Final[dict[str, frozenset[Role]]] = {
    "evaluate": frozenset({_C}),
    "rules.read": frozenset({_C, _A}),
    "athlete.create": frozenset({_C}),
    "athlete.read": frozenset({_C, _A}),
    "injury.create": frozenset({_C}),
    "injury.read": frozenset({_C, _A}),
    "assessment.create": frozenset({_C}),
    "assessment.read": frozenset({_C, _A}),
    "decision.read": frozenset({_C, _A, _I}),
    "decision.signoff": frozenset({_C}),
    # FHIR export (issue 12): an insurer only for a signed decision (api/routes/fhir.py)
    "decision.fhir": frozenset({_C, _A, _I}),
    "report.read": frozenset({_C, _A, _I}),
    "audit.read": frozenset({_A}),
    "access.read": frozenset({_A}),
    "replay.run": frozenset({_A}),
    "report.issue": frozenset({_C}),
    "key.manage": frozenset({_ADMIN}),
}
"""Operation → the roles that may perform it."""


def roles_for(operation: str) -> frozenset[Role]:
    return OPERATIONS[operation]
