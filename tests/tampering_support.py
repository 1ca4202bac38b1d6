"""How a forger changes a report: the tampered files the attack tests build from fresh reports.

Each helper takes a report (signed or not) and returns a changed copy, made the
way the attack was found (``../shared/spec/reports-notes.md``): pikepdf rewrites
an unsigned report before it is signed, pyHanko's incremental writer appends a
revision after a signature. Text drawn by a helper uses the report's own font
and glyphs, so the forged words are real text a viewer shows and a reader
extracts, exactly as an attacker would draw them.
"""

from __future__ import annotations

import io
from typing import Any

import pikepdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields

from reports.pdf_reading import _parse_cmap

FORGED_BANNER = "Phase 6 of 6 · Return to play ✓ CLEARED to play"


def _encoder(pdf: pikepdf.Pdf) -> tuple[str, pikepdf.Object, dict[str, bytes]]:
    """A bold font of page 1 (its resource name and object) and its text → glyph codes."""
    fonts = pdf.pages[0].Resources.Font
    for name, font in fonts.items():
        if "Bold" in str(font.get("/BaseFont", "")):
            mapping, _ = _parse_cmap(font.ToUnicode.read_bytes())
            return name, font, {text: code for code, text in mapping.items()}
    raise AssertionError("no bold font on page 1")


def _shown(encoding: dict[str, bytes], text: str) -> bytes:
    """The hex string that draws ``text`` in that font (characters it lacks are left out)."""
    return b"<" + b"".join(encoding[c].hex().encode() for c in text if c in encoding) + b">"


def _banner_drawing(encoding: dict[str, bytes], font_name: str, *, white_box: bool) -> bytes:
    """White box over the banner, then the forged banner in big bold letters."""
    box = b"1 1 1 rg 30 560 540 130 re f\n" if white_box else b""
    return (box + b"0.1 0.45 0.2 rg BT " + font_name.encode() + b" 22 Tf 45 640 Td "
            + _shown(encoding, "Phase 6 of 6 · Return to play") + b" Tj 0 -34 Td "
            + _shown(encoding, "✓ CLEARED to play") + b" Tj ET\n")


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def planted_form_xobject(report: bytes) -> bytes:
    """Before signing: a form XObject drawing "Phase 6 … CLEARED to play" on page 1."""
    with pikepdf.open(io.BytesIO(report)) as pdf:
        font_name, font, encoding = _encoder(pdf)
        form = pdf.make_stream(_banner_drawing(encoding, font_name, white_box=True))
        form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        form.BBox = [0, 0, 595, 842]
        form.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary({font_name: font}))
        page = pdf.pages[0]
        page.Resources.XObject[pikepdf.Name("/Xforged")] = form
        page.contents_add(pdf.make_stream(b"q /Xforged Do Q\n"), prepend=False)
        return _save(pdf)


def planted_print_only_stamp(report: bytes) -> bytes:
    """Before signing: a stamp annotation over the banner, printed but hidden on screen."""
    with pikepdf.open(io.BytesIO(report)) as pdf:
        font_name, font, encoding = _encoder(pdf)
        appearance = pdf.make_stream(_banner_drawing(encoding, font_name, white_box=True))
        appearance.Type, appearance.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        appearance.BBox = [0, 0, 595, 842]
        appearance.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary({font_name: font}))
        stamp = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Stamp, Rect=[0, 0, 595, 842],
            F=4 | 32,  # Print, NoView: on paper, not on screen
            AP=pikepdf.Dictionary(N=appearance)))
        pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([stamp]))
        return _save(pdf)


def planted_optional_content(report: bytes) -> bytes:
    """Before signing: the forged banner in an optional-content group shown only in print."""
    with pikepdf.open(io.BytesIO(report)) as pdf:
        font_name, _, encoding = _encoder(pdf)
        group = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.OCG, Name=pikepdf.String("print layer"),
            Usage=pikepdf.Dictionary(Print=pikepdf.Dictionary(PrintState=pikepdf.Name.ON),
                                     View=pikepdf.Dictionary(ViewState=pikepdf.Name.OFF))))
        pdf.Root.OCProperties = pikepdf.Dictionary(
            OCGs=[group], D=pikepdf.Dictionary(OFF=[group], AS=[pikepdf.Dictionary(
                Event=pikepdf.Name.Print, Category=[pikepdf.Name.Print], OCGs=[group])]))
        page = pdf.pages[0]
        page.Resources.Properties = pikepdf.Dictionary(oc1=group)
        page.contents_add(pdf.make_stream(
            b"/OC /oc1 BDC\n" + _banner_drawing(encoding, font_name, white_box=True) + b"EMC\n"),
            prepend=False)
        return _save(pdf)


