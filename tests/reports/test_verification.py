"""Verification: valid only for the file that was signed, saying what the rules decide.

Each kind of tampering the issue names is made here for real (a changed byte,
a revision appended after signing, an attachment swapped before or after
signing) and must turn the result invalid with a reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from typing import Any

import pikepdf
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from support import hamstring_play, varied

from engine import decide, evaluator_for, rulebase_version
from reports import verify_report
from reports.html import prepare_report
from reports.pdf import html_to_pdf
from reports.record import build_record
from rules.errors import ReportInputError, VerificationFailed
from rules.loading import default_protocol_text, parse_protocol


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _record_spec(writer: IncrementalPdfFileWriter) -> Any:
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    return names.raw_get(1)


def appended_annotation(pdf: bytes) -> bytes:
    """A revision after signing that writes "✓ CLEARED to sprint" over page 1."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    annotation = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
        generic.NameObject("/Rect"): generic.ArrayObject(
            [generic.FloatObject(v) for v in (40, 600, 300, 640)]),
        generic.NameObject("/Contents"): generic.TextStringObject("✓ CLEARED to sprint"),
        generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
    }))
    annotations = generic.ArrayObject([*page.get("/Annots", []), annotation])
    page[generic.NameObject("/Annots")] = annotations
    writer.update_container(page)
    return _write(writer)


def swapped_record(pdf: bytes, data: bytes) -> bytes:
    """A revision that points the record's file specification at other bytes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    spec = _record_spec(writer).get_object()
    stream = generic.StreamObject({generic.NameObject("/Type"): generic.NameObject(
        "/EmbeddedFile")}, stream_data=data)
    spec["/EF"][generic.NameObject("/F")] = writer.add_object(stream)
    writer.update_container(spec)
    return _write(writer)


def with_record_bytes(pdf: bytes, data: bytes) -> bytes:
    """An unsigned report whose attachment was replaced by other bytes (rewritten whole)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.attachments["sprintclear-record.json"].obj.EF.F.write(data)
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


def forged(flare: Any, clock: dt.datetime, *, html: Any = None, record: Any = None,
           decision: Any = None) -> bytes:
    """A report made by hand: its HTML or record altered consistently before signing."""
    prepared = prepare_report(decision or flare.decision, flare.assessment, generated_at=clock)
    if record is not None:
        html_text = prepared.html.replace(prepared.record.sha256, record.sha256)
        prepared = dataclasses.replace(prepared, html=html_text, record=record)
    if html is not None:
        prepared = dataclasses.replace(prepared, html=html(prepared.html))
    return html_to_pdf(prepared)


def test_an_untouched_signed_report_is_valid_and_decided_again(
        signed_flare: bytes, trust: list[bytes], flare: Any) -> None:
    """Signature, record, footer, banner and the rules all agree."""
    result = verify_report(signed_flare, trust_roots=trust)
    assert result.valid and result.reasons == () and result.notes == ()
    assert result.decision_check == "same" and result.decision_rechecked
    assert result.record_sha256 == result.footer_sha256
    assert result.decision == flare.decision
    assert result.recorded_rulebase_version == result.current_rulebase_version
    result.raise_if_invalid()


@pytest.mark.parametrize("where", [0.02, 0.3, 0.6, 0.9])
def test_any_changed_byte_makes_it_invalid(signed_flare: bytes, trust: list[bytes],
                                           where: float) -> None:
    """A byte changed anywhere in the signed range (or in the signature) is detected."""
    data = bytearray(signed_flare)
    offset = int(len(data) * where)
    data[offset] = (data[offset] + 1) % 256
    result = verify_report(bytes(data), trust_roots=trust)
    assert not result.valid and result.reasons


def test_a_changed_signature_value_makes_it_invalid(signed_flare: bytes,
                                                    trust: list[bytes]) -> None:
    """Changing a hex digit of /Contents breaks the signature."""
    start = signed_flare.rindex(b"/Contents <") + len(b"/Contents <") + 200
    digit = signed_flare[start:start + 1]
    data = signed_flare[:start] + (b"0" if digit != b"0" else b"1") + signed_flare[start + 1:]
    assert not verify_report(data, trust_roots=trust).valid


def _contents_span(pdf: bytes) -> tuple[int, int]:
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    return start, pdf.index(b">", start)


