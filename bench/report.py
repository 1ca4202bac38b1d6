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
  pyHanko's difference analysis of the countersigned revision adds to it);
- with trusted time, against a demo time-stamping authority on 127.0.0.1
  (``reports.pki.LoopbackTsa``, in this process): render + sign B-T (the TSA's
  round trip included), verify B-T, and verify the report after ``timestamp``
  (B-LTA: validation data and a document timestamp).

Every verification includes the structure checks of every revision
(``reports.inspection``) and the rules deciding again. Prints the median and
p90 of each step. Targets on a 2-core machine: render + sign median ≤ 400 ms,
verify median ≤ 60 ms for one signature.
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
from reports.pki import LoopbackTsa, make_demo_tsa
from reports.timestamping import timestamp_report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RENDER_SIGN_TARGET_MS = 400.0
VERIFY_TARGET_MS = 60.0


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
    return f"  {label:<18} median {median:7.1f} ms   p90 {p90:7.1f} ms{verdict}"


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
        authority = make_demo_tsa(Path(folder) / "tsa")
        tsa_roots = [authority.root_certificate.read_bytes()]

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
    with LoopbackTsa(authority) as tsa:
        def render_and_sign_b_t() -> bytes:
            return sign_report(render(), signer, name="Dr. Bench Mark",
                               meaning="Reviewed and approved: return-to-sprint clearance",
                               signed_at=dt.datetime.now(dt.UTC), tsa_url=tsa.url)

        render_and_sign_b_t()
        b_t_times, b_t = _timed(render_and_sign_b_t, args.runs)
        lta = timestamp_report(b_t, tsa_url=tsa.url, trust_roots=roots, tsa_roots=tsa_roots,
                               at=dt.datetime.now(dt.UTC))
    verify_b_t_times, b_t_result = _timed(
        lambda: verify_report(b_t, trust_roots=roots, tsa_roots=tsa_roots), args.runs)
    verify_lta_times, lta_result = _timed(
        lambda: verify_report(lta, trust_roots=roots, tsa_roots=tsa_roots), args.runs)
    if not all(r.valid for r in (result, two, b_t_result, lta_result)):
        print("the benchmark's own reports do not verify:", result.reasons, two.reasons,
              b_t_result.reasons, lta_result.reasons, file=sys.stderr)
        return 1
    print(f"report of {args.example}: {pages} pages, {len(signed) / 1024:.0f} KiB signed; "
          f"{args.runs} runs after warm-up, one process, one thread")
    print(_line("render", render_times))
    print(_line("render + sign", total_times, RENDER_SIGN_TARGET_MS))
    print(_line("verify", verify_times, VERIFY_TARGET_MS))
    print(_line("verify, 2 sigs", two_times))
    print(_line("render + sign B-T", b_t_times))
    print(_line("verify B-T", verify_b_t_times))
    print(_line("verify B-LTA", verify_lta_times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
