"""The report's own fonts: every character drawn from them (never a .notdef box), the same bytes
on any host, and whatever they cannot draw refused before rendering, naming field and character."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from support import EXAMPLES, REPO, varied

from reports import render_report_pdf
from reports.html import prepare_report
from reports.pdf_reading import _text_operations
from reports.typography import fonts_directory, unprintable
from rules.errors import ReportInputError

ALPHABETS = {
    "Polish": "AĄBCĆDEĘFGHIJKLŁMNŃOÓPRSŚTUWYZŹŻ aąbcćdeęfghijklłmnńoóprsśtuwyzźż",
    "Turkish": "ABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZ abcçdefgğhıijklmnoöprsştuüvyz",
    "Vietnamese": "ĂÂĐÊÔƠƯ ăâđêôơư àảãáạ ằẳẵắặ ầẩẫấậ èẻẽéẹ ềểễếệ ìỉĩíị òỏõóọ ồổỗốộ ờởỡớợ "
                  "ùủũúụ ừửữứự ỳỷỹýỵ",
    "Greek": "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ αβγδεζηθικλμνξοπρσςτυφχψω άέήίόύώϊϋΐΰ",
    "Cyrillic": "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгдеёжзийклмнопрстуфхцчшщъыьэюя "
                "ЄІЇҐЂЈЉЊЋЏ єіїґђјљњћџ",
}

HOSTILE = {
    "athlete.name": "Grzegorz Brzęczyszczykiewicz-Şükrüoğlu",
    "athlete.sport": "Nguyễn Thị Ánh Tuyết · Nguye\u0302\u0303n (decomposed)",
    "athlete.position": "Ψάρρας Γιώργος / Жуков Щербаков / Ștefan Țurcanu",
    "assessment.assessor": "Dr. Zoë Ødegård-Łukasiewicz, İğdır «Ærø» – ½ “quoted” ‘x’",
}


def test_the_shipped_fonts_cover_latin_greek_and_cyrillic() -> None:
    """Polish, Turkish and Vietnamese Latin, Greek and Cyrillic: every letter is printable."""
    for script, letters in ALPHABETS.items():
        assert unprintable(letters) == [], script
    assert unprintable("王😀\U000210C1⚽") == ["王", "😀", "\U000210C1", "⚽"]


def test_the_fonts_ship_with_their_licence() -> None:
    """The three DejaVu faces and the licence that allows shipping them are in the package."""
    folder = fonts_directory()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        font = TTFont(str(folder / name))
        assert font["name"].getDebugName(1).startswith("DejaVu Sans")
    assert "Bitstream Vera" in (folder / "LICENSE-DejaVu.txt").read_text("utf-8")


def _notdef_glyphs(pdf: bytes) -> list[str]:
    """Where a page or form draws glyph 0 (.notdef) of a CID font: (page, font) pairs."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, 1):
            streams = [(page.obj.Contents, page.Resources)]
            streams += [(x, x.get("/Resources", page.Resources))
                        for x in page.Resources.get("/XObject", {}).values()]
            for stream, resources in streams:
                fonts = resources.get("/Font", {})
                font = None
                for kind, value in _text_operations(stream.read_bytes()):
                    if kind == "font":
                        font = fonts.get(value)
                    elif kind == "show" and font is not None and font.Subtype == "/Type0":
                        codes = [value[i:i + 2] for i in range(0, len(value) - 1, 2)]
                        if b"\x00\x00" in codes:
                            found.append(f"page {number}: {font.BaseFont}")
    return found


@pytest.fixture(scope="module")
def hostile(decide_document: Any, example: Any, clock: Any, quiet: Any) -> bytes:
    """The winger's report with hostile names in every free-text field."""
    document = varied(example("hamstring-winger-cleared-to-sprint"), HOSTILE)
    decision, assessment = decide_document(document)
    with quiet():
        return render_report_pdf(decision, assessment, generated_at=clock)


def test_no_example_and_no_hostile_name_draws_a_notdef_box(
        examples: dict[str, Any], hostile: bytes, pdftotext: Any) -> None:
    """Every glyph drawn in every example and in the hostile report is a real glyph."""
    for name, rendered in examples.items():
        assert _notdef_glyphs(rendered.pdf) == [], name
    assert _notdef_glyphs(hostile) == []
    text = " ".join(pdftotext(hostile, 1).split())
    for word in ("Brzęczyszczykiewicz", "Şükrüoğlu", "Nguyễn Thị Ánh Tuyết", "Ψάρρας Γιώργος",
                 "Жуков Щербаков", "Ștefan Țurcanu", "Ødegård", "İğdır"):
        assert word in text, word


