"""The report's fonts: shipped inside the package, the only ones the renderer sees.

WeasyPrint finds fonts through fontconfig, which on its own reads the host's
configuration: a missing glyph silently falls back to whatever font the host
has (or is drawn as glyph 0, ``.notdef``, a box), and the same decision gives
different bytes on different machines. So the report is set only in the
DejaVu fonts that ship in ``reports/fonts/`` (with their licence), through a
private fontconfig configuration that holds those files and nothing else
(:class:`ShippedFontConfiguration`); the host's fonts are never consulted.

The shipped files are DejaVu Sans, DejaVu Sans Bold and DejaVu Sans Mono, cut
down to the scripts a clinic in Europe writes names in (:data:`SCRIPTS`:
Latin with every European and the Vietnamese letters, Greek, Cyrillic) plus
the punctuation and symbols the report prints. :func:`unprintable` says which
characters of a text those fonts cannot draw (the report refuses them,
naming the field and the character, before anything is rendered). Rebuild
the files from Debian's ``fonts-dejavu-core`` with::

    python -m reports.typography /usr/share/fonts/truetype/dejavu
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "FONT_FILES",
    "SCRIPTS",
    "ShippedFontConfiguration",
    "build_fonts",
    "describe_character",
    "fonts_directory",
    "printable_characters",
    "unprintable",
    "unprintable_in",
]

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
"""The faces the stylesheet uses: text (regular and bold), and hashes (monospaced)."""

SCRIPTS = "Latin (with Polish, Turkish and Vietnamese letters), Greek and Cyrillic"
"""What the shipped fonts cover, in words (printed in refusals)."""

# The Unicode blocks kept in the shipped fonts (DejaVu has most of each).
_KEPT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0250, 0x02FF),  # IPA extensions, spacing modifier letters
    (0x0300, 0x036F),  # combining diacritical marks (Vietnamese written decomposed)
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x052F),  # Cyrillic and Cyrillic Supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x1F00, 0x1FFF),  # Greek Extended (polytonic)
    (0x2000, 0x206F),  # General Punctuation
    (0x2070, 0x20CF),  # super- and subscripts, currency signs
    (0x2100, 0x214F),  # letterlike symbols (№, ℃)
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (≥ ≤ ± ×)
    (0x25A0, 0x25FF),  # geometric shapes
    (0x2600, 0x26FF),  # miscellaneous symbols (⚠)
    (0x2700, 0x27BF),  # dingbats (✓ ✗)
    (0xFB00, 0xFB06),  # Latin ligatures
)

# Characters that are never drawn (layout controls); HTML collapses the white space.
_NOT_DRAWN = frozenset("\t\n\r\u00ad\u200b\u200c\u200d\u2060\ufeff")


def fonts_directory() -> Path:
    """The folder of the shipped font files."""
    return Path(str(resources.files("reports").joinpath("fonts")))


@cache
def _font_paths() -> tuple[Path, ...]:
    directory = fonts_directory()
    paths = tuple(directory / name for name in FONT_FILES)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:  # pragma: no cover - a broken installation
        raise FileNotFoundError("the report's fonts are missing: " + ", ".join(missing))
    return paths


@cache
def printable_characters() -> frozenset[int]:
    """Code points both text faces (regular and bold) can draw: what the report may print."""
    from fontTools.ttLib import TTFont

    covered: frozenset[int] | None = None
    for path in _font_paths()[:2]:
        font: Any = TTFont(str(path), lazy=True)
        codes = frozenset(font.getBestCmap())
        font.close()
        covered = codes if covered is None else covered & codes
    assert covered is not None
    return covered


def unprintable(text: str) -> list[str]:
    """The distinct characters of ``text`` the report's fonts cannot draw, in order of use."""
    covered = printable_characters()
    found: dict[str, None] = {}
    for char in text:
        if ord(char) not in covered and char not in _NOT_DRAWN and char not in found:
            found[char] = None
    return list(found)


