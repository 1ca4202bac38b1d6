"""The collector's settings for a long-running process that decides (issue 11).

:func:`settle` is called once start-up is done (the rule network, protocol and
imports are built) by every long-running command: ``sprintclear evaluate``, the
batch pool's workers, ``audit replay``, ``sprintclear worker`` and the service's
workers.

- :func:`gc.freeze` moves every object alive at that point out of the
  collector's sight: the long-lived network is not rescanned at each collection
  (p99 of a long batch halved, ``bench/decide.py``).
- The youngest generation is collected every :data:`YOUNG_THRESHOLD` allocations
  instead of CPython's 700. A decision allocates some thousands of objects, nearly
  all freed by reference counting as soon as it is written; collecting every 700
  allocations rescanned them several times per decision for the few cycles among
  them. ``bench/decide.py`` (full path, 2,000 varied assessments, two runs each,
  alternated): 578–591 decisions/s, p99 2.84–3.01 ms at 700; 601–617/s, p99
  1.96–2.02 ms at 10,000. Cycles are still collected; memory held by garbage waiting
  for it grows by at most those 10,000 objects.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle"]

YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Freeze what start-up built and collect the young generation less often."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