_RENDER = textwrap.dedent("""
    import datetime as dt, json, sys
    from engine import decide, parse_assessment
    from reports import render_report_pdf
    document = json.loads(sys.stdin.read())
    at = dt.datetime(2026, 3, 10, 14, 5, tzinfo=dt.UTC)
    decision = decide(document, evaluated_at=at)
    sys.stdout.buffer.write(render_report_pdf(
        decision, parse_assessment(document).document, generated_at=at))
""")


def _decoy_fonts(folder: Path) -> Path:
    """A fontconfig set-up whose "DejaVu Sans" is another typeface (DejaVu Serif, renamed)."""
    from fontTools.ttLib import TTFont as Font

    serif = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
    folder.mkdir()
    if serif.is_file():
        font = Font(str(serif))
        for record in font["name"].names:
            if record.nameID in (1, 4, 16):
                record.string = "DejaVu Sans"
        font.save(str(folder / "decoy.ttf"))
    config = folder / "fonts.conf"
    config.write_text(f"<?xml version='1.0'?><fontconfig><dir>{folder}</dir>"
                      f"<cachedir>{folder / 'cache'}</cachedir></fontconfig>")
    return config


def test_the_same_decision_gives_the_same_bytes_on_another_hosts_fonts(
        tmp_path: Path, hostile: bytes, example: Any) -> None:
    """Rendered with no host fonts at all, and with a decoy "DejaVu Sans": identical files."""
    document = json.dumps(varied(example("hamstring-winger-cleared-to-sprint"), HOSTILE))
    empty = tmp_path / "empty.conf"
    empty.write_text("<?xml version='1.0'?><fontconfig></fontconfig>")
    outputs = []
    for config in (empty, _decoy_fonts(tmp_path / "decoy")):
        environment = {"FONTCONFIG_FILE": str(config), "PATH": "/usr/bin:/bin",
                       "HOME": str(tmp_path)}
        result = subprocess.run([sys.executable, "-c", _RENDER], input=document.encode(),
                                capture_output=True, cwd=REPO, env=environment, timeout=180)
        assert result.returncode == 0, result.stderr.decode()
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == hostile


@pytest.mark.parametrize(("field", "value", "named"), [
    ("athlete.name", "Wáng 王小明", "athlete.name: U+738B CJK UNIFIED IDEOGRAPH-738B ‘王’"),
    ("athlete.sport", "football ⚽", "athlete.sport: U+26BD SOCCER BALL ‘⚽’"),
    ("athlete.name", "A \U000210C1", "athlete.name: U+210C1 CJK UNIFIED IDEOGRAPH-210C1"),
    ("assessment.assessor", "Dr. 😀", "assessment.assessor: U+1F600 GRINNING FACE ‘😀’"),
])
def test_a_character_the_fonts_lack_is_refused_before_rendering(
        decide_document: Any, example: Any, clock: Any, field: str, value: str,
        named: str) -> None:
    """Refused naming the field and the character; nothing is rendered."""
    document = varied(example("hamstring-winger-cleared-to-sprint"), {field: value})
    decision, assessment = decide_document(document)
    with pytest.raises(ReportInputError) as refused:
        prepare_report(decision, assessment, generated_at=clock)
    assert any(problem.startswith(named) for problem in refused.value.problems), \
        refused.value.problems


def test_the_report_command_refuses_it_with_exit_2(tmp_path: Path) -> None:
    """sprintclear report: exit 2, the field and the character on standard error, no PDF."""
    from sprintclear.cli import main

    document = json.loads((EXAMPLES / "hamstring-winger-cleared-to-sprint.json").read_text())
    document["athlete"]["name"] = "Jonas 王"
    source = tmp_path / "input.json"
    source.write_text(json.dumps(document), "utf-8")
    result = CliRunner().invoke(main, ["report", str(source), "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2
    assert "athlete.name: U+738B CJK UNIFIED IDEOGRAPH-738B ‘王’ cannot be printed" in \
        result.stderr
    assert not (tmp_path / "r.pdf").exists()
