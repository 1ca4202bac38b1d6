"""Batches on every core: an ordered process pool with a progress bar (issue 11, item 3).

One helper for the long-running commands (``sprintclear evaluate`` of many
files, ``audit replay``)::

    ordered_map(work, items, *, jobs=None, total=None, initializer=None, initargs=(),
                chunksize=None, description=None, unit="item", min_pool_items=16)
        -> Iterator[R]

- ``work(item) -> R`` runs once per item; the results come back **in the
  order of** ``items`` whatever the number of processes, so a command that
  prints them writes the same bytes with ``--jobs 1`` and ``--jobs N``.
  With more than one job, ``work``, the items and the results cross a process
  boundary: ``work`` and ``initializer`` must be module-level functions, items
  and results picklable (keep them small: paths and texts, not engines).
- ``jobs``: the number of processes; ``None`` is :func:`default_jobs` (the
  cores this process may run on). ``1``, or fewer than ``min_pool_items``
  items when ``total`` is known, runs in this process: no pool is started
  (its start-up would cost more than it saves).
- ``initializer(*initargs)`` runs once in every worker process before its
  first item (and once in this process when no pool is used): build the
  engine there (``evaluator_for(protocol)``, a database engine...).
  :func:`ordered_map` then calls :func:`engine.runtime.settle` in each worker
  (:func:`gc.freeze`, a higher young-generation threshold), so the long-lived
  objects built at start-up are not rescanned by the collector.
- Workers are forked where the platform can (Linux): they start with the
  parent's imported modules and caches, already frozen when the parent
  called :func:`gc.freeze`. Do not open connections, threads or locks before
  calling it that a fork must not inherit; open them in ``initializer``.
- ``chunksize``: items sent to a worker at a time; by default about eight
  chunks per worker, at most 64 items each.
- ``description`` / ``unit`` / ``total``: the progress bar (tqdm) on standard
  error. It appears only when standard error is a terminal and the run lasts
  more than a second, so pipes, logs and tests see nothing of it.

An exception raised by ``work`` in a worker is raised again here, at the
position of its item; the pool is terminated when the iterator is closed or
abandoned.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

from engine.runtime import settle

__all__ = ["default_jobs", "ordered_map", "progress"]

T = TypeVar("T")
R = TypeVar("R")

_PROGRESS_DELAY_SECONDS = 1.0


def default_jobs() -> int:
    """The number of cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


def progress(iterable: Iterable[T], *, total: int | None = None,
             description: str | None = None, unit: str = "item") -> Iterator[T]:
    """``iterable`` with a progress bar on standard error, shown only when standard error
    is a terminal and the run takes longer than a second."""
    stream = sys.stderr
    silent = not (hasattr(stream, "isatty") and stream.isatty())
    with tqdm(iterable, total=total, desc=description, unit=unit, file=stream,
              disable=silent, delay=_PROGRESS_DELAY_SECONDS, leave=False,
              dynamic_ncols=True) as bar:
        yield from bar


def _start_worker(initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]) -> None:
    if initializer is not None:
        initializer(*initargs)
    settle()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def ordered_map(work: Callable[[T], R], items: Iterable[T], *, jobs: int | None = None,
                total: int | None = None,
                initializer: Callable[..., Any] | None = None,
                initargs: tuple[Any, ...] = (), chunksize: int | None = None,
                description: str | None = None, unit: str = "item",
                min_pool_items: int = 16) -> Iterator[R]:
    """``work(item)`` for every item, in the order of ``items``, over ``jobs`` processes
    (see the module's docstring for every argument)."""
    if jobs is None:
        jobs = default_jobs()
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1 (got {jobs})")
    in_process = jobs == 1 or (total is not None and total < min_pool_items)
    if in_process:
        if initializer is not None:
            initializer(*initargs)
        yield from progress((work(item) for item in items), total=total,
                            description=description, unit=unit)
        return
    if chunksize is None:
        chunksize = 16 if total is None else max(1, min(64, total // (jobs * 8)))
    with _context().Pool(jobs, initializer=_start_worker,
                         initargs=(initializer, initargs)) as pool:
        yield from progress(pool.imap(work, items, chunksize=chunksize), total=total,
                            description=description, unit=unit)
