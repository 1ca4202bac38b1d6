"""Benchmark: render + sign a two-page report, and verify it, in one warm process.

    python bench/report.py [--runs 25] [--example hamstring-symptom-flare-next-morning-pain]

Setup (not timed): imports, a demo PKI (ECDSA P-256) in a temporary folder,
the PKCS#12 file opened once (``ClinicianSigner``, as the service keeps it),
the example decided, and two warm-up rounds. Timed per run:

- render + sign: ``render_report_pdf`` (decision → HTML → PDF/A-3b with the
  record) then ``sign_report`` (PAdES B-B), what issuing a report costs;
- verify: ``verify_report`` of the signed report against the demo root
  (signature, record, footer, banner, and the rules deciding again);
- verify, two signatures: the same report countersigned (for information:
  pyHanko's difference analysis of the countersigned revision adds to it).

Prints the median and p90 of each step. Targets on a 2-core machine:
render + sign median ≤ 400 ms, verify median ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf

from engine import decide, parse_assessment
from reports import ClinicianSigner, make_demo_pki, render_report_pdf, sign_report, verify_report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RENDER_SIGN_TARGET_MS = 400.0
VERIFY_TARGET_MS = 50.0


def _timed(function: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def _line(label: str, times: list[float], target: float | None = None) -> str:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    verdict = ""
    if target is not None:
        verdict = f"  target ≤ {target:.0f} ms: {'met' if median <= target else 'MISSED'}"
    return f"  {label:<16} median {median:7.1f} ms   p90 {p90:7.1f} ms{verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--example", default="hamstring-symptom-flare-next-morning-pain")
    args = parser.parse_args(argv)

    document = json.loads((EXAMPLES / f"{args.example}.json").read_text("utf-8"))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    decision = decide(document, evaluated_at=now)
    assessment = parse_assessment(document).document
    with tempfile.TemporaryDirectory() as folder:
        pki = make_demo_pki(Path(folder) / "clinician", clinician_name="Dr. Bench Mark",
                            password="bench")
        physician_pki = make_demo_pki(Path(folder) / "physician",
                                      clinician_name="Dr. Team Physician", password="bench")
        signer = ClinicianSigner.from_pkcs12(pki.clinician_p12.read_bytes(), b"bench")
        physician = ClinicianSigner.from_pkcs12(physician_pki.clinician_p12.read_bytes(),
                                                b"bench")
        roots = [pki.ca_certificate.read_bytes(), physician_pki.ca_certificate.read_bytes()]

    def render() -> bytes:
        return render_report_pdf(decision, assessment, generated_at=now)

    def render_and_sign() -> bytes:
        return sign_report(render(), signer, name="Dr. Bench Mark",
                           meaning="Reviewed and approved: return-to-sprint clearance",
                           signed_at=dt.datetime.now(dt.UTC))

    for _ in range(2):  # warm-up: caches, fonts, the rule network
        signed = render_and_sign()
        verify_report(signed, trust_roots=roots)
    gc.freeze()  # as the service does after start-up (api.main.app_from_env)
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        pages = len(pdf.pages)
    render_times, _ = _timed(render, args.runs)
    total_times, signed = _timed(render_and_sign, args.runs)
    verify_times, result = _timed(lambda: verify_report(signed, trust_roots=roots),
                                  args.runs * 2)
    countersigned = sign_report(signed, physician, name="Dr. Team Physician",
                                meaning="Countersigned", signed_at=dt.datetime.now(dt.UTC))
    two_times, two = _timed(lambda: verify_report(countersigned, trust_roots=roots), args.runs)
    if not (result.valid and two.valid):
        print("the benchmark's own report does not verify:", result.reasons, two.reasons,
              file=sys.stderr)
        return 1
    print(f"report of {args.example}: {pages} pages, {len(signed) / 1024:.0f} KiB signed; "
          f"{args.runs} runs after warm-up, one process, one thread")
    print(_line("render", render_times))
    print(_line("render + sign", total_times, RENDER_SIGN_TARGET_MS))
    print(_line("verify", verify_times, VERIFY_TARGET_MS))
    print(_line("verify, 2 sigs", two_times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
