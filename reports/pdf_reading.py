"""Reading what a report PDF holds, with pyHanko's parser: pages, slots, the record, the text.

Signing and verification read a report through these helpers:

- :func:`page_objects` and :func:`named_destinations`: where each signature
  slot of the template landed (WeasyPrint writes every HTML ``id`` as a named
  destination with its page and top-left corner);
- :func:`record_attachment`: the embedded record, found only as the associated
  file the report declares (in the catalog's ``/AF`` array, with
  ``/AFRelationship /Data``, under the record's file name), exactly once;
- :func:`page_texts`: the text each page shows, decoded through the fonts'
  ``/ToUnicode`` maps. It follows the text operators of the page content and
  of the form XObjects it draws; a string it cannot decode becomes U+FFFD,
  so anything it does not understand can only make a check fail, never pass.

Every function raises :class:`PdfContentError` when the document does not hold
what is asked for; callers turn that into a reason (verification) or a
:class:`~rules.errors.ReportInputError` (signing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pikepdf
from pyhanko.pdf_utils import generic

from reports.record import RECORD_FILENAME, ReportRecord

__all__ = [
    "Destination",
    "PdfContentError",
    "named_destinations",
    "normalise_text",
    "page_objects",
    "page_texts",
    "read_record",
    "record_attachment",
    "stream_bytes",
    "stream_text",
]

_MAX_DEPTH = 16
_MAX_NAME_TREE_NODES = 10_000


class PdfContentError(Exception):
    """The document does not hold what was looked for; the message says what."""


@dataclass(frozen=True, slots=True)
class Destination:
    page_index: int
    left: float
    top: float


def _resolve(obj: Any) -> Any:
    if isinstance(obj, generic.IndirectObject):
        return cast(Any, obj).get_object()
    return obj


def _page_leaves(node: Any, depth: int = 0) -> Iterator[tuple[Any, Any]]:
    """(reference, page dictionary) of every page under a page-tree node, in order."""
    if depth > _MAX_DEPTH:
        raise PdfContentError("the page tree is too deep")
    for kid_ref in _resolve(node).get("/Kids", []):
        kid = _resolve(kid_ref)
        if kid.get("/Type") == "/Pages":
            yield from _page_leaves(kid, depth + 1)
        else:
            yield kid_ref, kid


def stream_bytes(stream: Any) -> bytes:
    """The decoded data of a stream object, read with pyHanko's parser or with pikepdf."""
    if isinstance(stream, pikepdf.Stream):
        decoded: bytes = stream.read_bytes()
        return decoded
    data: bytes = stream.data
    return data


def _is_array(obj: Any) -> bool:
    return isinstance(obj, generic.ArrayObject | pikepdf.Array)


def _reference_key(ref: Any) -> tuple[int, int] | None:
    if isinstance(ref, generic.IndirectObject):
        return ref.idnum, ref.generation
    return None


def page_objects(root: Any) -> list[Any]:
    """The page dictionaries of a document, in page order."""
    try:
        return [page for _, page in _page_leaves(root["/Pages"])]
    except (KeyError, TypeError, AttributeError) as exc:
        raise PdfContentError(f"the page tree cannot be read ({exc})") from exc


def _name_tree(node: Any, depth: int = 0, seen: list[int] | None = None) -> Iterator[
        tuple[str, Any]]:
    seen = [] if seen is None else seen
    if depth > _MAX_DEPTH or len(seen) > _MAX_NAME_TREE_NODES:
        raise PdfContentError("a name tree is too large")
    seen.append(1)
    node = _resolve(node)
    names = node.get("/Names")
    if names is not None:
        names = _resolve(names)
        for index in range(0, len(names) - 1, 2):
            yield str(_resolve(names[index])), names[index + 1]
    for kid in node.get("/Kids", []):
        yield from _name_tree(kid, depth + 1, seen)


def named_destinations(root: Any) -> dict[str, Destination]:
    """Every named ``/XYZ`` destination: its page index and top-left corner (PDF points)."""
    index_by_ref = {}
    for index, (ref, _) in enumerate(_page_leaves(root["/Pages"])):
        key = _reference_key(ref)
        if key is not None:
            index_by_ref[key] = index
    destinations: dict[str, Destination] = {}
    names = root.get("/Names")
    dests = _resolve(names).get("/Dests") if names is not None else None
    if dests is None:
        return destinations
    for name, value in _name_tree(dests):
        value = _resolve(value)
        if isinstance(value, generic.DictionaryObject):
            value = _resolve(value.get("/D"))
        if not isinstance(value, generic.ArrayObject) or len(value) < 4:
            continue
        page_index = index_by_ref.get(_reference_key(value.raw_get(0)) or (-1, -1))
        if page_index is None or value[1] != "/XYZ":
            continue
        destinations[name] = Destination(page_index, float(value[2]), float(value[3]))
    return destinations