def test_a_changed_byte_in_the_signatures_padding_makes_it_invalid(
        signed_flare: bytes, trust: list[bytes]) -> None:
    """The zero padding after the signature container is not signed, yet checked."""
    _, end = _contents_span(signed_flare)
    position = end - 10
    assert signed_flare[position:position + 1] == b"0"
    data = signed_flare[:position] + b"7" + signed_flare[position + 1:]
    result = verify_report(data, trust_roots=trust)
    assert not result.valid
    assert any("not padding" in reason for reason in result.reasons)


def test_a_changed_byte_in_a_carried_certificate_makes_it_invalid(
        signed_flare: bytes, trust: list[bytes], pki: Any) -> None:
    """The CA copy inside the signature is not signed, yet must be the trusted one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    root = x509.load_pem_x509_certificate(pki.ca_certificate.read_bytes())
    carried = root.public_bytes(serialization.Encoding.DER).hex().encode()
    start = signed_flare.lower().index(carried)
    position = start + len(carried) - 6  # inside the CA's own signature value
    digit = signed_flare[position:position + 1]
    data = signed_flare[:position] + (b"1" if digit != b"1" else b"2") + \
        signed_flare[position + 1:]
    result = verify_report(data, trust_roots=trust)
    assert not result.valid
    assert any("carries a certificate" in reason for reason in result.reasons)


def test_a_revision_appended_after_signing_makes_it_invalid(signed_flare: bytes,
                                                            trust: list[bytes]) -> None:
    """An annotation added after the signature: the signature no longer covers the file."""
    result = verify_report(appended_annotation(signed_flare), trust_roots=trust)
    assert not result.valid
    assert any("does not cover the whole file" in reason for reason in result.reasons)
    assert result.signatures[0].intact and result.signatures[0].valid


def test_an_attachment_swapped_after_signing_makes_it_invalid(
        signed_flare: bytes, trust: list[bytes], examples: dict[str, Any]) -> None:
    """Pointing the record at another report's record in a new revision is detected."""
    other = examples["hamstring-winger-cleared-to-sprint"].pdf
    with pikepdf.open(io.BytesIO(other)) as document:
        data = document.attachments["sprintclear-record.json"].get_file().read_bytes()
    result = verify_report(swapped_record(signed_flare, data), trust_roots=trust)
    assert not result.valid
    assert any("does not cover the whole file" in reason for reason in result.reasons)


def test_an_attachment_swapped_before_signing_does_not_match_the_footer(
        flare: Any, examples: dict[str, Any], sign: Any, sign_anyway: Any,
        trust: list[bytes]) -> None:
    """A record from another report: signing refuses it, and signed anyway its hash is not the
    one printed."""
    other = examples["hamstring-winger-cleared-to-sprint"].pdf
    with pikepdf.open(io.BytesIO(other)) as document:
        data = document.attachments["sprintclear-record.json"].get_file().read_bytes()
    swapped = with_record_bytes(flare.pdf, data)
    with pytest.raises(ReportInputError):
        sign(swapped)
    result = verify_report(sign_anyway(swapped), trust_roots=trust)
    assert not result.valid
    assert any("printed in the footer" in reason for reason in result.reasons)


def test_a_swap_between_two_signatures_is_caught(signed_flare: bytes, trust: list[bytes],
                                                 other_pki: Any, other_signer: Any,
                                                 sign: Any, sign_anyway: Any,
                                                 examples: dict[str, Any]) -> None:
    """A record swapped before the countersignature: the countersigner's tool refuses it, and
    countersigned anyway, the first signature sees the change."""
    other = examples["calf-soleus-distance-runner-early-loading"].pdf
    with pikepdf.open(io.BytesIO(other)) as document:
        data = document.attachments["sprintclear-record.json"].get_file().read_bytes()
    swapped = swapped_record(signed_flare, data)
    with pytest.raises(ReportInputError):
        sign(swapped, other_signer)
    both = sign_anyway(swapped, other_signer,
                       signed_at=dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC))
    result = verify_report(both, trust_roots=[*trust, other_pki.ca_certificate.read_bytes()])
    assert not result.valid
    assert any("signature 1" in reason for reason in result.reasons)


