"""What a report file may hold: the renderer's structure, then only sprintclear's own signatures.

A signature proves which bytes were signed, not what a viewer or a printer
draws from them. Attacks found on these reports (``../shared/spec/reports-notes.md``):
content planted before signing (a form XObject drawn on page 1, a stamp
annotation printed but hidden on screen, content in an optional-content group
switched off on screen), and laundering after signing (a new, empty signature
field whose appearance paints over the banner, followed by a trusted
countersignature, which pyHanko's difference analysis accepts as "form
filling"). Signing refuses, and verification reports, any file that fails the
checks of this module; each problem is a sentence naming what was found and
where.

Three checks:

- :func:`rendered_problems` — revision 0 is what ``sprintclear report``
  writes: the catalog, name trees, outline and page dictionaries hold only the
  keys WeasyPrint writes (no optional content, no form fields, no actions, no
  JavaScript), no page carries an annotation, and what every page *draws*
  (its content stream and every XObject it invokes, followed into nested
  forms) holds no image, no optional content, no Type 3 font, no tiling
  pattern and no soft mask; the text drawn inside form XObjects (the charts)
  is text of the record's own charts, one label per text object.
- :func:`revision_problems` — every later revision is one of: a signature
  filling the template's next slot (``Signature1``, then ``Signature2``) with
  sprintclear's own appearance (a widget inside the slot's box, printable,
  drawing exactly the stamp text for its printed name, time, meaning and
  certificate, nothing else); validation data (a document security store); or
  a document timestamp with an invisible widget. Any other changed object, new
  field, widget, annotation, XObject or appearance stream is a problem.
- :func:`pdfa_problems` — the file as it stands is still PDF/A-3b: PDF 1.x,
  not encrypted, XMP ``pdfaid`` part 3 conformance B, the sRGB output intent,
  every font drawn (pages and appearances) embedded, every annotation
  printable and with an appearance, no JavaScript or actions, and the info
  dictionary's producer and dates agreeing with the XMP packet.

Everything here reads the revisions with pikepdf (qpdf parses the report's
two thousand objects in a few milliseconds; pyHanko's parser took over a
hundred) and never raises for a bad file: what it cannot read is a problem,
never a pass. Which objects a revision wrote is pyHanko's reading of the
cross-reference sections (:mod:`reports.inspection`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pikepdf

from reports.layout import SIGNATURE_SLOTS, SignatureSlot
from reports.pdf_reading import PdfContentError, stream_text

__all__ = [
    "Drawn",
    "RevisionChanges",
    "SlotBox",
    "pdfa_problems",
    "rendered_problems",
    "revision_problems",
    "slot_boxes",
]

ObjGen = tuple[int, int]

# What WeasyPrint 70 writes, and nothing more.
_RENDERED_CATALOG_KEYS = frozenset({"/Type", "/Pages", "/Names", "/Outlines", "/Metadata", "/AF",
                                    "/Lang", "/OutputIntents", "/MarkInfo", "/PageLabels"})
_SIGNED_CATALOG_KEYS = frozenset({"/AcroForm", "/Extensions", "/DSS", "/Version"})
_NAME_TREES = frozenset({"/Dests", "/EmbeddedFiles"})
_PAGE_KEYS = frozenset({"/Type", "/Parent", "/MediaBox", "/TrimBox", "/BleedBox", "/CropBox",
                        "/ArtBox", "/Resources", "/Contents", "/Rotate", "/Group"})
_OUTLINE_KEYS = frozenset({"/Type", "/Title", "/Parent", "/Prev", "/Next", "/First", "/Last",
                           "/Count", "/Dest"})
_EXTGSTATE_KEYS = frozenset({"/Type", "/CA", "/ca", "/BM", "/LW", "/LC", "/LJ", "/ML", "/D",
                             "/AIS", "/SA", "/OP", "/op", "/OPM", "/SMask"})
_WIDGET_KEYS = frozenset({"/Type", "/Subtype", "/FT", "/T", "/TU", "/F", "/Rect", "/P", "/AP",
                          "/V", "/Ff"})
_FORM_KEYS = frozenset({"/Fields", "/SigFlags"})
_DSS_KEYS = frozenset({"/Type", "/Certs", "/OCSPs", "/CRLs", "/VRI"})
_VRI_KEYS = frozenset({"/Type", "/Cert", "/OCSP", "/CRL", "/TU", "/TS"})
_CATALOG_KEY_WORDS = {
    "/OCProperties": "optional content (layers a viewer or a printer may show or hide)",
    "/AcroForm": "form fields",
    "/OpenAction": "an action run when the file opens",
    "/AA": "actions run on events",
    "/Perms": "permissions (a certification)",
    "/Collection": "a portable collection",
}
_INFO_SIGNING_KEYS = frozenset({"/ModDate", "/Producer"})
_MAX_DEPTH = 12
_EPSILON = 0.5  # points of tolerance on a slot box (PDF numbers are rounded)

_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do(?![^\s\[\(<])")
_OPTIONAL_CONTENT = re.compile(rb"/OC[\s/<]")
_INLINE_IMAGE = re.compile(rb"(?:^|\s)BI\s")

# annotation flags (PDF 32000-1, 12.5.3)
_INVISIBLE, _HIDDEN, _PRINT, _NO_VIEW, _TOGGLE_NO_VIEW = 1, 2, 4, 32, 256
_NOT_SHOWN = _HIDDEN | _INVISIBLE | _NO_VIEW | _TOGGLE_NO_VIEW


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        return {str(key) for key in obj.keys()}  # noqa: SIM118 - a pikepdf object
    return set()


def _objgen(obj: Any) -> ObjGen | None:
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        objgen: ObjGen = obj.objgen
        return objgen
    return None


def _value(obj: Any) -> Any:
    """A comparable form of a dictionary value: its reference if indirect, else its syntax."""
    if obj is None:
        return None
    if isinstance(obj, pikepdf.Object):
        if obj.is_indirect:
            return ("ref", obj.objgen)
        if isinstance(obj, pikepdf.String):
            return ("text", str(obj))  # the same text, whichever encoding a writer chose
        return obj.unparse()
    return repr(obj)


def _changed_keys(before: Any, after: Any) -> set[str]:
    """The keys whose (unresolved) values differ between two versions of a dictionary."""
    keys = _keys(before) | _keys(after)
    return {key for key in keys if _value(before.get(key)) != _value(after.get(key))}


def _number(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _flag_words(flags: int) -> str:
    on_screen = not flags & (_HIDDEN | _NO_VIEW | _INVISIBLE)
    printed = bool(flags & _PRINT) and not flags & (_HIDDEN | _INVISIBLE)
    if on_screen and printed:
        return "shown on screen and printed"
    if printed:
        return "printed but hidden on screen"
    if on_screen:
        return "shown on screen, not printed"
    return "hidden"


def _annotation_words(annotation: Any) -> str:
    subtype = str(annotation.get("/Subtype", "/?")).lstrip("/")
    flags = _number(annotation.get("/F"))
    name = annotation.get("/T")
    named = f" “{name}”" if name is not None else ""
    return f"a {subtype} annotation{named} ({_flag_words(flags)})"


def _describe(obj: Any) -> str:
    if isinstance(obj, pikepdf.Stream):
        subtype = obj.get("/Subtype")
        if obj.get("/Type") == "/XObject" or subtype in ("/Form", "/Image"):
            return f"a {str(subtype).lstrip('/').lower()} XObject"
        return "a content stream" if subtype is None else f"a stream ({subtype})"
    if isinstance(obj, pikepdf.Dictionary):
        kind = obj.get("/Type") or obj.get("/FT") or obj.get("/Subtype")
        if kind == "/Annot":
            return _annotation_words(obj)
        return f"a {str(kind).lstrip('/')} dictionary" if kind else "a dictionary"
    return f"a {type(obj).__name__}"


def _rect(annotation: Any) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in annotation.get("/Rect", [0, 0, 0, 0]))
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


# ---- what a page draws -------------------------------------------------------------


@dataclass
class Drawn:
    """What the walk over drawn content found: problems, texts of forms, fonts used."""

    problems: list[str] = field(default_factory=list)
    form_texts: list[tuple[str, str]] = field(default_factory=list)
    fonts: dict[Any, Any] = field(default_factory=dict)
    decoded_fonts: dict[Any, Any] = field(default_factory=dict)
    seen: set[Any] = field(default_factory=set)


def _resource_problems(resources: Any, where: str, drawn: Drawn) -> None:
    fonts = resources.get("/Font") or {}
    for name, font in fonts.items():
        if font.get("/Subtype") == "/Type3":
            drawn.problems.append(f"{where} uses a Type 3 font ({name}), whose glyphs are "
                                  "drawings the renderer never writes")
        drawn.fonts[_objgen(font) or id(font)] = font
    for name, pattern in (resources.get("/Pattern") or {}).items():
        if _number(pattern.get("/PatternType")) == 1:
            drawn.problems.append(f"{where} defines a tiling pattern ({name}), which can draw "
                                  "anything where it fills")
    for name, state in (resources.get("/ExtGState") or {}).items():
        extra = _keys(state) - _EXTGSTATE_KEYS
        mask = state.get("/SMask")
        if mask is not None and mask != "/None":
            drawn.problems.append(f"{where} sets a soft mask ({name}), which can hide what is "
                                  "drawn under it")
        if extra:
            drawn.problems.append(f"{where} sets graphics state {name} with "
                                  f"{', '.join(sorted(extra))}, which the renderer never writes")


def _walk(streams: Sequence[Any], resources: Any, where: str, drawn: Drawn, depth: int,
          read_text: bool) -> None:
    """Follow what ``streams`` draw: XObjects they invoke, nested forms, their resources."""
    if depth > _MAX_DEPTH:
        drawn.problems.append(f"{where} nests form XObjects too deep")
        return
    resources = resources if isinstance(resources, pikepdf.Dictionary) else pikepdf.Dictionary()
    _resource_problems(resources, where, drawn)
    data = b"\n".join(stream.read_bytes() for stream in streams)
    # a plain substring search first: the regular expressions run only where it may match
    if b"/OC" in data and _OPTIONAL_CONTENT.search(data):
        drawn.problems.append(f"{where} marks content as optional content, which a viewer or "
                              "a printer may show or hide")
    if b"BI" in data and _INLINE_IMAGE.search(data):
        drawn.problems.append(f"{where} draws an inline image")
    if b"Do" not in data:
        return
    xobjects = resources.get("/XObject") or {}
    for raw_name in dict.fromkeys(_DO.findall(data)):
        name = "/" + raw_name.decode("latin-1")
        xobject = xobjects.get(name)
        if xobject is None:
            drawn.problems.append(f"{where} invokes an XObject it does not define ({name})")
            continue
        subtype = xobject.get("/Subtype")
        label = f"{where}, form XObject {name}"
        if subtype == "/Image":
            drawn.problems.append(f"{where} draws an image ({name}); the report draws none")
            continue
        if subtype != "/Form" or not isinstance(xobject, pikepdf.Stream):
            drawn.problems.append(f"{where} draws an XObject of type {subtype} ({name})")
            continue
        if "/OC" in xobject:
            drawn.problems.append(f"{label} belongs to optional content, which a viewer or a "
                                  "printer may show or hide")
        if "/Ref" in xobject or "/PS" in xobject:
            drawn.problems.append(f"{label} draws content from outside the file")
        key = _objgen(xobject) or id(xobject)
        if key in drawn.seen:
            continue
        drawn.seen.add(key)
        form_resources = xobject.get("/Resources", resources)
        if read_text:
            drawn.form_texts.append((label, stream_text(
                [xobject], form_resources, follow_forms=False, fonts=drawn.decoded_fonts)))
        _walk([xobject], form_resources, label, drawn, depth + 1, read_text)


def _page_streams(page: Any) -> list[Any]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    if isinstance(contents, pikepdf.Array):
        return [part for part in contents if isinstance(part, pikepdf.Stream)]
    return [contents] if isinstance(contents, pikepdf.Stream) else []


def _page_resources(page: Any) -> Any:
    node = page
    for _ in range(_MAX_DEPTH):
        if node is None:
            return None
        if "/Resources" in node:
            return node.get("/Resources")
        node = node.get("/Parent")
    return None


# ---- revision 0: the report as rendered --------------------------------------------


def _outline_problems(root: Any) -> list[str]:
    outlines = root.get("/Outlines")
    if outlines is None:
        return []
    problems: list[str] = []
    stack = [(outlines.get("/First"), 0)]
    visited = 0
    while stack:
        item, depth = stack.pop()
        if item is None:
            continue
        visited += 1
        if depth > _MAX_DEPTH or visited > 10_000:
            return ["the outline (bookmarks) is too large"]
        extra = _keys(item) - _OUTLINE_KEYS
        if extra:
            problems.append(f"an outline entry carries {', '.join(sorted(extra))} (actions), "
                            "which the renderer never writes")
        stack.append((item.get("/Next"), depth))
        stack.append((item.get("/First"), depth + 1))
    return problems


_A4_POINTS = (0.0, 0.0, 595.275591, 841.889764)
"""The page box the renderer writes (A4 in PDF points, as WeasyPrint rounds it)."""
_INHERITED_GEOMETRY = frozenset({"/MediaBox", "/CropBox", "/Rotate"})
"""Page attributes a page inherits from the page tree (ISO 32000-1, table 30)."""


def _geometry_problems(page_dict: Any, number: int) -> list[str]:
    """What about a page's boxes or turn differs from the A4 page the renderer writes.

    A ``/CropBox`` or a smaller ``/MediaBox`` that ends above the banner makes a viewer
    show page 1 without the status in force, and ``/Rotate`` turns it; neither changes
    what the page draws, so only the geometry itself can tell.
    """
    problems: list[str] = []
    for key in ("/MediaBox", "/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
        box = page_dict.get(key)
        if box is None:
            if key == "/MediaBox":
                problems.append(f"page {number}: /MediaBox is missing")
            continue
        try:
            numbers = tuple(float(value) for value in box)
        except (TypeError, ValueError):
            numbers = ()
        if len(numbers) != 4 or any(abs(a - b) > _EPSILON for a, b in zip(numbers, _A4_POINTS,
                                                                          strict=True)):
            shown = ", ".join(f"{value:g}" for value in numbers) or str(box)
            problems.append(f"page {number}: {key} is [{shown}], not the A4 page the renderer "
                            "writes (a box can hide part of the page)")
    rotate = page_dict.get("/Rotate")
    if rotate is not None and rotate != 0:
        problems.append(f"page {number}: /Rotate is {rotate}; the renderer never turns a page")
    return problems


def rendered_problems(document: pikepdf.Pdf, chart_labels: frozenset[str] | None,
                      drawn: Drawn | None = None) -> list[str]:
    """What in the report as rendered (revision 0) is not what the renderer writes.

    ``chart_labels`` (white space removed) are the texts the record's charts
    draw; the text of every form XObject drawn must be one of them (WeasyPrint
    draws each chart label as a form of its own). With ``None`` the text of
    forms is not read. ``drawn`` collects the fonts used, for the PDF/A check.
    """
    drawn = Drawn() if drawn is None else drawn
    problems: list[str] = []
    try:
        root = document.Root
        for key in sorted(_keys(root) - _RENDERED_CATALOG_KEYS):
            what = _CATALOG_KEY_WORDS.get(key, "an entry the renderer never writes")
            problems.append(f"the report's catalog holds {key}: {what}")
        for key in sorted(_keys(root.get("/Names")) - _NAME_TREES):
            what = "JavaScript" if key == "/JavaScript" else "a name tree the renderer never writes"
            problems.append(f"the report's name dictionary holds {key}: {what}")
        problems.extend(_outline_problems(root))
        for key in sorted(_keys(root.get("/Pages")) & _INHERITED_GEOMETRY):
            problems.append(f"the page tree holds {key}, which every page would inherit; the "
                            "renderer sets the geometry on each page only")
        for number, page in enumerate(document.pages, 1):
            page_dict = page.obj
            for annotation in page_dict.get("/Annots") or []:
                problems.append(f"page {number} carries {_annotation_words(annotation)}; the "
                                "renderer writes no annotation")
            for key in sorted(_keys(page_dict) - _PAGE_KEYS - {"/Annots"}):
                problems.append(f"page {number} holds {key}, which the renderer never writes")
            problems.extend(_geometry_problems(page_dict, number))
            contents = page_dict.get("/Contents")
            if isinstance(contents, pikepdf.Array):
                problems.append(f"page {number}: its content is {len(contents)} streams; the "
                                "renderer writes one (a stream added before or after the "
                                "page's own can clip or cover what it draws)")
            elif contents is not None and not isinstance(contents, pikepdf.Stream):
                problems.append(f"page {number}: /Contents is not a content stream")
            _walk(_page_streams(page_dict), _page_resources(page_dict), f"page {number}", drawn,
                  0, chart_labels is not None)
        problems.extend(drawn.problems)
        if chart_labels is not None:
            for where, text in drawn.form_texts:
                compact = "".join(text.split())
                if compact and compact not in chart_labels:
                    problems.append(f"{where} draws “{' '.join(text.split())[:160]}”, which is "
                                    "not a text of the record's charts")
    except PdfContentError as exc:
        problems.append(str(exc))
    except Exception as exc:  # pikepdf raises its own errors on malformed objects
        problems.append(f"the report's structure cannot be read ({exc})")
    return problems


# ---- later revisions: only sprintclear's own signatures ----------------------------


@dataclass(frozen=True, slots=True)
class SlotBox:
    """A signature slot as the rendered report placed it: page and box in PDF points."""

    slot: SignatureSlot
    page_index: int
    box: tuple[float, float, float, float]


def slot_boxes(document: pikepdf.Pdf) -> dict[str, SlotBox]:
    """Each signature slot of the template, by field name, where the renderer placed it."""
    names = document.Root.get("/Names")
    dests = names.get("/Dests") if names is not None else None
    if dests is None:
        return {}
    tree = pikepdf.NameTree(dests)
    pages = {page.obj.objgen: index for index, page in enumerate(document.pages)}
    boxes = {}
    for slot in SIGNATURE_SLOTS:
        if slot.anchor not in tree:
            continue
        destination: Any = tree[slot.anchor]
        if isinstance(destination, pikepdf.Dictionary):
            destination = destination.get("/D")
        if not isinstance(destination, pikepdf.Array) or len(destination) < 4 or \
                destination[1] != "/XYZ":
            continue
        page_index = pages.get(_objgen(destination[0]) or (-1, -1))
        if page_index is None:
            continue
        left, top = float(destination[2]), float(destination[3])
        boxes[slot.field_name] = SlotBox(slot, page_index, (
            left, top - slot.height_pt, left + slot.width_pt, top))
    return boxes


@dataclass(frozen=True)
class RevisionChanges:
    """Which objects a revision wrote (from the cross-reference sections): all, and the new."""

    revision: int
    written: frozenset[ObjGen]
    new: frozenset[ObjGen]
    frees_objects: bool


def _inside(rect: tuple[float, ...], box: tuple[float, ...]) -> bool:
    return (rect[0] >= box[0] - _EPSILON and rect[1] >= box[1] - _EPSILON
            and rect[2] <= box[2] + _EPSILON and rect[3] <= box[3] + _EPSILON)


def _appearance_problems(widget: Any, where: str, expected_text: str, drawn: Drawn) -> list[str]:
    """The widget's appearance: one normal appearance stream, drawing the expected text only."""
    appearance = widget.get("/AP")
    if appearance is None:
        return [f"{where} has no appearance"] if expected_text else []
    problems = []
    extra = _keys(appearance) - {"/N"}
    if extra:
        problems.append(f"{where} has appearances for {', '.join(sorted(extra))} (hover or "
                        "press), which sprintclear never writes")
    normal = appearance.get("/N")
    if not isinstance(normal, pikepdf.Stream):
        return [*problems, f"{where} has appearance states instead of one appearance stream"]
    resources = normal.get("/Resources")
    inner = Drawn(decoded_fonts=drawn.decoded_fonts)
    _walk([normal], resources, f"the appearance of {where}", inner, 0, False)
    problems.extend(inner.problems)
    drawn.fonts.update(inner.fonts)
    shown = " ".join(stream_text([normal], resources, fonts=drawn.decoded_fonts).split())
    if "".join(shown.split()) != expected_text:
        problems.append(f"the appearance of {where} draws “{shown[:160]}”, not sprintclear's "
                        "stamp for its signature" if expected_text else
                        f"the appearance of {where} draws “{shown[:160]}”")
    return problems