def describe_character(char: str) -> str:
    """``U+210C1 (no name)`` / ``U+738B CJK UNIFIED IDEOGRAPH-738B ‘王’``: a character in words."""
    name = unicodedata.name(char, "")
    shown = f" ‘{char}’" if char.isprintable() else ""
    return f"U+{ord(char):04X}{' ' + name if name else ''}{shown}"


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def unprintable_in(document: Any, *, prefix: str = "") -> list[str]:
    """One problem per string field of ``document`` (nested JSON) holding characters the fonts lack.

    Each names the field by its dotted path and every character it cannot
    print, e.g. ``athlete.name: U+738B CJK UNIFIED IDEOGRAPH-738B ‘王’ is not in
    the report's fonts (…)``.
    """
    problems = []
    for path, text in _strings(document, prefix):
        missing = unprintable(text)
        if missing:
            problems.append(f"{path or 'text'}: " + ", ".join(describe_character(c)
                                                            for c in missing)
                            + f" cannot be printed; the report's fonts cover {SCRIPTS}")
    return problems


class ShippedFontConfiguration:
    """A WeasyPrint font configuration that holds the shipped fonts and nothing else.

    It stands in for :class:`weasyprint.text.fonts.FontConfiguration`, whose
    constructor loads the host's fontconfig set-up: this one builds an empty
    fontconfig configuration, adds the shipped font files to it, and gives it
    to the Pango font map, so layout can only ever pick a shipped font.
    """

    def __new__(cls) -> Any:
        from weasyprint.text import ffi as weasy_ffi
        from weasyprint.text.fonts import FontConfiguration

        ffi, fontconfig = weasy_ffi.ffi, weasy_ffi.fontconfig
        _declare_config_create(ffi)
        configuration: Any = FontConfiguration.__new__(FontConfiguration)
        config = fontconfig.FcConfigCreate()
        for path in _font_paths():
            if not fontconfig.FcConfigAppFontAddFile(config, str(path).encode()):
                raise RuntimeError(f"fontconfig cannot read the shipped font {path}")
        configuration._config = config
        configuration.font_map = ffi.gc(weasy_ffi.pangoft2.pango_ft2_font_map_new(),
                                        weasy_ffi.gobject.g_object_unref)
        weasy_ffi.pangoft2.pango_fc_font_map_set_config(
            ffi.cast("PangoFcFontMap *", configuration.font_map), config)
        fontconfig.FcConfigDestroy(config)  # the font map keeps its own reference
        configuration._folder = None
        configuration.strut_layouts = {}
        configuration.font_features = {}
        return configuration


_DECLARED: list[bool] = []


def _declare_config_create(ffi: Any) -> None:
    """Declare ``FcConfigCreate`` to WeasyPrint's cffi binding of fontconfig (once)."""
    if not _DECLARED:
        ffi.cdef("FcConfig * FcConfigCreate (void);")
        _DECLARED.append(True)


def build_fonts(source: Path, target: Path) -> None:
    """Write the shipped subsets of the DejaVu files in ``source`` to ``target``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    unicodes = [code for low, high in _KEPT_RANGES for code in range(low, high + 1)]
    for name in FONT_FILES:
        font = TTFont(str(source / name))
        options = subset.Options()
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.glyph_names = False
        options.hinting = False  # a PDF is not rasterised by the renderer
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        font.save(str(target / name))


def _main(arguments: Iterable[str]) -> int:  # pragma: no cover - a maintenance command
    args = list(arguments)
    if len(args) != 1:
        print("usage: python -m reports.typography /usr/share/fonts/truetype/dejavu",
              file=sys.stderr)
        return 2
    build_fonts(Path(args[0]), Path(__file__).resolve().parent / "fonts")
    print(f"wrote {', '.join(FONT_FILES)} to {Path(__file__).resolve().parent / 'fonts'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main(sys.argv[1:]))
