"""``sprintclear report``, ``sign``, ``timestamp``, ``verify`` and ``demo-pki``: the signed report.

Thin commands over :mod:`reports`. Exit codes as everywhere in the command
line: 0 done or valid; 1 a report does not verify (every reason printed), or
could not be written; 2 an input is invalid (an assessment, an earlier
decision, a protocol, a PKCS#12 file or its password, a trust root, a time).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from rules.dictionary import PHASE_IDS
from rules.errors import InvalidAssessment, ReportError, ReportInputError
from sprintclear.exits import EXIT_CHECK_FAILED, EXIT_OK, fail, protocol_or_exit

__all__ = ["demo_pki", "report", "sign", "timestamp", "verify"]

def _moment(value: str | None, option: str) -> dt.datetime:
    """``--at``: an ISO 8601 time with its offset (``2026-03-10T14:05:00Z``), or now."""
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not an ISO 8601 time ({value!r}); write e.g. 2026-03-10T14:05:00Z")
    if moment.tzinfo is None:
        fail(f"{option}: give the time zone (e.g. 2026-03-10T14:05:00Z for UTC)")
    return moment.astimezone(dt.UTC)


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"{path}: the {what} cannot be read: {exc.strerror or exc}")


def _assessment(path: Path) -> Any:
    from engine.assessment import parse_assessment_json

    text = _read_bytes(path, "assessment")
    try:
        return parse_assessment_json(text)
    except InvalidAssessment as exc:
        fail(f"{path}: {exc.summary}", [str(p) for p in exc.problems])


def _earlier_decisions(directory: Path, decision: Any, evaluator: Any) -> list[Any]:
    """The earlier decisions in ``directory``: decision JSON files, or assessments to decide."""
    from pydantic import ValidationError

    from engine.assessment import parse_assessment
    from engine.decision import Decision
    from reports import history_problems

    files = sorted(directory.glob("*.json"))
    if not files:
        fail(f"{directory}: the history folder holds no *.json file")
    earlier, problems = [], []
    for path in files:
        try:
            document = json.loads(_read_bytes(path, "earlier decision"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid JSON ({exc})")
            continue
        try:
            if isinstance(document, dict) and "decision_id" in document and \
                    "rulebase" in document:
                item = Decision.model_validate(document)
            else:
                item = evaluator.decide(parse_assessment(document))
        except InvalidAssessment as exc:
            problems.extend(f"{path}: {p}" for p in exc.problems)
            continue
        except ValidationError as exc:
            problems.append(f"{path}: not a sprintclear decision ({exc.error_count()} "
                            "problems)")
            continue
        if item.input_sha256 == decision.input_sha256:
            click.echo(f"{path}: skipped, it is the assessment of this report", err=True)
            continue
        problems.extend(f"{path}: {p}" for p in history_problems(decision, [item]))
        earlier.append(item)
    if problems:
        fail("the history cannot be shown with this report", problems)
    return earlier


@click.command("report")
@click.argument("input_path", metavar="INPUT.json",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the PDF report.")
@click.option("--history", "history_dir", type=click.Path(path_type=Path, file_okay=False),
              help="A folder of earlier assessments (or decision JSON from "
                   "`evaluate --json`) of the same athlete and injury, for the trend charts.")
@click.option("--protocol", "protocol_path", type=click.Path(path_type=Path, dir_okay=False),
              help="A clinic's protocol file instead of the default protocol.")
@click.option("--at", "at", metavar="TIME",
              help="The report's time, ISO 8601 with zone (default: now, UTC).")
@click.option("--accept", is_flag=True,
              help="Print the clinician's sign-off: the recommendation is accepted.")
@click.option("--override", "override_phase", metavar="PHASE",
              type=click.Choice(PHASE_IDS),
              help="Print the clinician's sign-off: the recommendation is overridden to PHASE "
                   "(needs --reason). The recommendation itself stays as decided.")
@click.option("--reason", help="Why the recommendation is overridden.")
@click.option("--clinician", help="Who signs off (with --accept or --override).")
def report(input_path: Path, output: Path, history_dir: Path | None,
           protocol_path: Path | None, at: str | None, accept: bool,
           override_phase: str | None, reason: str | None, clinician: str | None) -> None:
    """Decide INPUT.json and write the clearance report as PDF/A-3b (not yet signed)."""
    from engine.decide import evaluator_for
    from reports import ReportSignoff
    from reports.html import prepare_report
    from reports.pdf import html_to_pdf

    generated_at = _moment(at, "--at")
    if accept and override_phase:
        fail("--accept and --override: give one of them")
    if (accept or override_phase) and not clinician:
        fail("--clinician: who signs off is required with --accept or --override")
    if (reason or clinician) and not (accept or override_phase):
        fail("--reason and --clinician go with --accept or --override")
    protocol = protocol_or_exit(protocol_path)
    evaluator = evaluator_for(protocol)
    assessment = _assessment(input_path)
    decision = evaluator.decide(assessment, evaluated_at=generated_at)
    history = []
    if history_dir is not None:
        if not history_dir.is_dir():
            fail(f"{history_dir}: the history folder does not exist")
        history = _earlier_decisions(history_dir, decision, evaluator)
    signoff = None
    if accept or override_phase:
        signoff = ReportSignoff(action="accept" if accept else "override",
                                clinician=clinician or "", signed_at=generated_at,
                                signed_phase=override_phase or decision.phase.id,
                                reason=reason)
    try:
        prepared = prepare_report(decision, assessment.document, history=history,
                                  generated_at=generated_at, protocol=protocol,
                                  signoff=signoff, inline_stylesheet=False)
        pdf = html_to_pdf(prepared)
    except ReportInputError as exc:
        fail(exc.summary, exc.problems)
    except ReportError as exc:
        fail(str(exc), code=EXIT_CHECK_FAILED)
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        fail(f"{output}: cannot be written: {exc.strerror or exc}", code=EXIT_CHECK_FAILED)
    from reports.view import status_in_force

    status = status_in_force(decision, prepared.record.signoff)
    click.echo(f"{output}: {status.summary}")
    if status.signed:
        click.echo(f"  {status.recommendation}")
    click.echo(f"  {len(history)} earlier assessment{'s' if len(history) != 1 else ''} · "
               f"record SHA-256 {prepared.record.sha256} · decision {decision.decision_id}")


def _password(password_file: Path | None) -> bytes | None:
    if password_file is None:
        entered = click.prompt("PKCS#12 password", hide_input=True, default="",
                               show_default=False, err=True)
        return entered.encode("utf-8") if entered else None
    text = _read_bytes(password_file, "password file").decode("utf-8", errors="strict")
    return text.rstrip("\r\n").encode("utf-8")


@click.command("sign")
@click.argument("report_path", metavar="REPORT.pdf",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--p12", "p12_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="The signer's PKCS#12 file (key and certificate).")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False),
              help="A file whose first line is the PKCS#12 password (else it is asked for).")
@click.option("--name", default=None,
              help="The signer's name as printed on the report: the certificate's subject "
                   "(the default); any other name is refused.")
@click.option("--meaning", required=True,
              help='What the signature means, e.g. "Reviewed and approved: return-to-sprint '
                   'clearance".')
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the signed PDF.")
@click.option("--at", "at", metavar="TIME",
              help="The signing time, ISO 8601 with zone (default: now, UTC).")
@click.option("--tsa", "tsa_url", metavar="URL",
              help="A time-stamping authority (RFC 3161, HTTP): the signature carries its "
                   "timestamp (PAdES B-T).")
def sign(report_path: Path, p12_path: Path, password_file: Path | None, name: str | None,
         meaning: str, output: Path, at: str | None, tsa_url: str | None) -> None:
    """Sign REPORT.pdf (PAdES B-B, or B-T with --tsa) in its next free signature slot.

    A file that is not a report as `sprintclear report` writes it, or that was
    changed after it was written or signed, is refused (exit 2, every problem
    named).
    """
    from reports import ClinicianSigner, sign_report

    signed_at = _moment(at, "--at")
    pdf = _read_bytes(report_path, "report")
    p12 = _read_bytes(p12_path, "PKCS#12 file")
    try:
        signer = ClinicianSigner.from_pkcs12(p12, _password(password_file))
        signed = sign_report(pdf, signer, name=name, meaning=meaning, signed_at=signed_at,
                             tsa_url=tsa_url)
    except ReportInputError as exc:
        fail(f"{report_path}: {exc.summary}", exc.problems)
    except ReportError as exc:
        fail(f"{report_path}: {exc}", code=EXIT_CHECK_FAILED)
    try:
        output.write_bytes(signed)
    except OSError as exc:
        fail(f"{output}: cannot be written: {exc.strerror or exc}", code=EXIT_CHECK_FAILED)
    printed = " ".join(name.split()) if name else signer.subject
    click.echo(f"{output}: {_status_line(signed)}")
    click.echo(f"  signed by {printed} (certificate {signer.subject}, "
               f"issued by {signer.issuer}) at "
               f"{signed_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"
               + (f", time-stamped by {tsa_url} (PAdES B-T)" if tsa_url else " (PAdES B-B)"))


@click.command("timestamp")
@click.argument("report_path", metavar="REPORT.pdf",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--tsa", "tsa_url", required=True, metavar="URL",
              help="The time-stamping authority (RFC 3161, HTTP).")
@click.option("--trust", "trust_paths", required=True, multiple=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="The root of the signers' certificates (PEM or DER); repeat for several.")
@click.option("--trust-tsa", "tsa_paths", required=True, multiple=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="The root of the time-stamping authority's certificate; repeat for several.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the time-stamped PDF.")
def timestamp(report_path: Path, tsa_url: str, trust_paths: tuple[Path, ...],
              tsa_paths: tuple[Path, ...], output: Path) -> None:
    """Add the validation data and a document timestamp to a signed REPORT.pdf (PAdES B-LTA).

    The timestamp proves the report and its signatures existed at the
    authority's time, so they can be verified after the signers' certificates
    expire. Run it again before the authority's own certificate expires.
    """
    from reports.timestamping import timestamp_report

    pdf = _read_bytes(report_path, "report")
    roots = [_read_bytes(path, "trust root") for path in trust_paths]
    authorities = [_read_bytes(path, "time-stamping authority root") for path in tsa_paths]
    try:
        stamped = timestamp_report(pdf, tsa_url=tsa_url, trust_roots=roots,
                                   tsa_roots=authorities, at=_moment(None, "--at"))
    except ReportInputError as exc:
        fail(f"{report_path}: {exc.summary}", exc.problems)
    except ReportError as exc:
        fail(f"{report_path}: {exc}", code=EXIT_CHECK_FAILED)
    try:
        output.write_bytes(stamped)
    except OSError as exc:
        fail(f"{output}: cannot be written: {exc.strerror or exc}", code=EXIT_CHECK_FAILED)
    click.echo(f"{output}: {_status_line(stamped)}")
    click.echo(f"  validation data and a document timestamp by {tsa_url} added (PAdES B-LTA)")


def _status_line(pdf: bytes) -> str:
    """The status in force the report prints, for the summary of a command that wrote it."""
    from reports.pdf_reading import PdfContentError, read_record
    from reports.view import status_in_force

    try:
        record = read_record(pdf)
        return status_in_force(record.decision(), record.signoff).summary
    except (PdfContentError, ValueError, KeyError, TypeError):
        return "(the report's record cannot be read)"


def _signature_line(index: int, signature: Any) -> str:
    mark = "✓" if signature.ok else "✗"
    if signature.kind == "document timestamp":
        return (f"  {mark} {index} ({signature.field}): document timestamp by "
                f"{signature.signer}, issued by {signature.issuer} · "
                f"{signature.signed_at or '(no time)'}"
                + (" (trusted)" if signature.timestamp else " (not trusted)")
                + f" · covers the {signature.coverage}")
    when = (f"signed {signature.signed_at or '(no time)'} (the signer's clock)"
            + (f", time-stamped {signature.timestamp} by {signature.timestamp_by} (trusted)"
               if signature.timestamp else ""))
    return (f"  {mark} signature {index} ({signature.field}): "
            f"{signature.printed_name or '(no printed name)'} · certificate "
            f"{signature.signer}, issued by {signature.issuer} · {when} · covers "
            f"the {signature.coverage}")


def _verification_text(path: Path, result: Any) -> str:
    lines = [f"{path}: {'VALID' if result.valid else 'INVALID'}"]
    if result.status is not None:
        lines.append(f"  in force: {result.status.summary}"
                     + ("" if result.valid else " (as the report claims; it does not verify)"))
    for reason in result.reasons:
        lines.append(f"  ✗ {reason}")
    for index, signature in enumerate(result.signatures, 1):
        lines.append(_signature_line(index, signature))
        if signature.meaning:
            lines.append(f"      meaning: {signature.meaning}")
    if result.record_sha256:
        printed = "printed in every footer" if result.footer_sha256 == result.record_sha256 \
            else "NOT the hash printed in the footer"
        lines.append(f"  record SHA-256 {result.record_sha256} ({printed})")
    decision = result.decision
    if decision is not None:
        recommendation = (f" · {result.status.recommendation}" if result.status is not None
                          else "")
        lines.append(f"  decision {decision.decision_id}: {decision.athlete.id}, assessment "
                     f"{decision.assessment.date}{recommendation}")
    if result.decision_check == "same":
        lines.append(f"  rules: decided again under rule base {result.current_rulebase_version}"
                     ": the same decision")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


@click.command("verify")
@click.argument("report_path", metavar="REPORT.pdf",
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--trust", "trust_paths", required=True, multiple=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="A trusted root certificate (PEM or DER); repeat for several.")
@click.option("--trust-tsa", "tsa_paths", multiple=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="A trusted time-stamping authority's root (PEM or DER): its timestamps "
                   "give trusted time (PAdES B-T, B-LTA); repeat for several.")
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
@click.option("--require-current", is_flag=True,
              help="Invalid when the report was decided under another rule base version.")
@click.option("--at-signing-time", is_flag=True,
              help="Check the certificate of a signature without a trusted timestamp at the "
                   "signer's claimed signing time instead of now (an archived report whose "
                   "certificate has since expired). The time is the signer's claim, not a "
                   "trusted timestamp; the output says so.")
def verify(report_path: Path, trust_paths: tuple[Path, ...], tsa_paths: tuple[Path, ...],
           as_json: bool, require_current: bool, at_signing_time: bool) -> None:
    """Check REPORT.pdf: signatures, embedded record, footer hash, and the rules' decision."""
    from reports import verify_report

    pdf = _read_bytes(report_path, "report")
    roots = [_read_bytes(path, "trust root") for path in trust_paths]
    authorities = [_read_bytes(path, "time-stamping authority root") for path in tsa_paths]
    try:
        result = verify_report(pdf, trust_roots=roots, tsa_roots=authorities,
                               require_current_rulebase=require_current,
                               at_signing_time=at_signing_time)
    except ReportInputError as exc:
        fail(exc.summary, exc.problems)
    if as_json:
        click.echo(json.dumps({"report": str(report_path), **result.as_dict()},
                              ensure_ascii=False))
    else:
        click.echo(_verification_text(report_path, result))
    sys.exit(EXIT_OK if result.valid else EXIT_CHECK_FAILED)


@click.command("demo-pki")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--name", "clinician_name", required=True,
              help="The clinician's name, as in the certificate.")
@click.option("--password", default=None,
              help="The PKCS#12 password (default: a random one, written to the password "
                   "file).")
def demo_pki(directory: Path, clinician_name: str, password: str | None) -> None:
    """Make an offline demo CA and a clinician's certificate and PKCS#12 file in DIRECTORY.

    For demos and tests only: the CA key is thrown away and the password is
    written next to the PKCS#12 file.
    """
    from reports import make_demo_pki

    try:
        pki = make_demo_pki(directory, clinician_name=clinician_name,
                            password=password or secrets.token_urlsafe(12))
    except ReportInputError as exc:
        fail(exc.summary, exc.problems)
    except OSError as exc:
        fail(f"{directory}: cannot be written: {exc.strerror or exc}")
    click.echo(f"demo CA (trust root)   {pki.ca_certificate}")
    click.echo(f"clinician PKCS#12      {pki.clinician_p12}  ({pki.clinician_name})")
    click.echo(f"its password           {pki.password_file}")
