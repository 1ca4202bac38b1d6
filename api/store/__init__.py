"""The decision store: SQLAlchemy models, migrations, queries and the audit chain.

``Store`` is the one way in: routes and commands call its methods, each write
is one transaction that also appends to the audit chain (``api.store.audit``).
``Store`` is a facade over one module per concept (``keys``, ``athletes``,
``injuries``, ``assessments``, ``decisions``, ``signoffs``, ``reports``, ``audit``)
sharing the transaction helper of ``api.store.transaction``; see ``api.store.store``.
Replay reads the archive in chunks through ``api.store.replay_reads`` and keeps its
jobs' state through ``api.store.jobs`` (working state, outside the audit chain).
Nothing outside this package builds a query.
"""

from api.store import jobs as _jobs  # noqa: F401 (registers the job tables on Base)
from api.store.audit import AuditProblem, AuditVerification
from api.store.records import Principal
from api.store.store import Store, stamp, utc_now

__all__ = ["AuditProblem", "AuditVerification", "Principal", "Store", "stamp", "utc_now"]
