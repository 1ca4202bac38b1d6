"""Benchmark: replaying an archive of stored decisions, one process and a pool, and on RQ.

    python bench/replay.py --count 10000 [--database-url URL] [--rq]

Fills a fresh database with ``--count`` stored decisions (``bench/make_archive.py``;
a SQLite file in a temporary folder unless ``--database-url`` names an empty
database), then runs ``sprintclear audit replay --json`` with ``--jobs 1`` and
``--jobs 2`` as child processes and prints, for each, the wall time, decisions/s,
the CPU cost per decision and the peak RSS of the command (and of its pool
processes, the largest). With ``--rq`` (Redis at ``SPRINTCLEAR_REDIS_URL``, default
127.0.0.1:6379) it also starts two ``sprintclear worker`` processes and times a
replay job through them. The load average is printed with the figures (the
machine may be shared). Target: 100,000 decisions in under 3 minutes with two
local processes; RSS flat in the archive's size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from make_archive import fill  # noqa: E402


def _replay(url: str, jobs: int) -> tuple[float, float, int, dict[str, object]]:
    """Wall seconds, CPU seconds (command and its processes), peak RSS KiB, the report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # forkserver pool processes are grandchildren: `fork` start method would be counted too,
    # so the peak RSS of the pool is read from /proc while it runs (see _peak).
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sprintclear", "audit", "replay", "--json", "--jobs",
             str(jobs), "--database-url", url], stdout=out, cwd=REPO)
        peak = _peak(process)
        process.wait()
        wall = time.perf_counter() - started
        out.seek(0)
        report = json.loads(out.read())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, max(peak, after.ru_maxrss), report


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for text in child.read_text().split():
            pids += _tree(int(text))
    return pids


def _peak(process: subprocess.Popen[bytes]) -> int:
    """The largest VmHWM (peak RSS, KiB) of the command and its descendants, sampled."""
    peak = 0
    while process.poll() is None:
        try:
            for pid in _tree(process.pid):
                status = Path(f"/proc/{pid}/status").read_text()
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.2)
    return peak


def _rq(url: str, count: int) -> float:
    """Seconds for a replay job through two `sprintclear worker` processes."""
    from api.jobs import start_replay
    from api.store import Principal, Store
    from api.store.jobs import JobStore
    from engine.decide import evaluator_for

    redis_url = os.environ.get("SPRINTCLEAR_REDIS_URL", "redis://127.0.0.1:6379/0")
    queue = f"bench-{uuid.uuid4().hex}"
    env = {**os.environ, "SPRINTCLEAR_RQ_QUEUE": queue}
    os.environ["SPRINTCLEAR_RQ_QUEUE"] = queue
    store = Store.open(url)
    # The job is queued first and the clock starts then: ``--burst`` workers started before
    # it would find the queue empty and leave (the job would wait for a worker forever).
    # The figure includes the workers' start-up (imports, the rule network: about a second).
    started = time.perf_counter()
    job_id = start_replay(store, evaluator_for(), protocol_text=None, redis_url=redis_url,
                          actor=Principal(key_id=None, name="bench", role="auditor"))
    workers = [subprocess.Popen([sys.executable, "-m", "sprintclear", "worker", "--burst",
                                 "--queue", queue, "--database-url", url, "--redis-url",
                                 redis_url], cwd=REPO, env=env) for _ in range(2)]
    jobs = JobStore(store.database)
    while (state := jobs.state(job_id)) is not None and state.status == "running":
        time.sleep(0.2)
    wall = time.perf_counter() - started
    for worker in workers:
        worker.wait(timeout=60)
    assert state is not None and state.processed == count, state
    store.close()
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database-url")
    parser.add_argument("--rq", action="store_true")
    parser.add_argument("--rq-only", action="store_true",
                        help="with --database-url naming a filled archive: only the RQ run")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="sprintclear-replay-bench-")
    url = args.database_url or f"sqlite:///{folder}/archive.sqlite3"
    started = time.perf_counter()
    if args.rq_only:
        from api.store import Store

        store = Store.open(url)
        count = store.count("decisions")
        store.close()
    else:
        count = fill(url, args.count)
        print(f"archive      {count} stored decisions ({url.split('://')[0]}), made in "
              f"{time.perf_counter() - started:.0f} s")
    for jobs in () if args.rq_only else (1, 2):
        load = os.getloadavg()[0]
        wall, cpu, rss, report = _replay(url, jobs)
        # the pool's processes are the forkserver's children, not ours: CPU only for --jobs 1
        per = f"{cpu / count * 1000:.2f} ms CPU per decision" if jobs == 1 else \
            "CPU of the pool not counted"
        print(f"--jobs {jobs}     {wall:6.1f} s  {count / wall:6.0f} decisions/s  "
              f"{per}  peak RSS {rss / 1024:.0f} MiB (largest process)  "
              f"(would change {report['would_change']}, previous supplied "
              f"{report['previous_supplied']}; load average {load:.1f})")
    if args.rq or args.rq_only:
        load = os.getloadavg()[0]
        wall = _rq(url, count)
        print(f"RQ, 2 workers {wall:6.1f} s  {count / wall:6.0f} decisions/s  "
              f"(load average {load:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
