"""The font of the visible signature block: DejaVu Sans, subset and rescaled to 1000 units/em.

pyHanko's signature appearance must use an embedded TrueType font to keep the
signed file PDF/A, and pyHanko 0.38 lays text out as if the font had 1000
units per em; DejaVu Sans has 2048, which spreads the letters apart. So a copy
of DejaVu Sans, cut down to the scripts a clinician's name is written in
(Latin, Greek, Cyrillic, common punctuation and the symbols of the report),
without OpenType shaping tables (the stamp needs none), and rescaled to 1000
units per em, ships in ``reports/fonts/`` with the
DejaVu licence beside it. Rebuild it with::

    python -m reports.stamp_font /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

The signing step checks that every character of the stamp is in the font
(:func:`missing_characters`) and wraps the text with the font's own advance
widths (:func:`text_width`), so the stamp never shows an empty box for a
letter and never runs out of its frame.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["STAMP_FONT_NAME", "build_stamp_font", "missing_characters", "stamp_font_bytes",
           "stamp_font_path", "text_width", "units_per_em"]

STAMP_FONT_NAME = "DejaVuSans-stamp-1000upem.ttf"

# Unicode ranges kept in the stamp font.
_KEPT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic and its supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese and others)
    (0x2010, 0x206F),  # General punctuation
    (0x20AC, 0x20AC),  # euro sign
    (0x2190, 0x2193),  # arrows
    (0x2264, 0x2265),  # ≤ ≥
    (0x2713, 0x2717),  # ✓ ✗
)


def build_stamp_font(source: Path, target: Path) -> None:
    """Write the subset of ``source`` rescaled to 1000 units per em to ``target``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    font = TTFont(str(source))
    options = subset.Options()
    # The stamp is plain text of precomposed characters: no shaping features. Keeping
    # DejaVu's GSUB/GPOS lookups cost ~40 ms per signature, because pyHanko subsets the
    # font again for each signature appearance and decompiles those tables to do it.
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "kern"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[code for low, high in _KEPT_RANGES
                                 for code in range(low, high + 1)])
    subsetter.subset(font)
    scale_upem(font, 1000)
    font.save(str(target))


def stamp_font_path() -> Path:
    """The shipped stamp font on disk (pyHanko opens it by path)."""
    path = Path(str(resources.files("reports").joinpath("fonts", STAMP_FONT_NAME)))
    if not path.is_file():  # pragma: no cover - a broken installation
        raise FileNotFoundError(f"the signature stamp font is missing: {path}")
    return path


@cache
def stamp_font_bytes() -> bytes:
    """The stamp font file's bytes, read once per process."""
    return stamp_font_path().read_bytes()


@cache
def _metrics() -> tuple[dict[int, str], dict[str, int], int]:
    from fontTools.ttLib import TTFont

    font: Any = TTFont(io.BytesIO(stamp_font_bytes()), lazy=True)
    cmap: dict[int, str] = dict(font.getBestCmap())
    advances = {name: metric[0] for name, metric in font["hmtx"].metrics.items()}
    units_per_em = int(font["head"].unitsPerEm)
    font.close()
    return cmap, advances, units_per_em


def missing_characters(text: str) -> list[str]:
    """The characters of ``text`` the stamp font cannot show (line breaks aside)."""
    cmap = _metrics()[0]
    return sorted({char for char in text if char not in "\r\n" and ord(char) not in cmap})


def text_width(text: str, font_size: float) -> float:
    """The width of ``text`` set in the stamp font at ``font_size``, in points."""
    cmap, advances, units_per_em = _metrics()
    units = sum(advances.get(cmap.get(ord(char), ".notdef"), units_per_em) for char in text)
    return units * font_size / units_per_em


def units_per_em() -> int:
    """The stamp font's units per em (1000: what pyHanko's layout assumes)."""
    return _metrics()[2]


def _main(arguments: Iterable[str]) -> int:  # pragma: no cover - a maintenance command
    args = list(arguments)
    if len(args) != 1:
        print("usage: python -m reports.stamp_font PATH/TO/DejaVuSans.ttf", file=sys.stderr)
        return 2
    target = Path(__file__).resolve().parent / "fonts" / STAMP_FONT_NAME
    build_stamp_font(Path(args[0]), target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main(sys.argv[1:]))