def _new_dependencies(obj: Any, new: frozenset[ObjGen], found: set[ObjGen], depth: int = 0
                      ) -> None:
    """The objects written new in a revision that ``obj`` reaches (older ones are not entered)."""
    if depth > 64:
        return
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        items: Iterator[Any] = iter(obj.values())  # a pikepdf object
    elif isinstance(obj, pikepdf.Array):
        items = iter(obj)
    else:
        return
    for item in items:
        key = _objgen(item)
        if key is not None:
            if key not in new or key in found:
                continue
            found.add(key)
        _new_dependencies(item, new, found, depth + 1)


def _field_problems(field_dict: Any, key: ObjGen, where: str,
                    added_annotations: Mapping[ObjGen, int], stamp: tuple[str, SlotBox] | None,
                    drawn: Drawn) -> list[str]:
    """A new signature field: one printable widget in its slot, drawing only its stamp.

    Without ``stamp`` the field is a document timestamp's, whose widget must
    be invisible (a zero-size rectangle) and draw nothing.
    """
    if field_dict.get("/FT") != "/Sig":
        return [f"{where} is a form field of type {field_dict.get('/FT')}, not a signature"]
    kids = field_dict.get("/Kids")
    if kids:
        return [f"{where} has {len(kids)} widgets; a sprintclear signature has one"]
    if field_dict.get("/Subtype") != "/Widget":
        return [f"{where} has no widget of its own"]
    problems = []
    extra = _keys(field_dict) - _WIDGET_KEYS
    if extra:
        problems.append(f"{where} carries {', '.join(sorted(extra))}, which sprintclear never "
                        "writes")
    flags = _number(field_dict.get("/F"))
    rect = _rect(field_dict)
    page_index = added_annotations.get(key)
    if page_index is None:
        problems.append(f"{where} is not added to the annotations of a page")
    if stamp is None:
        if rect[2] - rect[0] > 0 or rect[3] - rect[1] > 0:
            problems.append(f"{where} (a document timestamp) has a visible widget")
        if "/AP" in field_dict:
            problems.extend(_appearance_problems(field_dict, where, "", drawn))
        return problems
    text, slot = stamp
    if not flags & _PRINT or flags & _NOT_SHOWN:
        problems.append(f"{where} is {_flag_words(flags)}; a signature is shown and printed")
    if page_index is not None and page_index != slot.page_index:
        problems.append(f"{where} is on page {page_index + 1}, not on page "
                        f"{slot.page_index + 1} where its slot is")
    if not _inside(rect, slot.box):
        problems.append(f"{where} is drawn at {tuple(round(v) for v in rect)}, outside its "
                        f"slot {tuple(round(v) for v in slot.box)}")
    problems.extend(_appearance_problems(field_dict, where, text, drawn))
    return problems


