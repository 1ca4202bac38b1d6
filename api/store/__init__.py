"""The decision store: SQLAlchemy models, migrations, queries and the audit chain.

``Store`` is the one way in: routes and commands call its methods, each write
is one transaction that also appends to the audit chain (``api.store.audit``).
Nothing outside this package builds a query.
"""

from api.store import jobs as _jobs  # noqa: F401 (registers the job tables on Base)
from api.store.audit import AuditProblem, AuditVerification
from api.store.records import Principal
from api.store.store import Store, stamp, utc_now

__all__ = ["AuditProblem", "AuditVerification", "Principal", "Store", "stamp", "utc_now"]