def test_a_root_that_did_not_issue_the_certificate_makes_it_invalid(
        signed_flare: bytes, other_pki: Any) -> None:
    """Chaining to the given root is required; another root does not do."""
    result = verify_report(signed_flare,
                           trust_roots=[other_pki.ca_certificate.read_bytes()])
    assert not result.valid
    assert any("trust root" in reason for reason in result.reasons)
    with pytest.raises(VerificationFailed, match="trust root"):
        result.raise_if_invalid()


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "cannot be read as a signed PDF"),
    (b"not a pdf at all", "cannot be read as a signed PDF"),
])
def test_what_is_not_a_pdf_is_invalid_not_an_error(data: bytes, reason: str,
                                                   trust: list[bytes]) -> None:
    """Fail closed: an unparsable file is an invalid report with the reason, never a crash."""
    result = verify_report(data, trust_roots=trust)
    assert not result.valid and reason in result.reasons[0]


def test_a_truncated_or_unsigned_report_is_invalid(signed_flare: bytes, flare: Any,
                                                   trust: list[bytes]) -> None:
    """Cutting the file short, or never signing it, is invalid."""
    assert not verify_report(signed_flare[: len(signed_flare) // 2], trust_roots=trust).valid
    unsigned = verify_report(flare.pdf, trust_roots=trust)
    assert not unsigned.valid and unsigned.reasons == ("the report is not signed",)


def test_trust_roots_must_be_certificates(signed_flare: bytes) -> None:
    """No root, or a root that is not a certificate, is the caller's error."""
    with pytest.raises(ReportInputError, match="at least one trust root"):
        verify_report(signed_flare, trust_roots=[])
    with pytest.raises(ReportInputError, match="not a PEM or DER certificate"):
        verify_report(signed_flare, trust_roots=[b"-----BEGIN CERTIFICATE-----\nxx\n"])


def test_a_decision_the_rules_do_not_make_is_invalid(flare: Any, clock: dt.datetime,
                                                     sign: Any, trust: list[bytes]) -> None:
    """A record whose decision says cleared when the rules say not: signed, still invalid."""
    decision = flare.decision
    altered = decision.model_copy(update={"cleared_to_sprint": True,
                                          "phase": decision.criteria_phase})
    result = verify_report(sign(forged(flare, clock, decision=altered)), trust_roots=trust)
    assert not result.valid and result.decision_check == "different"
    assert any("not what rule base" in reason and "phase" in reason
               for reason in result.reasons)


def test_a_page_that_contradicts_its_record_is_invalid(flare: Any, clock: dt.datetime,
                                                       sign: Any, sign_anyway: Any,
                                                       trust: list[bytes]) -> None:
    """A banner edited to say CLEARED while the record says not cleared: signing refuses it,
    and signed anyway, verification catches it."""
    def edit(markup: str) -> str:
        return markup.replace("✗ NOT CLEARED to sprint", "✓ CLEARED to sprint")
    tampered = forged(flare, clock, html=edit)
    with pytest.raises(ReportInputError):
        sign(tampered)
    result = verify_report(sign_anyway(tampered), trust_roots=trust)
    assert not result.valid
    assert any("first page" in reason for reason in result.reasons)


def test_a_record_whose_input_is_not_the_decided_one_is_invalid(
        flare: Any, clock: dt.datetime, sign: Any, trust: list[bytes]) -> None:
    """The embedded input must be the one the decision records by its SHA-256."""
    other_input = dict(varied(flare.assessment, {"pain.walking": 1}))
    record = build_record(flare.decision, other_input, protocol=None, history=[],
                          generated_at=clock)
    result = verify_report(sign(forged(flare, clock, record=record)), trust_roots=trust)
    assert not result.valid
    assert any("not the input the decision was made for" in r for r in result.reasons)


def test_another_rule_base_version_is_valid_with_a_note(flare: Any, clock: dt.datetime,
                                                        sign: Any, trust: list[bytes]) -> None:
    """Decided under an older rule base: not decided again, valid, and says which version."""
    old = "0" * 64
    decision = flare.decision
    older = decision.model_copy(update={"rulebase": decision.rulebase.model_copy(
        update={"version": old})})
    signed = sign(forged(flare, clock, decision=older))
    result = verify_report(signed, trust_roots=trust)
    assert result.valid, result.reasons
    assert result.decision_check == "other_rule_base" and not result.decision_rechecked
    assert result.notes == (
        f"decided under rule base version {old} (current is {decision.rulebase.version}); "
        "the decision was not decided again",)
    strict = verify_report(signed, trust_roots=trust, require_current_rulebase=True)
    assert not strict.valid and f"rule base version {old}" in strict.reasons[0]


def test_a_clinic_protocol_is_decided_again_from_the_embedded_protocol(
        clock: dt.datetime, sign: Any, trust: list[bytes], quiet: Any) -> None:
    """A decision under a clinic's own thresholds is re-decided with the protocol it embeds."""
    document = json.loads(default_protocol_text())
    document.update(id="clinic-test", version="1")
    criterion = next(c for c in document["criteria"] if c["id"] == "C302")
    criterion["parts"][0]["threshold"] = 85
    protocol = parse_protocol(json.dumps(document), require_contract=False)
    source = varied(hamstring_play(), {"strength.isometric_90_90": (264, 300)})
    decision = decide(source, protocol=protocol, evaluated_at=clock)
    assert decision.rulebase.version == rulebase_version(protocol)
    assert decision.rulebase.version != evaluator_for().version
    canonical = evaluator_for(protocol).decide(source).input_sha256
    assert canonical == decision.input_sha256
    from engine import parse_assessment
    assessment = dict(parse_assessment(source).document)
    with quiet():
        embedded = html_to_pdf(prepare_report(decision, assessment, generated_at=clock,
                                              protocol=protocol))
        bare = html_to_pdf(prepare_report(decision, assessment, generated_at=clock))
    result = verify_report(sign(embedded), trust_roots=trust)
    assert result.valid and result.decision_check == "same", result.reasons
    without = verify_report(sign(bare), trust_roots=trust)
    assert without.valid and without.decision_check == "other_rule_base"


def test_a_protocol_that_did_not_decide_cannot_be_embedded(flare: Any,
                                                           clock: dt.datetime) -> None:
    """Passing a protocol other than the deciding one is refused before rendering."""
    document = json.loads(default_protocol_text())
    document.update(id="clinic-other", version="2")
    protocol = parse_protocol(json.dumps(document), require_contract=False)
    with pytest.raises(ReportInputError, match="not the one that decided"):
        prepare_report(flare.decision, flare.assessment, generated_at=clock,
                       protocol=protocol)


def test_a_signing_time_outside_the_certificate_is_invalid(
        flare: Any, trust: list[bytes], signer: Any) -> None:
    """A signature claiming a time before its certificate existed is not credible."""
    from reports import sign_report

    early = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)  # the certificate starts in 2026
    patched = dataclasses.replace(signer, not_valid_before=early - dt.timedelta(days=1))
    signed = sign_report(flare.pdf, patched, name="Dr. Test Clinician", meaning="m",
                         signed_at=early)
    result = verify_report(signed, trust_roots=trust)
    assert not result.valid
    assert any("outside its certificate's validity" in reason for reason in result.reasons)


def test_the_result_reads_as_json(signed_flare: bytes, trust: list[bytes]) -> None:
    """as_dict() is plain JSON with the validity, reasons, signatures and the decision."""
    result = json.loads(json.dumps(verify_report(signed_flare, trust_roots=trust).as_dict()))
    assert result["valid"] is True and result["decision_check"] == "same"
    assert result["signatures"][0]["coverage"] == "entire file"
    assert result["decision"]["cleared_to_sprint"] is False


def test_an_expired_certificate_can_be_checked_at_the_signing_time(
        flare: Any, tmp_path_factory: Any) -> None:
    """A report signed while its certificate was valid, read after it expired: invalid by
    default, valid when checked at the claimed signing time, with a note saying so."""
    from reports import ClinicianSigner, make_demo_pki, sign_report

    old = make_demo_pki(tmp_path_factory.mktemp("old-pki"), clinician_name="Dr. Old Clinician",
                        password="pw", now=dt.datetime(2010, 1, 1, tzinfo=dt.UTC))
    signer = ClinicianSigner.from_pkcs12(old.clinician_p12.read_bytes(), b"pw")
    signed = sign_report(flare.pdf, signer, name="Dr. Old Clinician",
                         meaning="Reviewed and approved: return-to-sprint clearance",
                         signed_at=dt.datetime(2012, 6, 1, 9, 0, tzinfo=dt.UTC))
    roots = [old.ca_certificate.read_bytes()]
    now = verify_report(signed, trust_roots=roots)
    assert not now.valid
    expired = f"checked now: certificate expired on {signer.not_valid_after:%Y-%m-%d}"
    assert any(expired in reason for reason in now.reasons), now.reasons
    then = verify_report(signed, trust_roots=roots, at_signing_time=True)
    assert then.valid, then.reasons
    assert any("2012-06-01T09:00:00Z" in note and "not a trusted timestamp" in note
               for note in then.notes)
