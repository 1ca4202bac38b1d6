"""``sprintclear.batch``: results in input order whatever the number of processes."""

from __future__ import annotations

import os

import pytest

from sprintclear.batch import default_jobs, ordered_map


def _square_with_pid(item: int) -> tuple[int, int]:
    return item * item, os.getpid()


_STARTED: list[str] = []


def _start(tag: str) -> None:
    _STARTED.append(tag)


def _fail_on_seven(item: int) -> int:
    if item == 7:
        raise ValueError("seven")
    return item


def test_order_and_values_match_one_process() -> None:
    """Two workers give the same results in the same order as this process; they ran
    elsewhere."""
    items = list(range(200))
    one = list(ordered_map(_square_with_pid, items, jobs=1, total=len(items)))
    two = list(ordered_map(_square_with_pid, items, jobs=2, total=len(items), chunksize=3))
    assert [value for value, _ in one] == [value for value, _ in two] == [i * i for i in items]
    assert {pid for _, pid in one} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in two}


def test_small_batches_and_one_job_run_in_process_with_the_initializer() -> None:
    """Below ``min_pool_items`` no pool starts; the initializer still runs, once."""
    _STARTED.clear()
    results = list(ordered_map(_square_with_pid, [1, 2, 3], jobs=4, total=3,
                               initializer=_start, initargs=("here",)))
    assert [pid for _, pid in results] == [os.getpid()] * 3
    assert _STARTED == ["here"]


def test_a_worker_error_is_raised_here() -> None:
    with pytest.raises(ValueError, match="seven"):
        list(ordered_map(_fail_on_seven, range(40), jobs=2, total=40))


def test_jobs_must_be_positive() -> None:
    assert default_jobs() >= 1
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        list(ordered_map(_fail_on_seven, [1], jobs=0))
