"""Who sees which decision: the one scope check of every route that returns a decision or
its report (API and pages).

Insurers see **signed** decisions only, and so their reports (a report exists only
for a signed decision): an unsigned recommendation, with its full clinical detail, is
"not found" for them (issue 10, item 10). Clinicians and auditors see every decision.
A route that answers with the decision or report then records the read in the access
log (``Store.record_read``: insurers' and auditors' reads).
"""

from __future__ import annotations

from api.store import Principal, Store
from api.store.records import StoredDecision
from rules.errors import NotFound

__all__ = ["scoped_decision"]


def scoped_decision(store: Store, caller: Principal, decision_id: str) -> StoredDecision:
    """The stored decision, if ``caller`` may see it; ``NotFound`` otherwise (or without it)."""
    stored = store.get_decision(decision_id)
    if caller.role == "insurer" and stored.signoff is None:
        raise NotFound(f"decision {decision_id[:80]!r} does not exist or is not signed off: "
                       f"insurers see signed decisions and their reports only")
    return stored