def _annotation_refs(page: Any) -> list[ObjGen | None]:
    return [_objgen(item) for item in page.get("/Annots") or []]


def revision_problems(before: pikepdf.Pdf, after: pikepdf.Pdf, changes: RevisionChanges, *,
                      signature: Any | None, slots: Mapping[str, SlotBox],
                      expected_slot: str | None, stamp_text: str | None,
                      drawn: Drawn) -> list[str]:
    """What a revision changes beyond what its one allowed purpose needs.

    ``before`` and ``after`` are the document up to the previous revision and
    up to this one; ``signature`` the embedded signature (pyHanko's
    ``EmbeddedPdfSignature``) made in this revision, or ``None``;
    ``expected_slot`` the field name the next approval signature must fill;
    ``stamp_text`` what its appearance must draw (white space removed).
    """
    label = f"revision {changes.revision}"
    problems: list[str] = []
    try:
        if changes.frees_objects:
            problems.append(f"{label} deletes objects")
        before_root, after_root = before.Root, after.Root
        if before_root.objgen != after_root.objgen:
            return [f"{label} replaces the document catalog"]
        info = after.trailer.get("/Info")
        info_key = _objgen(info)
        metadata_key = _objgen(after_root.get("/Metadata"))
        before_form, after_form = before_root.get("/AcroForm"), after_root.get("/AcroForm")
        form_key = _objgen(after_form)
        fields_key = _objgen(after_form.get("/Fields")) if after_form is not None else None
        before_fields = [_objgen(f) for f in (before_form.get("/Fields") or [])] \
            if before_form is not None else []
        after_fields = [_objgen(f) for f in (after_form.get("/Fields") or [])] \
            if after_form is not None else []
        if after_fields[:len(before_fields)] != before_fields:
            problems.append(f"{label} removes or reorders form fields")
        extra_form = _keys(after_form) - _FORM_KEYS
        if extra_form:  # /XFA can replace the pages in some viewers; /NeedAppearances redraws
            problems.append(f"{label} gives the form {', '.join(sorted(extra_form))}, which "
                            "sprintclear never writes")
        new_fields = [key for key in after_fields[len(before_fields):]]
        before_pages = [page.obj for page in before.pages]
        after_pages = [page.obj for page in after.pages]
        if [p.objgen for p in before_pages] != [p.objgen for p in after_pages]:
            return [f"{label} changes the page tree"]
        page_index = {page.objgen: index for index, page in enumerate(after_pages)}
        annots_arrays = {_objgen(page.get("/Annots")): page.objgen for page in after_pages
                         if _objgen(page.get("/Annots")) is not None}
        added_annotations: dict[ObjGen, int] = {}

        def annotation_delta(index: int) -> None:
            old = _annotation_refs(before_pages[index])
            new = _annotation_refs(after_pages[index])
            if None in new:
                problems.append(f"{label} adds an annotation to page {index + 1} that is not an "
                                "object of its own")
            if new[:len(old)] != old:
                problems.append(f"{label} removes or reorders annotations of page {index + 1}")
            for ref in new[len(old):]:
                if ref is not None:
                    added_annotations[ref] = index

        for key in sorted(changes.written - changes.new):
            if key == after_root.objgen:
                for changed in sorted(_changed_keys(before_root, after_root)
                                      - _SIGNED_CATALOG_KEYS):
                    problems.append(f"{label} changes the catalog's {changed}")
            elif key == info_key:
                for changed in sorted(_changed_keys(before.trailer.get("/Info"), info)
                                      - _INFO_SIGNING_KEYS):
                    problems.append(f"{label} changes the document information's {changed}")
            elif key in (metadata_key, fields_key):
                continue  # the XMP packet (checked as PDF/A-3b); the field list (below)
            elif key == form_key:
                changed_form = _changed_keys(before_form, after_form) - {"/Fields", "/SigFlags"}
                if changed_form:
                    problems.append(f"{label} changes the form's "
                                    f"{', '.join(sorted(changed_form))}")
            elif key in page_index:
                index = page_index[key]
                changed_page = _changed_keys(before_pages[index], after_pages[index]) - {"/Annots"}
                if changed_page:
                    problems.append(f"{label} changes page {index + 1}'s "
                                    f"{', '.join(sorted(changed_page))}")
                annotation_delta(index)
            elif key in annots_arrays:
                annotation_delta(page_index[annots_arrays[key]])
            else:
                problems.append(f"{label} changes {_describe(after.get_object(key))} (object "
                                f"{key[0]}), which no signature changes")

        allowed_new: set[ObjGen] = set()
        is_timestamp = signature is not None and signature.sig_object_type == "/DocTimeStamp"
        for position, field_key in enumerate(new_fields):
            if field_key is None or field_key not in changes.new:
                problems.append(f"{label} lists a form field that is not a new object of its own")
                continue
            key = field_key
            field_dict = after.get_object(key)
            allowed_new.add(key)
            _new_dependencies(field_dict, changes.new, allowed_new)
            name = str(field_dict.get("/T", ""))
            where = f"{label}: field “{name}”"
            value = field_dict.get("/V")
            if signature is None or position > 0:
                problems.append(f"{where} is a new form field that no signature fills"
                                if value is None else
                                f"{where} is a second field added with a signature")
                problems.extend(_field_problems(field_dict, key, where, added_annotations,
                                                None, drawn))
                continue
            contents = value.get("/Contents") if isinstance(value, pikepdf.Dictionary) else None
            if name != str(signature.field_name) or contents is None or \
                    bytes(contents) != bytes(signature.pkcs7_content):
                problems.append(f"{where} is not the field of the signature made in this "
                                "revision")
                continue
            if is_timestamp:
                problems.extend(_field_problems(field_dict, key, where, added_annotations,
                                                None, drawn))
                continue
            if name != expected_slot:
                wanted = f"“{expected_slot}”" if expected_slot else "none: every slot is filled"
                problems.append(f"{where} is not the report's next signature slot ({wanted})")
                continue
            slot = slots.get(name)
            if slot is None or stamp_text is None:
                problems.append(f"{where}: the report has no slot box for it")
                continue
            problems.extend(_field_problems(field_dict, key, where, added_annotations,
                                            (stamp_text, slot), drawn))
        if signature is not None and not new_fields:
            problems.append(f"{label} signs without adding its own signature field")
        field_keys = {key for key in new_fields if key is not None}
        for annotation_key, index in added_annotations.items():
            if annotation_key in field_keys:
                continue
            annotation = after.get_object(annotation_key)
            problems.append(f"{label} adds {_describe(annotation)} to page {index + 1}")
            allowed_new.add(annotation_key)
            _new_dependencies(annotation, changes.new, allowed_new)
        for form_part in (form_key, fields_key):
            if form_part is not None:
                allowed_new.add(form_part)
        for entry in ("/DSS", "/Extensions"):
            value = after_root.get(entry)
            if value is not None:
                if _objgen(value) is not None:
                    allowed_new.add(_objgen(value) or (0, 0))
                _new_dependencies(value, changes.new, allowed_new)
        if after_root.get("/DSS") is not None:
            problems.extend(_dss_problems(after_root.get("/DSS"), label))
        for key in sorted(changes.new - allowed_new):
            obj = after.get_object(key)
            if isinstance(obj, pikepdf.Stream) and obj.get("/Type") in ("/XRef", "/ObjStm"):
                continue
            problems.append(f"{label} adds {_describe(obj)} (object {key[0]}) that belongs to "
                            "no signature it makes")
    except PdfContentError as exc:
        problems.append(f"{label}: {exc}")
    except Exception as exc:  # pikepdf raises its own errors on malformed objects
        problems.append(f"{label} cannot be read ({exc})")
    return problems


