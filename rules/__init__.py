"""The clinical knowledge of sprintclear, as data with its provenance.

``rules`` holds the data dictionary of the inputs (``dictionary``), the
protocol schema (``protocol``), the protocol that ships with sprintclear and
the loader for a clinic's own file (``loading``), and the error tree
(``errors``). It imports neither experta, FastAPI nor WeasyPrint.
"""

from rules.errors import InvalidAssessment, Problem, ProtocolError, SprintclearError
from rules.loading import default_protocol, load_protocol, parse_protocol
from rules.protocol import Criterion, Protocol, SafetyRule

__all__ = [
    "Criterion",
    "InvalidAssessment",
    "Problem",
    "Protocol",
    "ProtocolError",
    "SafetyRule",
    "SprintclearError",
    "default_protocol",
    "load_protocol",
    "parse_protocol",
]
