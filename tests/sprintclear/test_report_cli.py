"""``sprintclear report``, ``sign``, ``verify`` and ``demo-pki``: files, messages, exit codes."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import EXAMPLES, hamstring_play, varied

from sprintclear.cli import main

FLARE = EXAMPLES / "hamstring-symptom-flare-next-morning-pain.json"
AT = "2026-03-10T14:05:00Z"
MEANING = "Reviewed and approved: return-to-sprint clearance"


@pytest.fixture(autouse=True)
def no_weasyprint_warnings() -> Iterator[None]:
    """WeasyPrint logs its problems; any warning while a command runs fails the test."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.WARNING)
    logging.getLogger("weasyprint").addHandler(handler)
    yield
    logging.getLogger("weasyprint").removeHandler(handler)
    assert not [record.getMessage() for record in records]


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A demo PKI, a report of the flare example and its signed copy, made with the commands."""
    root = tmp_path_factory.mktemp("demo")
    assert _run("demo-pki", root / "pki", "--name", "Dr. Lena Brandt").exit_code == 0
    assert _run("report", FLARE, "-o", root / "report.pdf", "--at", AT).exit_code == 0
    signed = _run("sign", root / "report.pdf", "--p12", root / "pki" / "clinician.p12",
                  "--password-file", root / "pki" / "clinician.password",
                  "--name", "Dr. Lena Brandt", "--meaning", MEANING,
                  "-o", root / "signed.pdf")  # now: the demo certificate starts today
    assert signed.exit_code == 0, signed.output
    return {"root": root, "pki": root / "pki", "report": root / "report.pdf",
            "signed": root / "signed.pdf", "ca": root / "pki" / "demo-ca.pem"}


def test_demo_pki_writes_the_root_the_key_and_its_password(tmp_path: Path) -> None:
    """demo-pki names the three files it wrote; the password is random unless given."""
    result = _run("demo-pki", tmp_path / "a", "--name", "Dr. A")
    assert result.exit_code == 0
    for name in ("demo-ca.pem", "clinician.p12", "clinician.password"):
        assert (tmp_path / "a" / name).is_file() and name in result.stdout
    _run("demo-pki", tmp_path / "b", "--name", "Dr. A")
    assert (tmp_path / "a" / "clinician.password").read_text() != \
        (tmp_path / "b" / "clinician.password").read_text()
    assert _run("demo-pki", tmp_path / "c", "--name", " ").exit_code == 2


def test_report_writes_the_pdf_and_says_the_decision(demo: dict[str, Path]) -> None:
    """The report command leads with the status (here a recommendation not signed off)."""
    result = _run("report", FLARE, "-o", demo["root"] / "again.pdf", "--at", AT)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"{demo['root'] / 'again.pdf'}: Recommendation — not signed off: phase 3 run — "
        "NOT cleared to sprint, NOT cleared to play\n")
    assert (demo["root"] / "again.pdf").read_bytes() == demo["report"].read_bytes()
    assert "record SHA-256 " in result.stdout


def test_report_of_an_invalid_assessment_names_every_field_and_exits_2(tmp_path: Path) -> None:
    """Like evaluate: exit 2 and one line per offending field; no PDF is written."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(varied(hamstring_play(), {"pain.rest": 11, "pian.x": 1})))
    result = _run("report", path, "-o", tmp_path / "out.pdf")
    assert result.exit_code == 2
    assert "  pain.rest: " in result.stderr and "  pian: " in result.stderr
    assert not (tmp_path / "out.pdf").exists()
    path.write_text("{not json")
    assert _run("report", path, "-o", tmp_path / "out.pdf").exit_code == 2


def test_report_needs_a_time_with_its_zone(tmp_path: Path) -> None:
    """--at without a zone is refused (the clock is explicit, in UTC)."""
    result = _run("report", FLARE, "-o", tmp_path / "x.pdf", "--at", "2026-03-10T14:05:00")
    assert result.exit_code == 2 and "time zone" in result.stderr