def _dss_problems(dss: Any, where: str) -> list[str]:
    problems = []
    extra = _keys(dss) - _DSS_KEYS
    if extra:
        problems.append(f"{where}: the validation data (DSS) holds {', '.join(sorted(extra))}")
    for entry in (dss.get("/VRI") or {}).values():
        extra = _keys(entry) - _VRI_KEYS
        if extra:
            problems.append(f"{where}: a validation-data entry (VRI) holds "
                            f"{', '.join(sorted(extra))}")
    return problems


# ---- PDF/A-3b ----------------------------------------------------------------------

_PDFAID_PART = re.compile(rb"pdfaid:part(?:>|=[\"'])\s*3\s*(?:<|[\"'])")
_PDFAID_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:>|=[\"'])\s*B\s*(?:<|[\"'])")
_XMP_PRODUCER = re.compile(rb"pdf:Producer(?:>|=[\"'])([^<\"']*)")
_XMP_MODIFIED = re.compile(rb"xmp:ModifyDate(?:>|=[\"'])([^<\"']*)")
_XMP_TEXTS = {"/Title": re.compile(rb"<dc:title\b.*?<rdf:li[^>]*>(.*?)</rdf:li>", re.S),
              "/Subject": re.compile(rb"<dc:description\b.*?<rdf:li[^>]*>(.*?)</rdf:li>",
                                     re.S)}