def _same_object(first: Any, second: Any) -> bool:
    """The same PDF object: by object number when pikepdf read both, else by identity or value."""
    objgens = (getattr(first, "objgen", None), getattr(second, "objgen", None))
    if objgens[0] and objgens[1] and objgens[0] != (0, 0):
        return bool(objgens[0] == objgens[1])
    return first is second or bool(first == second)


def record_attachment(root: Any) -> bytes:
    """The bytes of the embedded record: the one associated file named for it, relationship Data.

    Refuses a document whose record is missing, given twice, not declared as
    an associated file of the document, or declared with another relationship.
    """
    names = root.get("/Names")
    embedded = _resolve(names).get("/EmbeddedFiles") if names is not None else None
    if embedded is None:
        raise PdfContentError(f"the report holds no embedded record ({RECORD_FILENAME})")
    candidates = [(name, _resolve(spec)) for name, spec in _name_tree(embedded)]
    records = [(name, spec) for name, spec in candidates
               if name == RECORD_FILENAME or str(spec.get("/UF", "")) == RECORD_FILENAME
               or str(spec.get("/F", "")) == RECORD_FILENAME]
    if not records:
        raise PdfContentError(f"the report holds no embedded record ({RECORD_FILENAME})")
    if len(records) > 1 or len(candidates) > 1:
        raise PdfContentError(f"the report holds {len(candidates)} embedded files; a report "
                              f"holds exactly one, its record ({RECORD_FILENAME})")
    _, spec = records[0]
    associated = [_resolve(item) for item in _resolve(root.get("/AF")) or []]
    if not any(_same_object(item, spec) for item in associated):
        raise PdfContentError("the embedded record is not declared as an associated file of "
                              "the document (/AF)")
    if spec.get("/AFRelationship") != "/Data":
        raise PdfContentError("the embedded record is not declared with /AFRelationship /Data")
    try:
        stream = _resolve(_resolve(spec["/EF"])["/F"])
        data: bytes = stream_bytes(stream)
    except (KeyError, TypeError, AttributeError) as exc:
        raise PdfContentError(f"the embedded record cannot be read ({exc})") from exc
    return data


def read_record(pdf: bytes) -> ReportRecord:
    """The record of a report file as its latest revision declares it (not verified).

    For summaries only (what a command just wrote or signed); verification
    reads the record from the signed revision instead.
    """
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        return ReportRecord.from_bytes(record_attachment(reader.root))
    except PdfContentError:
        raise
    except Exception as exc:  # pyHanko's parser, JSON: what cannot be read is an error
        raise PdfContentError(f"the report's record cannot be read ({exc})") from exc


# ---- text --------------------------------------------------------------------


_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def _parse_cmap(data: bytes) -> tuple[dict[bytes, str], int]:
    """A /ToUnicode CMap: code bytes → text, and the code length in bytes."""
    text = data.decode("latin-1")
    mapping: dict[bytes, str] = {}
    widths = {len(m) // 2 for m in re.findall(
        r"<([0-9A-Fa-f]+)>\s*<[0-9A-Fa-f]+>",
        "".join(re.findall(r"begincodespacerange(.*?)endcodespacerange", text, re.S)))}
    code_length = widths.pop() if len(widths) == 1 else 2

    def unicode_of(hex_text: str) -> str:
        raw = bytes.fromhex(hex_text)
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for source, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[bytes.fromhex(source)] = unicode_of(target)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for low, high, rest in re.findall(
                r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block):
            start, end = int(low, 16), int(high, 16)
            if end - start > 65535:
                continue
            width = len(low) // 2
            if rest.startswith("["):
                targets = re.findall(r"<([0-9A-Fa-f]*)>", rest)
                for offset, target in enumerate(targets[: end - start + 1]):
                    mapping[(start + offset).to_bytes(width, "big")] = unicode_of(target)
            else:
                base = bytes.fromhex(rest[1:-1])
                for offset in range(end - start + 1):
                    value = int.from_bytes(base, "big") + offset
                    target = value.to_bytes(len(base), "big").hex()
                    mapping[(start + offset).to_bytes(width, "big")] = unicode_of(target)
    return mapping, code_length


class _Font:
    def __init__(self, font: Any) -> None:
        self.mapping: dict[bytes, str] = {}
        self.code_length = 1
        to_unicode = font.get("/ToUnicode") if font is not None else None
        if to_unicode is not None:
            self.mapping, self.code_length = _parse_cmap(stream_bytes(_resolve(to_unicode)))
        elif font is not None and font.get("/Subtype") == "/Type0":
            self.code_length = 2

    def decode(self, data: bytes) -> str:
        step = self.code_length
        return "".join(self.mapping.get(data[i:i + step], "\ufffd")
                       for i in range(0, len(data) - step + 1, step))


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f",
            b"(": b"(", b")": b")", b"\\": b"\\"}