def _history(tmp_path: Path, *documents: dict[str, Any]) -> Path:
    folder = tmp_path / "history"
    folder.mkdir()
    for index, document in enumerate(documents):
        (folder / f"{index}.json").write_text(json.dumps(document))
    return folder


def test_report_with_history_shows_the_trend(tmp_path: Path) -> None:
    """Earlier assessments of the injury (and a decision JSON) feed the trend charts."""
    current = tmp_path / "current.json"
    current.write_text(json.dumps(hamstring_play()))
    earlier = varied(hamstring_play(), {"assessment.date": "2026-02-10", "pain.rest": 2})
    decision_json = _run("evaluate", "--json", _write(tmp_path, "e2.json", varied(
        hamstring_play(), {"assessment.date": "2026-02-20"}))).stdout
    folder = _history(tmp_path, earlier, json.loads(decision_json), hamstring_play())
    result = _run("report", current, "-o", tmp_path / "r.pdf", "--history", folder, "--at", AT)
    assert result.exit_code == 0, result.output
    assert "2 earlier assessments" in result.stdout
    assert "skipped, it is the assessment of this report" in result.stderr


def _write(folder: Path, name: str, document: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def test_report_with_history_of_another_athlete_is_refused(tmp_path: Path) -> None:
    """History of another athlete or injury: exit 2, naming the file and the mismatch."""
    folder = _history(tmp_path, varied(hamstring_play(), {"athlete.id": "OTHER-1",
                                                          "assessment.date": "2026-02-01"}))
    result = _run("report", _write(tmp_path, "c.json", hamstring_play()), "-o",
                  tmp_path / "r.pdf", "--history", folder)
    assert result.exit_code == 2
    assert "0.json" in result.stderr and "athlete OTHER-1" in result.stderr
    assert not (tmp_path / "r.pdf").exists()


def test_verify_a_signed_report_exits_0_and_explains(demo: dict[str, Path]) -> None:
    """VALID, the signature's name, time and meaning, the record hash and the re-decision."""
    result = _run("verify", demo["signed"], "--trust", demo["ca"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"{demo['signed']}: VALID")
    assert "Dr. Lena Brandt" in out and MEANING in out
    assert re.search(r"signed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(the signer's clock\)", out)
    assert "printed in every footer" in out and "the same decision" in out


def test_verify_json_is_one_object(demo: dict[str, Path]) -> None:
    """--json prints the result as one JSON object."""
    result = _run("verify", demo["signed"], "--trust", demo["ca"], "--json")
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["report"] == str(demo["signed"])


def test_verify_a_changed_file_exits_1_with_the_reason(demo: dict[str, Path],
                                                       tmp_path: Path) -> None:
    """One changed byte: INVALID, the reason printed, exit 1."""
    data = bytearray(demo["signed"].read_bytes())
    data[5000] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    result = _run("verify", tampered, "--trust", demo["ca"])
    assert result.exit_code == 1
    assert "INVALID" in result.stdout and "✗" in result.stdout


def test_verify_an_unsigned_report_or_a_wrong_root_exits_1(demo: dict[str, Path],
                                                           tmp_path: Path) -> None:
    """Not signed, or signed by a CA that is not trusted: invalid."""
    assert _run("verify", demo["report"], "--trust", demo["ca"]).exit_code == 1
    _run("demo-pki", tmp_path / "other", "--name", "Dr. B")
    result = _run("verify", demo["signed"], "--trust", tmp_path / "other" / "demo-ca.pem")
    assert result.exit_code == 1 and "trust root" in result.stdout


def test_verify_with_a_trust_file_that_is_not_a_certificate_exits_2(demo: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    """A trust root that cannot be read is an input error."""
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    assert _run("verify", demo["signed"], "--trust", bad).exit_code == 2


def test_sign_at_a_time_outside_the_certificate_exits_2(demo: dict[str, Path],
                                                        tmp_path: Path) -> None:
    """A signing time before the certificate existed is refused."""
    result = _run("sign", demo["report"], "--p12", demo["pki"] / "clinician.p12",
                  "--password-file", demo["pki"] / "clinician.password", "--name", "X",
                  "--meaning", "Y", "-o", tmp_path / "s.pdf", "--at", "2001-01-01T00:00:00Z")
    assert result.exit_code == 2 and "outside the certificate's validity" in result.stderr


def test_sign_with_a_wrong_password_exits_2(demo: dict[str, Path], tmp_path: Path) -> None:
    """A PKCS#12 file that does not open: exit 2, nothing written."""
    wrong = tmp_path / "wrong.password"
    wrong.write_text("nope\n")
    result = _run("sign", demo["report"], "--p12", demo["pki"] / "clinician.p12",
                  "--password-file", wrong, "--name", "X", "--meaning", "Y",
                  "-o", tmp_path / "s.pdf")
    assert result.exit_code == 2 and "password is wrong" in result.stderr
    assert not (tmp_path / "s.pdf").exists()


def test_a_countersignature_goes_in_the_second_slot(demo: dict[str, Path],
                                                    tmp_path: Path) -> None:
    """Signing a signed report adds the second signature; both verify; a third is refused."""
    shutil.copy(demo["signed"], tmp_path / "signed.pdf")
    args = ("--p12", demo["pki"] / "clinician.p12", "--password-file",
            demo["pki"] / "clinician.password", "--meaning", "Countersigned")
    assert _run("sign", tmp_path / "signed.pdf", *args, "-o", tmp_path / "two.pdf"
                ).exit_code == 0
    result = _run("verify", tmp_path / "two.pdf", "--trust", demo["ca"])
    assert result.exit_code == 0 and "signature 2 (Signature2)" in result.stdout
    third = _run("sign", tmp_path / "two.pdf", *args, "-o", tmp_path / "three.pdf")
    assert third.exit_code == 2 and "no free signature slot" in third.stderr


def test_sign_something_that_is_not_a_report_exits_2(demo: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """A file that is not a sprintclear report is refused."""
    other = tmp_path / "x.pdf"
    other.write_bytes(b"%PDF-1.4 nothing")
    result = _run("sign", other, "--p12", demo["pki"] / "clinician.p12", "--password-file",
                  demo["pki"] / "clinician.password", "--name", "X", "--meaning", "Y",
                  "-o", tmp_path / "s.pdf")
    assert result.exit_code == 2


def test_report_prints_an_override_and_refuses_one_without_a_reason(demo: dict[str, Path],
                                                                   ) -> None:
    """--override PHASE --reason --clinician prints the sign-off; without a reason it is
    refused naming the field, and accept/override together is refused."""
    out = demo["root"] / "override.pdf"
    result = _run("report", FLARE, "-o", out, "--at", AT, "--override", "load",
                  "--reason", "Pain again this morning; stay at load", "--clinician",
                  "Dr. Lena Brandt")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"{out}: Signed: phase 2 load — NOT cleared to sprint, NOT cleared to play (override "
        "by Dr. Lena Brandt on 2026-03-10 14:05:00 UTC)\n  recommendation of the rule base: "
        "phase 3 run — cleared to sprint NO, to play NO (overridden)\n")
    text = _pdftotext(out)
    assert "OVERRIDDEN by Dr. Lena Brandt" in text and "Signed: Phase 2 of 6" in text
    missing = _run("report", FLARE, "-o", demo["root"] / "x.pdf", "--at", AT, "--override",
                   "load", "--clinician", "Dr. Lena Brandt")
    assert missing.exit_code == 2 and "reason" in missing.stderr
    both = _run("report", FLARE, "-o", demo["root"] / "y.pdf", "--at", AT, "--accept",
                "--override", "load", "--clinician", "Dr. Lena Brandt")
    assert both.exit_code == 2


def _pdftotext(path: Path) -> str:
    import subprocess

    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