def _font_embedded(font: Any) -> bool:
    if font.get("/Subtype") == "/Type0":
        descendants = font.get("/DescendantFonts") or []
        if not descendants:
            return False
        font = descendants[0]
    if font.get("/Subtype") == "/Type3":
        return True
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(key in descriptor for key in (
        "/FontFile", "/FontFile2", "/FontFile3"))


def _pdf_date(value: str) -> dt.datetime | None:
    text = value[2:] if value.startswith("D:") else value
    match = re.match(r"(\d{14})(Z|[+-]\d\d'?\d\d'?)?", text)
    if match is None:
        return None
    moment = dt.datetime.strptime(match.group(1), "%Y%m%d%H%M%S")
    zone = match.group(2) or "Z"
    if zone == "Z":
        return moment.replace(tzinfo=dt.UTC)
    digits = zone.replace("'", "")
    offset = dt.timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
    return moment.replace(tzinfo=dt.timezone(offset if digits[0] == "+" else -offset))


def pdfa_problems(document: pikepdf.Pdf, header: bytes, drawn: Drawn) -> list[str]:
    """Why the file as it stands is no longer PDF/A-3b (empty when it still is).

    ``drawn`` holds the fonts the pages draw (collected by the structure
    checks, which also ensure no later revision changes what a page draws);
    the annotations' appearances are read here.
    """
    problems: list[str] = []
    try:
        if not re.match(rb"%PDF-1\.[0-7]", header):
            problems.append("the file's header is not PDF 1.x")
        if "/Encrypt" in document.trailer:
            problems.append("the file is encrypted")
        root = document.Root
        version = root.get("/Version")
        if version is not None and not str(version).lstrip("/").startswith("1."):
            problems.append(f"the catalog declares PDF version {version}")
        metadata = root.get("/Metadata")
        xmp = metadata.read_bytes() if isinstance(metadata, pikepdf.Stream) else b""
        if not (_PDFAID_PART.search(xmp) and _PDFAID_CONFORMANCE.search(xmp)):
            problems.append("its XMP metadata no longer declares PDF/A-3 conformance B")
        if not any(intent.get("/S") == "/GTS_PDFA1" and "/DestOutputProfile" in intent
                   for intent in root.get("/OutputIntents") or []):
            problems.append("it has no PDF/A output intent with a colour profile")
        for key, words in (("/AA", "actions run on events"),
                           ("/OpenAction", "an action run when the file opens")):
            if key in root:
                problems.append(f"its catalog holds {key} ({words})")
        names = root.get("/Names")
        if names is not None and "/JavaScript" in names:
            problems.append("it holds JavaScript")
        for number, page in enumerate(document.pages, 1):
            for annotation in page.obj.get("/Annots") or []:
                what = f"page {number}'s {_annotation_words(annotation)}"
                flags = _number(annotation.get("/F"))
                rect = _rect(annotation)
                visible = rect[2] > rect[0] and rect[3] > rect[1]
                if visible and (not flags & _PRINT or flags & _NOT_SHOWN):
                    problems.append(f"{what} is not printable as shown")
                if "/A" in annotation or "/AA" in annotation:
                    problems.append(f"{what} carries an action")
                appearance = annotation.get("/AP")
                normal = appearance.get("/N") if appearance is not None else None
                if visible and normal is None:
                    problems.append(f"{what} has no appearance stream")
                if isinstance(normal, pikepdf.Stream):
                    _walk([normal], normal.get("/Resources"), what, drawn, 0, False)
        for font in drawn.fonts.values():
            if not _font_embedded(font):
                problems.append(f"the font {font.get('/BaseFont', '(unnamed)')} is not embedded")
        info = document.trailer.get("/Info")
        if info is not None:
            producer = _XMP_PRODUCER.search(xmp)
            if "/Producer" in info and producer is not None and \
                    str(info.get("/Producer")) != producer.group(1).decode("utf-8", "replace"):
                problems.append("the document information's producer is not the XMP one")
            for key, pattern in _XMP_TEXTS.items():
                found = pattern.search(xmp)
                xmp_text = html.unescape(found.group(1).decode("utf-8", "replace")) \
                    if found else None
                info_text = str(info.get(key)) if key in info else None
                if xmp_text != info_text and (xmp_text or info_text):
                    problems.append(f"the document information's {key.lstrip('/').lower()} "
                                    "is not the XMP one")
            modified = _XMP_MODIFIED.search(xmp)
            if "/ModDate" in info and modified is not None:
                info_date = _pdf_date(str(info.get("/ModDate")))
                try:
                    xmp_date: dt.datetime | None = dt.datetime.fromisoformat(
                        modified.group(1).decode())
                except ValueError:
                    xmp_date = None
                if info_date is None or xmp_date is None or info_date != xmp_date:
                    problems.append("the document information's modification date is not the "
                                    "XMP one")
    except Exception as exc:  # pikepdf raises its own errors on malformed objects
        problems.append(f"its structure cannot be read ({exc})")
    return [f"the file is no longer PDF/A-3b: {problem}" for problem in dict.fromkeys(problems)]