def _write(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def overlay_signature_field(signed: bytes, *, name: str = "Overlay") -> bytes:
    """After signing: a new, empty signature field whose appearance paints over the banner.

    pyHanko's difference analysis calls this form filling; a countersignature
    after it makes the file look approved (the laundering of issue 9).
    """
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        font_name, _, encoding = _encoder(pdf)
        font_ref = pdf.pages[0].Resources.Font[font_name].objgen
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=0,
                                                              box=(30, 560, 570, 690)))
    drawing = _banner_drawing(encoding, font_name, white_box=True).replace(
        b"30 560 540 130 re", b"0 0 540 130 re").replace(b"45 640 Td", b"15 80 Td")
    appearance = generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/XObject"),
        generic.NameObject("/Subtype"): generic.NameObject("/Form"),
        generic.NameObject("/BBox"): generic.ArrayObject(
            [generic.NumberObject(v) for v in (0, 0, 540, 130)]),
        generic.NameObject("/Resources"): generic.DictionaryObject({
            generic.NameObject("/Font"): generic.DictionaryObject({
                generic.NameObject(font_name): generic.IndirectObject(*font_ref, writer)})}),
    }, stream_data=drawing)
    form = writer.root["/AcroForm"]
    field = next(f.get_object() for f in form["/Fields"] if f.get_object()["/T"] == name)
    field[generic.NameObject("/AP")] = generic.DictionaryObject(
        {generic.NameObject("/N"): writer.add_object(appearance)})
    field[generic.NameObject("/F")] = generic.NumberObject(4)
    writer.update_container(field)
    return _write(writer)


def metadata_without_pdfa(signed: bytes) -> bytes:
    """After signing: an update whose XMP packet no longer declares PDF/A-3b."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    stream = writer.root["/Metadata"].get_object()
    xmp: bytes = stream.data
    changed = xmp.replace(b"pdfaid:part", b"pdfxid:part")
    replacement = generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/Metadata"),
        generic.NameObject("/Subtype"): generic.NameObject("/XML")}, stream_data=changed)
    writer.root[generic.NameObject("/Metadata")] = writer.add_object(replacement)
    writer.update_root()
    return _write(writer)


def metadata_title_changed(signed: bytes) -> bytes:
    """After signing: the XMP packet's title (what viewers show) says cleared; the info
    dictionary is left alone."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    stream = writer.root["/Metadata"].get_object()
    xmp: bytes = stream.data
    start = xmp.index(b"<dc:title")
    start = xmp.index(b"<rdf:li", start)
    start = xmp.index(b">", start) + 1
    end = xmp.index(b"</rdf:li>", start)
    changed = xmp[:start] + "Phase 6 · CLEARED to play".encode() + xmp[end:]
    replacement = generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/Metadata"),
        generic.NameObject("/Subtype"): generic.NameObject("/XML")}, stream_data=changed)
    writer.root[generic.NameObject("/Metadata")] = writer.add_object(replacement)
    writer.update_root()
    return _write(writer)


def form_with_xfa(signed: bytes) -> bytes:
    """After signing: an XFA form (which some viewers show instead of the pages)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    form = writer.root["/AcroForm"]
    form[generic.NameObject("/XFA")] = writer.add_object(generic.StreamObject(
        stream_data=b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>"))
    writer.update_container(form)
    return _write(writer)


def drawn_texts(pdf: bytes) -> Any:
    """Every text a page draws, forms and annotation appearances included (for assertions)."""
    from reports.pdf_reading import stream_text

    texts = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            texts.append(stream_text([page.Contents] if isinstance(page.Contents, pikepdf.Stream)
                                     else list(page.Contents), page.Resources))
    return texts
