"""Benchmark: the clearance service over loopback HTTP, as a clinic would run it.

    python bench/service.py [--requests 2000] [--clients 4] [--workers 2]
        [--store-clients 100] [--database-url postgresql+psycopg://...?options=-csearch_path%3Dbench]

Starts a real ``sprintclear serve`` on a free port with a fresh SQLite
database in a temporary folder, makes a clinician key and one athlete and
injury per example, then drives, from ``--clients`` client processes with
keep-alive connections, a fixed number of requests to

1. ``POST /v1/evaluate`` (decide, store nothing): varied assessments, the
   same workload as ``bench/decide.py``;
2. ``POST /v1/injuries/{id}/assessments`` (store and decide: one write
   transaction with two audit entries): the examples with tests varied and a
   distinct assessor, so none is a duplicate.

Prints requests/s and p50 / p99 latency for each, and checks afterwards that
the audit chain is intact. Target on a 2-core machine: ≥ 150 evaluate
requests/s with p99 under 100 ms. The clients run on the same machine as the
server and take their share of its two cores.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from decide import EXAMPLES, varied_assessments  # noqa: E402 (bench/decide.py, beside this)

from api.store import Principal, Store  # noqa: E402


def _start(database_url: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sprintclear", "serve", "--port", "0", "--workers",
         str(workers), "--no-access-log", "--database-url", database_url],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            url = match.group(1)
            break
    else:
        raise SystemExit("sprintclear serve did not start")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("sprintclear serve did not answer /healthz")


def _drive(job: tuple[str, str, list[tuple[str, bytes]]]) -> tuple[list[float], int]:
    """One client: its requests in order on one keep-alive connection (a new one when the
    service answers ``Connection: close``); latencies, failures.

    ``http.client`` rather than httpx: the clients share the server's two cores, and
    httpx spends about five times as much CPU per request, which the benchmark would
    otherwise count against the service."""
    url, key, requests = job
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    latencies, failures = [], 0
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        for path, body in requests:
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            failures += response.status not in (200, 201)
            if response.will_close:
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
    finally:
        connection.close()
    return latencies, failures


def _drive_threads(job: tuple[str, str, list[list[tuple[str, bytes]]]]
                   ) -> tuple[list[float], int]:
    """Several clients in one process, one thread and one keep-alive connection each."""
    from concurrent.futures import ThreadPoolExecutor

    url, key, shares = job
    with ThreadPoolExecutor(len(shares)) as threads:
        results = list(threads.map(_drive, [(url, key, share) for share in shares]))
    return [x for share, _ in results for x in share], sum(f for _, f in results)


def _run(pool: ProcessPoolExecutor, url: str, key: str, requests: list[tuple[str, bytes]],
         clients: int, processes: int | None = None) -> tuple[float, list[float], int]:
    """``clients`` concurrent clients, spread over ``processes`` client processes (threads
    within each when there are more clients than processes)."""
    processes = min(processes or clients, clients)
    shares = [requests[index::clients] for index in range(clients)]
    groups = [shares[index::processes] for index in range(processes)]
    started = time.perf_counter()
    if processes == clients:
        results = list(pool.map(_drive, [(url, key, share) for share in shares]))
    else:
        results = list(pool.map(_drive_threads, [(url, key, group) for group in groups]))
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for share, _ in results for latency in share)
    return elapsed, latencies, sum(failures for _, failures in results)


def _report(name: str, elapsed: float, latencies: list[float], failures: int) -> None:
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"  {name:<16} {len(latencies) / elapsed:6.0f} requests/s · p50 {p50:6.1f} ms · "
          f"p99 {p99:6.1f} ms · {len(latencies)} requests, {failures} failed · load average "
          f"{os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store-clients", type=int, default=None,
                        help="concurrent clients for store + decide (default --clients), "
                             "as threads in the --clients processes")
    parser.add_argument("--database-url", default=None,
                        help="an empty database (e.g. PostgreSQL with its own search_path "
                             "schema); default a fresh SQLite file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="sprintclear-bench-"))
    database_url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    store = Store.open(database_url, migrate_schema=True)
    key = store.create_key(Principal(key_id=None, name="bench", role="operator"),
                           role="clinician", name="bench clinician").key
    store.close()

    bases = [json.loads(path.read_text("utf-8")) for path in sorted(EXAMPLES.glob("*.json"))]
    process, url = _start(database_url, args.workers)
    try:
        injuries: dict[tuple[str, str, str, str], str] = {}
        with httpx.Client(base_url=url, headers={"X-API-Key": key}) as client:
            for base in bases:
                athlete, injury = base["athlete"]["id"], base["injury"]
                client.post("/v1/athletes", json={"id": athlete})
                episode = (athlete, injury["region"], injury["side"], injury["date"])
                if episode not in injuries:
                    injuries[episode] = client.post(f"/v1/athletes/{athlete}/injuries", json={
                        "region": injury["region"], "side": injury["side"],
                        "date": injury["date"]}).json()["id"]

        evaluate = [("/v1/evaluate", json.dumps(document).encode())
                    for document in varied_assessments(args.requests, args.seed)]
        stored = []
        for index, document in enumerate(varied_assessments(args.requests, args.seed + 1)):
            base = bases[index % len(bases)]
            document = copy.deepcopy(document)
            document["athlete"] = base["athlete"]
            document["injury"] = base["injury"]
            document["assessment"]["assessor"] = f"bench clinician {index}"
            document.pop("previous", None)  # the service's own: nothing is signed here
            injury = base["injury"]
            episode = (base["athlete"]["id"], injury["region"], injury["side"], injury["date"])
            path = f"/v1/injuries/{injuries[episode]}/assessments"
            stored.append((path, json.dumps(document).encode()))

        print(f"sprintclear serve: {args.workers} worker{'s' if args.workers > 1 else ''}, "
              f"{database_url.split(':')[0].split('+')[0]}; {args.clients} client processes "
              f"on the same {os.cpu_count()}-core machine, keep-alive (reconnect every "
              f"{os.environ.get('SPRINTCLEAR_KEEPALIVE_REQUESTS', '100')} requests)")
        with ProcessPoolExecutor(args.clients) as pool:
            _run(pool, url, key, evaluate[:100], args.clients)  # warm up every worker
            _report("evaluate", *_run(pool, url, key, evaluate, args.clients))
            writers = args.store_clients or args.clients
            _report(f"store + decide ×{writers}",
                    *_run(pool, url, key, stored, writers, args.clients))

        with httpx.Client(base_url=url, headers={"X-API-Key": key}) as client:
            client.get("/healthz")
        verified = Store.open(database_url)
        result = verified.verify_audit()
        verified.close()
        print(f"  audit chain {'intact' if result.intact else 'BROKEN'}: {result.entries} "
              f"entries after the run")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
