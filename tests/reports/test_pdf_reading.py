"""Reading a report back: text through /ToUnicode, named slots, and the one embedded record."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from weasyprint import HTML

from reports.pdf_reading import (
    PdfContentError,
    _parse_cmap,
    _text_operations,
    named_destinations,
    normalise_text,
    page_texts,
    record_attachment,
)
from reports.view import banner_claims


def _root(data: bytes) -> Any:
    return PdfFileReader(io.BytesIO(data), strict=True).root


def test_page_text_is_what_poppler_reads(flare: Any, pdftotext: Any) -> None:
    """The text decoded from each page matches pdftotext's, whitespace aside."""
    texts = page_texts(_root(flare.pdf))
    for number, text in enumerate(texts, 1):
        ours = "".join(text.split())
        theirs = "".join(pdftotext(flare.pdf, number).split())
        for claim in ("RecordSHA-256", *("".join(c.split()) for c in banner_claims(
                flare.decision))):
            assert (claim in ours) == (claim in theirs)
    assert "Phase 3 of 6 · Progressive running" in normalise_text(texts[0])


def test_text_operators_decode_hex_literal_and_escaped_strings() -> None:
    """Tj, TJ, ' and " with hex and literal strings (escapes, octal) are all read."""
    stream = (b"q 1 0 0 1 0 0 cm BT /F1 9 Tf [<0041>-20<0042>] TJ 0 -10 Td (C\\(D\\)\\101) Tj "
              b"(E) ' 1 2 (F) \" ET Q /Im0 Do BT /F2 5 Tf <00470048> Tj ET")
    operations = list(_text_operations(stream))
    shown = [value for kind, value in operations if kind == "show"]
    assert shown == [b"\x00A\x00B", b"C(D)A", b"E", b"F", b"\x00G\x00H"]
    assert ("font", "/F1") in operations and ("font", "/F2") in operations
    assert ("xobject", "/Im0") in operations


def test_cmaps_with_chars_and_ranges_map_codes_to_text() -> None:
    """bfchar and both forms of bfrange give the Unicode text of each code."""
    cmap = (b"1 begincodespacerange <0000> <FFFF> endcodespacerange "
            b"2 beginbfchar <0003> <0020> <0010> <2713> endbfchar "
            b"2 beginbfrange <0020> <0022> <0041> <0030> <0031> [<0078> <0079>] endbfrange")
    mapping, width = _parse_cmap(cmap)
    assert width == 2
    assert mapping[b"\x00\x03"] == " " and mapping[b"\x00\x10"] == "✓"
    assert [mapping[bytes([0, c])] for c in (0x20, 0x21, 0x22)] == ["A", "B", "C"]
    assert mapping[b"\x00\x30"] == "x" and mapping[b"\x00\x31"] == "y"


def test_signature_slots_are_found_by_name(flare: Any) -> None:
    """Both slots of the template are named destinations on the last page."""
    destinations = named_destinations(_root(flare.pdf))
    slots = [destinations[f"signature-slot-{n}"] for n in (1, 2)]
    with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
        last = len(pdf.pages) - 1
    assert {slot.page_index for slot in slots} == {last}
    assert slots[0].top == slots[1].top and slots[0].left < slots[1].left


def test_the_record_is_read_only_when_declared_as_associated_data(flare: Any) -> None:
    """A record not in /AF, with another relationship, or next to a second file, is refused."""
    assert record_attachment(_root(flare.pdf)).startswith(b'{"assessment":')

    def edited(change: Any) -> bytes:
        with pikepdf.open(io.BytesIO(flare.pdf)) as pdf:
            change(pdf)
            out = io.BytesIO()
            pdf.save(out)
        return out.getvalue()

    def relationship(pdf: pikepdf.Pdf) -> None:
        pdf.Root.AF[0].AFRelationship = pikepdf.Name.Alternative

    def not_associated(pdf: pikepdf.Pdf) -> None:
        del pdf.Root["/AF"]

    def second_file(pdf: pikepdf.Pdf) -> None:
        pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, b"extra")

    for change, message in ((relationship, "/AFRelationship /Data"),
                            (not_associated, "associated file"),
                            (second_file, "exactly one")):
        with pytest.raises(PdfContentError, match=message):
            record_attachment(_root(edited(change)))


def test_a_pdf_without_a_record_is_refused() -> None:
    """A PDF with no embedded files has no record to read."""
    with pytest.raises(PdfContentError, match="no embedded record"):
        record_attachment(_root(HTML(string="<p>x</p>").write_pdf()))