_LITERAL_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\r\n]|.)", re.S)


def _literal(body: bytes) -> bytes:
    """The bytes of a literal string's body (the part between its parentheses)."""
    def unescape(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        if code in (b"\r\n", b"\r", b"\n"):
            return b""
        return _ESCAPES.get(code, code)
    return _LITERAL_ESCAPE.sub(unescape, body)


def _hex(body: bytes) -> bytes:
    digits = re.sub(rb"\s", b"", body)
    return bytes.fromhex((digits + b"0" if len(digits) % 2 else digits).decode("ascii"))


# Text objects (BT … ET) and XObject calls (/Name Do); everything else (paths, images,
# colours) is skipped without being tokenised. Text is written with hex strings by
# WeasyPrint and pyHanko; a literal string holding "ET" would end the slice early and
# lose text, which can only make a check fail.
_BEFORE = rb"(?:(?<=[\s\]\)>])|^)"
_AFTER = rb"(?=[\s\[\(<]|$)"
_TEXT_OR_XOBJECT = re.compile(
    _BEFORE + rb"BT" + _AFTER + rb"(.*?)" + _BEFORE + rb"ET" + _AFTER
    + rb"|(/[^\s\x00()<>\[\]{}/%]+)\s+Do" + _AFTER, re.S)


# A string operand: <hex> or (literal without unbalanced parentheses).
_STRING = rb"<([0-9A-Fa-f\s]*)>|\(((?:\\.|[^\\()])*)\)"
_STRING_RE = re.compile(_STRING, re.S)
# Inside a text object: font selection, the four text-showing operators, and the
# operators that start a new line (shown as a line break).
_TEXT_OPERATION = re.compile(
    rb"(/[^\s\x00()<>\[\]{}/%]+)\s+[-+.\d]+\s+Tf(?![^\s\[\(<])"
    rb"|\[((?:" + _STRING + rb"|[^\]\(<])*)\]\s*TJ(?![^\s\[\(<])"
    rb"|(?:" + _STRING + rb")\s*(Tj|'|\")(?![^\s\[\(<])"
    rb"|(?<![^\s\]\)>])(Td|TD|Tm|T\*)(?![^\s\[\(<])", re.S)


_HEX_ITEM = re.compile(rb"<([0-9A-Fa-f]*)>")


def _array_bytes(array: bytes) -> bytes:
    """The bytes of the strings of a TJ array (its numbers, the kerning, are skipped)."""
    if b"(" not in array:
        items = _HEX_ITEM.findall(array)
        # fast path: every string is plain hex of whole bytes (what WeasyPrint writes)
        if len(items) == array.count(b"<") and all(len(item) % 2 == 0 for item in items):
            return bytes.fromhex(b"".join(items).decode("ascii"))
    return b"".join(
        _hex(item.group(1)) if item.group(1) is not None else _literal(item.group(2))
        for item in _STRING_RE.finditer(array))


# The operators of a content stream without literal strings (what WeasyPrint and pyHanko
# write: hex strings only), read in one pass: text object starts, font selections, the
# text-showing operators with hex strings, new lines, and XObject calls.
_HEX_ONLY_OPERATION = re.compile(
    rb"(?<![^\s\]>])(BT)(?![^\s\[<])"
    rb"|(/[^\s\x00()<>\[\]{}/%]+)\s+[-+.\d]+\s+Tf(?![^\s\[<])"
    rb"|\[([0-9A-Fa-f<>\s.+\-]*)\]\s*TJ(?![^\s\[<])"
    rb"|<([0-9A-Fa-f\s]*)>\s*(Tj|'|\")(?![^\s\[<])"
    rb"|(?<![^\s\]>])(Td|TD|Tm|T\*)(?![^\s\[<])"
    rb"|(/[^\s\x00()<>\[\]{}/%]+)\s*Do(?![^\s\[<])")


def _hex_only_operations(data: bytes) -> Iterator[tuple[str, Any]]:
    """:func:`_text_operations` for a stream without literal strings, in one regex pass."""
    for match in _HEX_ONLY_OPERATION.finditer(data):
        begin, font, array, hex_body, shown, line, xobject = match.groups()
        if begin is not None or line is not None:
            yield "line", None
        elif font is not None:
            yield "font", font.decode("latin-1")
        elif array is not None:
            yield "show", _array_bytes(array)
        elif shown is not None:
            if shown != b"Tj":
                yield "line", None
            yield "show", _hex(hex_body)
        elif xobject is not None:
            yield "xobject", xobject.decode("latin-1")


def _text_operations(data: bytes) -> Iterator[tuple[str, Any]]:
    """("font", name), ("show", bytes), ("line", None) and ("xobject", name), in order."""
    if b"(" not in data:
        yield from _hex_only_operations(data)
        return
    for match in _TEXT_OR_XOBJECT.finditer(data):
        if match.group(2) is not None:
            yield "xobject", match.group(2).decode("latin-1")
            continue
        yield "line", None
        for operation in _TEXT_OPERATION.finditer(match.group(1)):
            font, array, hex_body, literal_body, shown, line = (
                operation.group(1), operation.group(2), operation.group(5),
                operation.group(6), operation.group(7), operation.group(8))
            if font is not None:
                yield "font", font.decode("latin-1")
            elif array is not None:
                yield "show", _array_bytes(array)
            elif shown is not None:
                if shown != b"Tj":
                    yield "line", None
                yield "show", _hex(hex_body) if hex_body is not None else _literal(literal_body)
            elif line is not None:
                yield "line", None


def _stream_parts(contents: Any) -> list[Any]:
    contents = _resolve(contents)
    if contents is None:
        return []
    if _is_array(contents):
        return [_resolve(part) for part in contents]
    return [contents]


def _show_text(contents: list[Any], resources: Any, out: list[str], depth: int,
               fonts: dict[Any, _Font], follow_forms: bool) -> None:
    """Append the text drawn by ``contents`` (streams) to ``out``."""
    if depth > _MAX_DEPTH:
        raise PdfContentError("form XObjects are nested too deep")
    resources = _resolve(resources) or {}
    font_resources = _resolve(resources.get("/Font")) or {}
    xobjects = _resolve(resources.get("/XObject")) or {}
    font: _Font | None = None
    data = b"\n".join(stream_bytes(part) for part in contents)
    for kind, value in _text_operations(data):
        if kind == "line":
            out.append("\n")
        elif kind == "font":
            font_dict = _resolve(font_resources.get(value))
            objgen = getattr(font_dict, "objgen", None)
            key = objgen if objgen and objgen != (0, 0) else id(font_dict)
            if key not in fonts:
                fonts[key] = _Font(font_dict)
            font = fonts[key]
        elif kind == "show":
            out.append(font.decode(value) if font else "\ufffd")
        elif kind == "xobject" and follow_forms:
            xobject = _resolve(xobjects.get(value))
            if xobject is not None and xobject.get("/Subtype") == "/Form":
                _show_text([xobject], xobject.get("/Resources", resources), out, depth + 1,
                           fonts, follow_forms)


def _page_resources(page: Any) -> Any:
    node = page
    for _ in range(_MAX_DEPTH):
        if node is None:
            return None
        resources = node.get("/Resources")
        if resources is not None:
            return resources
        node = _resolve(node.get("/Parent"))
    return None


def page_texts(root: Any, *, follow_forms: bool = True) -> list[str]:
    """The text each page shows, in content order (``\\n`` between text objects).

    With ``follow_forms=False`` only the page's own content streams are read,
    not the form XObjects they draw (WeasyPrint draws the charts as forms and
    the report's running text, footer included, in the page stream).
    """
    texts = []
    fonts: dict[Any, _Font] = {}
    for page in page_objects(root):
        out: list[str] = []
        try:
            _show_text(_stream_parts(page.get("/Contents")), _page_resources(page), out, 0,
                       fonts, follow_forms)
        except PdfContentError:
            raise
        except Exception as exc:  # a content stream pyHanko cannot parse
            raise PdfContentError(f"the text of a page cannot be read ({exc})") from exc
        texts.append("".join(out))
    return texts


def stream_text(streams: list[Any], resources: Any, *, follow_forms: bool = True,
                fonts: dict[Any, Any] | None = None) -> str:
    """The text drawn by content streams (a page's, a form XObject's, an appearance's).

    ``\\n`` separates text objects (BT … ET). Resources are those of the
    streams; nested form XObjects are followed unless ``follow_forms`` is false.
    Works on pyHanko's objects and on pikepdf's; ``fonts`` is a cache of the
    decoded fonts to share between calls on the same document.
    """
    out: list[str] = []
    try:
        _show_text(streams, resources, out, 0, {} if fonts is None else fonts, follow_forms)
    except PdfContentError:
        raise
    except Exception as exc:  # a content stream pyHanko cannot parse
        raise PdfContentError(f"the text of a content stream cannot be read ({exc})") from exc
    return "".join(out)


def normalise_text(text: str) -> str:
    """Whitespace runs (line breaks included) as single spaces, for matching printed lines."""
    return " ".join(text.split())
