"""The pages in a real browser: Debian's Chromium, driven by Playwright, on a real server.

A ``sprintclear serve`` process runs on a free port with a temporary SQLite
database and a demo signing key; Chromium signs in, adds an athlete and an
injury, enters an assessment with deliberate errors, corrects it, reads the
decision, overrides it with a reason (confirming it on the second step),
downloads the signed PDF and verifies it. Every page is saved as a screenshot,
desktop (1280 px), tablet (768 px) and phone (390 px) wide, in
``artifacts/screenshots/``, and checked with axe-core (``axe-playwright-python``):
no serious or critical violation at any width.

Chromium must be installed (``scripts/system-deps`` does it): without it
these tests fail, saying so, rather than skip; CI must run them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import REPO, load_example

from api.store import Principal, Store
from api.web.forms import entered_from_document
from engine import parse_assessment
from engine.measures import limb_symmetry_index

CHROMIUM = Path(os.environ.get("SPRINTCLEAR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
WIDTHS = [DESKTOP, TABLET, PHONE]
WIDTH_IDS = ["desktop", "tablet", "phone"]
WINGER = "hamstring-winger-cleared-to-sprint"
FLARE = "hamstring-symptom-flare-next-morning-pain"
TIMEOUT_MS = 20_000


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    ca: bytes
    database_url: str = ""

    def sign_previous(self, athlete_id: str, document: dict[str, Any]) -> None:
        """Store and sign, in the served database, the visit the document's ``previous``
        names: the service fills ``previous`` from its sign-offs (protocol 2.1)."""
        from api.demo import sign_baseline
        from engine import evaluator_for

        store = Store.open(self.database_url)
        try:
            injury = store.list_injuries(athlete_id)[-1]
            sign_baseline(store, evaluator_for(), store.authenticate(self.keys["clinician"]),
                          injury.id, parse_assessment(document), document["previous"])
        finally:
            store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sprintclear serve` on a free port: a fresh SQLite file, a demo CA and clinic key."""
    from reports import make_demo_pki

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'pages.sqlite3'}"
    store = Store.open(url, migrate_schema=True)
    operator = Principal(key_id=None, name="test operator", role="operator")
    keys = {role: store.create_key(operator, role=role, name=name).key for role, name in (
        ("clinician", "Dr. Lena Brandt"), ("auditor", "Audit Office"),
        ("insurer", "Acme Mutual"), ("admin", "Clinic IT"))}
    store.close()
    pki = make_demo_pki(folder / "pki", clinician_name="Browser Test Clinic",
                        password="browser test")
    environment = {**os.environ, "SPRINTCLEAR_SIGNING_P12": str(pki.clinician_p12),
                   "SPRINTCLEAR_SIGNING_PASSWORD_FILE": str(pki.password_file),
                   "SPRINTCLEAR_SIGNING_NAME": "Browser Test Clinic",
                   "SPRINTCLEAR_SESSION_SECRET_FILE": str(folder / "session-secret")}
    process = subprocess.Popen(
        [sys.executable, "-m", "sprintclear", "serve", "--port", "0", "--no-access-log",
         "--database-url", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=REPO, env=environment)
    assert process.stdout is not None
    try:
        address = None
        for line in process.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                address = found.group(1)
                break
        assert address, "serve did not start: " + (process.stderr.read() if process.stderr
                                                   else "")
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{address}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /healthz"
            time.sleep(0.1)
        yield Server(url=address, keys=keys, ca=pki.ca_certificate.read_bytes(),
                     database_url=url)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; a clear failure when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: run ./scripts/system-deps "
                    f"(apt-get install chromium), or set SPRINTCLEAR_CHROMIUM to its path")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _context(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _shot(page: Any, name: str, viewport: dict[str, int], *, axe: bool = True) -> None:
    """A full-page screenshot, no part of the page wider than the screen, and (``axe``) no
    serious or critical axe-core violation."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tag = WIDTH_IDS[WIDTHS.index(viewport)] if viewport in WIDTHS else str(viewport["width"])
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{tag}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} ({tag}) is {overflow} px wider than the screen"
    if axe:
        serious = _axe_violations(page)
        assert not serious, f"{name} ({tag}): axe-core finds {serious}"


_AXE: list[Any] = []


def _axe_violations(page: Any) -> list[str]:
    """The serious and critical axe-core violations of the page, as ``rule: target``."""
    from axe_playwright_python.sync_playwright import Axe

    if not _AXE:
        _AXE.append(Axe())
    results = _AXE[0].run(page)
    return [f"{v['id']} ({v['impact']}): {node['target']}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")
            for node in v["nodes"]]


def _sign_in(page: Any, server: Server, role: str) -> None:
    page.goto(server.url + "/")
    page.wait_for_url(re.compile(r"/signin"))
    page.get_by_label("API key").fill(server.keys[role])
    page.get_by_label("API key").press("Enter")
    page.wait_for_url(re.compile(r"/(squad|decisions|keys)$"))


def _fill(page: Any, fields: dict[str, str]) -> None:
    """Type every value as a clinician would: text boxes, radio buttons, lists."""
    for name, value in fields.items():
        control = page.locator(f'[name="{name}"]')
        kind = control.first.evaluate("e => e.tagName + ':' + (e.type || '')")
        if kind == "INPUT:radio":
            page.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind.startswith("SELECT"):
            control.select_option(value)
        else:
            control.fill(value)


def test_a_clinician_goes_from_sign_in_to_a_verified_signed_report(browser: Any,
                                                                   server: Server) -> None:
    """Sign in, add an athlete and an injury, enter an assessment with errors, correct it, read
    the decision, override it with a reason, download the signed PDF and verify it."""
    from reports import verify_report

    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_url(re.compile(r"/signin"))
    _shot(page, "flow-01-sign-in", DESKTOP)
    page.get_by_label("API key").fill("sck_wrong")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Not signed in: the API key is not known").wait_for()
    page.get_by_label("API key").fill(server.keys["clinician"])
    page.get_by_label("API key").press("Enter")
    page.wait_for_url(re.compile(r"/squad$"))
    _shot(page, "flow-02-squad-empty", DESKTOP)

    page.get_by_role("link", name="Add an athlete").click()
    page.get_by_label("Athlete id").fill("FC-23")
    page.get_by_label("Name").fill("Jonas Berg")
    page.get_by_label("Sport").fill("football")
    page.get_by_label("Position").fill("right winger")
    _shot(page, "flow-03-add-athlete", DESKTOP)
    page.get_by_role("button", name="Add the athlete").click()
    page.wait_for_url(re.compile(r"/athletes/FC-23$"))

    injury = load_example(WINGER)["injury"]
    page.get_by_label("Region").select_option(injury["region"])
    page.get_by_label("Injured side").select_option(injury["side"])
    page.get_by_label("Date of injury").fill(injury["date"])
    page.get_by_label("Muscle").select_option(injury["muscle"])
    page.get_by_label("BAMIC grade").select_option(injury["bamic_grade"])
    page.get_by_role("button", name="Add the injury").click()
    page.get_by_role("heading", name=re.compile("Right hamstring injury")).wait_for()
    server.sign_previous("FC-23", load_example(WINGER))  # the run signed on 2026-03-10
    page.reload()
    _shot(page, "flow-04-athlete-with-injury", DESKTOP)

    page.get_by_role("link", name="Enter an assessment").click()
    page.get_by_role("heading", name="Assessment of Jonas Berg").wait_for()
    fields = entered_from_document(parse_assessment(load_example(WINGER)).document)
    correct = {name: fields[name] for name in ("pain.rest", "strength.nordic_n.uninjured")}
    _fill(page, fields | {"pain.rest": "11", "strength.nordic_n.uninjured": "abc"})
    lsi = page.locator("#f-strength-isometric-90-90-lsi")
    injured = Decimal(fields["strength.isometric_90_90.injured"])
    uninjured = Decimal(fields["strength.isometric_90_90.uninjured"])
    assert lsi.inner_text() == f"LSI {limb_symmetry_index(injured, uninjured)} %"
    assert page.locator("#f-strength-nordic-n-lsi").inner_text() == (
        "LSI: enter both sides as numbers")
    _shot(page, "flow-05-assessment-typed", DESKTOP)
    page.get_by_role("button", name="Store the assessment and decide").click()

    summary = page.locator("#problems")
    summary.get_by_text("Not stored: 2 problems to correct").wait_for()
    assert page.evaluate("document.activeElement.id") == "problems"
    assert "must be between 0 and 10 (got 11)" in page.locator("#f-pain-rest-error").inner_text()
    assert "must be a number" in page.locator(
        "#f-strength-nordic-n-uninjured-error").inner_text()
    assert page.locator('[name="pain.rest"]').input_value() == "11"
    assert page.locator('[name="strength.nordic_n.uninjured"]').input_value() == "abc"
    assert page.locator('[name="hop.single_cm.injured"]').input_value() == fields[
        "hop.single_cm.injured"]
    _shot(page, "flow-06-assessment-errors", DESKTOP)
    summary.get_by_role("link", name="Pain at rest").click()
    assert page.evaluate("location.hash") == "#f-pain-rest"
    _fill(page, correct)
    page.get_by_role("button", name="Store the assessment and decide").click()

    page.wait_for_url(re.compile(r"/decisions/[0-9a-f]{32}$"))
    decision_url = page.url
    page.get_by_text("would clear to sprint, if signed").first.wait_for()  # pending, not ✓
    assert page.locator("details.explanation").get_attribute("open") is None
    _shot(page, "flow-07-decision", DESKTOP)

    page.get_by_label("Phase to sign instead").select_option("run")
    page.get_by_role("button", name="Override the recommendation").click()
    page.locator("#signoff-reason-error").get_by_text("is required to override").wait_for()
    assert page.get_by_label("Phase to sign instead").input_value() == "run"
    page.get_by_label("Reason").fill("Hesitant on the bend in the last session")
    page.get_by_role("button", name="Override the recommendation").click()
    page.get_by_role("heading", name=re.compile("You sign: phase 3 · run")).wait_for()
    _shot(page, "flow-08a-signoff-confirm", DESKTOP)
    for box in page.locator('input[name="acknowledged"]').all():
        box.check()
    page.get_by_role("button", name=re.compile("Confirm and sign")).click()
    status = page.locator("#signoff-status")
    status.get_by_text("Overridden by Dr. Lena Brandt").wait_for()
    assert "✗ NOT CLEARED to sprint" in status.inner_text()
    _shot(page, "flow-08-decision-overridden", DESKTOP)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed PDF report").click()
    pdf = Path(download.value.path()).read_bytes()
    # pyHanko runs its own event loop; Playwright's sync API holds one in this thread
    with ThreadPoolExecutor(1) as thread:
        verification = thread.submit(verify_report, pdf, trust_roots=[server.ca]).result()
    assert verification.valid, verification.reasons
    assert verification.decision is not None
    assert decision_url.endswith(verification.decision.decision_id)
    context.close()

    auditor = _context(browser, DESKTOP)
    audit = auditor.new_page()
    _sign_in(audit, server, "auditor")
    audit.goto(server.url + "/audit")
    audit.get_by_text("✓ Audit chain intact").wait_for()
    assert "Hesitant on the bend" in audit.locator("table.log").inner_text()
    _shot(audit, "flow-09-audit", DESKTOP)
    auditor.close()


@pytest.mark.parametrize("viewport", WIDTHS, ids=WIDTH_IDS)
def test_every_page_fits_the_screen(browser: Any, server: Server,
                                    viewport: dict[str, int]) -> None:
    """Every page, for every role that opens it, fits the width (no sideways scrolling) at
    1280, 768 and 390 px, with no serious or critical axe-core violation; each is saved as
    a screenshot."""
    decisions = _ensure_examples(server)
    context = _context(browser, viewport)
    page = context.new_page()
    page.goto(server.url + "/signin")
    _shot(page, "01-sign-in", viewport)
    _sign_in(page, server, "clinician")
    _shot(page, "02-squad", viewport)
    page.goto(server.url + "/squad/new-athlete")
    _shot(page, "03-add-athlete", viewport)
    page.goto(server.url + "/athletes/FC-23")
    _shot(page, "04-athlete", viewport)
    page.get_by_role("link", name="Enter an assessment").first.click()
    page.get_by_role("heading", name=re.compile("Assessment of")).wait_for()
    _shot(page, "05-assessment-form", viewport)
    _fill(page, {"pain.rest": "eleven", "strength.isometric_90_90.injured": "250",
                 "strength.isometric_90_90.uninjured": "0", "hop.single_cm.injured": "180"})
    page.get_by_role("button", name="Store the assessment and decide").click()
    page.locator("#problems").wait_for()
    _shot(page, "06-assessment-errors", viewport)
    page.goto(server.url + f"/decisions/{decisions['flare']}")
    _shot(page, "07-decision-red-flag-unsigned", viewport)
    page.goto(server.url + f"/decisions/{decisions['winger']}")
    _shot(page, "08-decision-overridden", viewport)
    context.close()
    for number, (role, path, name) in enumerate((
            ("auditor", "/audit", "audit"),
            ("insurer", "/decisions", "insurer-find-decision"),
            ("insurer", f"/decisions/{decisions['winger']}", "insurer-decision"),
            ("insurer", "/squad", "insurer-not-allowed"),
            ("admin", "/keys", "admin-keys")), 9):
        reader = _context(browser, viewport)
        page = reader.new_page()
        _sign_in(page, server, role)
        page.goto(server.url + path)
        _shot(page, f"{number:02}-{name}", viewport)
        reader.close()


def _ensure_examples(server: Server) -> dict[str, str]:
    """FC-23's winger assessment overridden to run, and the symptom-flare athlete unsigned (the
    flow test may have made FC-23's already). Their decision ids."""
    headers = {"X-API-Key": server.keys["clinician"]}
    found = {}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for key, name in (("winger", WINGER), ("flare", FLARE)):
            document = load_example(name)
            athlete = document["athlete"]
            if client.get(f"/v1/athletes/{athlete['id']}").status_code == 404:
                client.post("/v1/athletes", json=athlete)
            injuries = client.get(f"/v1/athletes/{athlete['id']}/injuries").json()
            if not injuries:
                injury = document["injury"]
                injuries = [client.post(f"/v1/athletes/{athlete['id']}/injuries", json={
                    k: injury[k] for k in ("region", "side", "date", "muscle", "bamic_grade")
                }).json()]
            stored = client.get(f"/v1/injuries/{injuries[0]['id']}/assessments").json()
            if not stored:
                if document.get("previous"):
                    server.sign_previous(athlete["id"], document)
                decision = client.post(f"/v1/injuries/{injuries[0]['id']}/assessments",
                                       json=document).json()
                found[key] = decision["id"]
            else:
                found[key] = stored[-1]["decision"]["id"]
        winger = client.get(f"/v1/decisions/{found['winger']}").json()
        if winger["signoff"] is None:
            client.post(f"/v1/decisions/{found['winger']}/signoff", json={
                "action": "override", "phase": "run",
                "reason": "Hesitant on the bend in the last session"})
    return found


@pytest.mark.parametrize("pair", [
    ("180.1", "200"), ("269.99", "300"), ("297.5", "322"), ("1", "3"), ("2", "3"),
    ("0.05", "1"), ("1999.99", "0.01"), ("45", "45.0"), ("0", "300"), ("12.345", "67.891"),
    ("100", "7"), (".5", "2")])
def test_the_live_limb_symmetry_index_is_the_servers(browser: Any, server: Server,
                                                     pair: tuple[str, str]) -> None:
    """Typed pairs give the LSI engine.measures gives: one decimal, half up, exact decimals."""
    page = _assessment_page(browser, server)
    page.locator('[name="strength.isometric_90_20.injured"]').fill(pair[0])
    page.locator('[name="strength.isometric_90_20.uninjured"]').fill(pair[1])
    expected = limb_symmetry_index(Decimal(pair[0]), Decimal(pair[1]))
    assert page.locator("#f-strength-isometric-90-20-lsi").inner_text() == f"LSI {expected} %"


_PAGES: dict[str, Any] = {}


def _assessment_page(browser: Any, server: Server) -> Any:
    """One signed-in assessment form, reused by the LSI cases (opening one takes a second)."""
    if "form" not in _PAGES:
        _ensure_examples(server)
        context = _context(browser, DESKTOP)
        page = context.new_page()
        _sign_in(page, server, "clinician")
        page.goto(server.url + "/athletes/FC-23")
        page.get_by_role("link", name="Enter an assessment").first.click()
        page.get_by_role("heading", name=re.compile("Assessment of")).wait_for()
        _PAGES["form"] = page
    return _PAGES["form"]


def test_the_keyboard_reaches_everything_with_a_visible_focus(browser: Any,
                                                              server: Server) -> None:
    """Sign in by keyboard alone; then Tab goes skip link → pages → sign-out, each with a
    visible outline, and the skip link lands on the content."""
    focused = ("[document.activeElement.tagName, document.activeElement.id || "
               "document.activeElement.textContent.trim(), "
               "getComputedStyle(document.activeElement).outlineStyle]")
    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.goto(server.url + "/signin")
    assert page.evaluate(focused)[:2] == ["INPUT", "api-key"]  # the key field has the focus
    page.keyboard.type(server.keys["clinician"])
    page.keyboard.press("Tab")
    assert page.evaluate(focused)[:2] == ["BUTTON", "Sign in"]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/squad$"))
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate(focused))
    assert [item[:2] for item in order] == [
        ["A", "Skip to the content"], ["A", "sprintclear"], ["A", "Squad"],
        ["A", "Find a decision"], ["BUTTON", "Sign out"], ["A", "Add an athlete"]]
    assert all(style != "none" for _, _, style in order)
    page.keyboard.press("Shift+Tab")
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused)[1] == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


def test_the_session_cookie_is_out_of_reach_of_scripts(browser: Any, server: Server) -> None:
    """After sign-in no script on the page can read the session cookie."""
    context = _context(browser, DESKTOP)
    page = context.new_page()
    _sign_in(page, server, "clinician")
    assert "sprintclear_session" not in page.evaluate("document.cookie")
    cookie = next(c for c in context.cookies() if c["name"] == "sprintclear_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["expires"] > time.time() + 11 * 3600
    assert dt.datetime.fromtimestamp(cookie["expires"], dt.UTC) < dt.datetime.now(
        dt.UTC) + dt.timedelta(hours=12, minutes=1)
    context.close()


def test_a_new_assessment_is_dated_by_the_devices_calendar(browser: Any, server: Server) -> None:
    """The proposed date is the device's today, not the server's UTC date (a zone is chosen
    where the two differ right now: UTC+14 from 10:00 UTC, UTC−11 before 11:00 UTC)."""
    from zoneinfo import ZoneInfo

    _ensure_examples(server)
    now = dt.datetime.now(dt.UTC)
    zone = "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"
    expected = now.astimezone(ZoneInfo(zone)).date().isoformat()
    assert expected != now.date().isoformat()
    context = browser.new_context(viewport=DESKTOP, timezone_id=zone)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    _sign_in(page, server, "clinician")
    page.goto(server.url + "/athletes/FC-23")
    page.get_by_role("link", name="Enter an assessment").first.click()
    page.get_by_role("heading", name=re.compile("Assessment of")).wait_for()
    assert page.get_by_label("Assessment date").input_value() == expected
    context.close()


RUGBY = "hamstring-rugby-back-reinjury-cleared-to-play-conservative"


def _ensure_superseded(server: Server) -> tuple[str, str]:
    """RUG-14's assessment corrected by a second one: (the superseded decision, the
    correction's decision)."""
    from support import REMOVE, varied

    headers = {"X-API-Key": server.keys["clinician"]}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        # the service fills previous from its own sign-offs (none here), and refuses another
        document = varied(load_example(RUGBY), {"previous": REMOVE})
        athlete = document["athlete"]
        if client.get(f"/v1/athletes/{athlete['id']}").status_code == 404:
            client.post("/v1/athletes", json=athlete)
            injury = document["injury"]
            episode = client.post(f"/v1/athletes/{athlete['id']}/injuries", json={
                k: injury[k] for k in ("region", "side", "date") if k in injury}).json()
            first = client.post(f"/v1/injuries/{episode['id']}/assessments",
                                json=document).json()
            corrected = varied(document, {"pain.rest": 1})
            client.post(f"/v1/injuries/{episode['id']}/assessments?supersedes="
                        f"{first['assessment_id']}", json=corrected)
        episode = client.get(f"/v1/athletes/{athlete['id']}/injuries").json()[0]
        stored = client.get(f"/v1/injuries/{episode['id']}/assessments").json()
    old = next(e for e in stored if e["superseded_by"])
    new = next(e for e in stored if not e["superseded_by"])
    return old["decision"]["id"], new["decision"]["id"]


def _regions_are_focusable(page: Any) -> None:
    """Every sideways-scrolling table region is in the tab order, named, with a role."""
    regions = page.evaluate("""[...document.querySelectorAll('.table-wrap')].map(e => [
        e.tabIndex, e.getAttribute('role'), e.getAttribute('aria-label')])""")
    assert regions and all(t == 0 and r == "region" and label for t, r, label in regions), regions
    page.locator(".table-wrap").first.focus()
    assert page.evaluate("document.activeElement.classList.contains('table-wrap')")


@pytest.mark.parametrize("viewport", WIDTHS, ids=WIDTH_IDS)
def test_the_signed_phase_leads_and_a_pending_recommendation_looks_pending(
        browser: Any, server: Server, viewport: dict[str, int]) -> None:
    """Squad, athlete, decision and audit pages: the signed phase is the status, a pending
    recommendation is ◇ PENDING in a dashed outline (not a ✓ clearance), a superseded
    decision links its correction; at phone width the decision's status in force is on
    the first screen; scrolling tables are focusable regions; axe finds nothing serious."""
    decisions = _ensure_examples(server)
    superseded, correction = _ensure_superseded(server)
    context = _context(browser, viewport)
    page = context.new_page()
    _sign_in(page, server, "clinician")

    page.goto(server.url + "/squad")
    flare = page.locator("tr", has=page.locator('a[href="/athletes/ATH-0588"]'))
    pending = flare.locator(".badge.pending")
    assert "◇ PENDING: recommends" in pending.inner_text()
    assert pending.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    # the flare athlete's earlier visit is signed sprint (its previous): that is in force,
    # and the pending recommendation (run) beside it is never shown as a clearance
    assert "✓" not in pending.inner_text()
    assert "Signed phase 4 · sprint" in flare.inner_text()
    winger = page.locator("tr", has=page.locator('a[href="/athletes/FC-23"]')).inner_text()
    assert "Signed phase 3 · run" in winger and "✗ NOT CLEARED to sprint" in winger
    _regions_are_focusable(page)
    _shot(page, "status-01-squad", viewport)

    page.goto(server.url + "/athletes/FC-23")
    assert page.locator("svg.chart title").first.text_content() == (
        "Signed phase by day since injury")
    assert "Signed phase 3 · run" in page.locator(".in-force-summary").first.inner_text()
    _shot(page, "status-02-athlete", viewport)

    page.goto(server.url + f"/decisions/{decisions['flare']}")
    status = page.locator("#signoff-status")
    box = status.bounding_box()
    assert box is not None and box["y"] < viewport["height"] * 0.6, box
    assert "Signed phase 4 · sprint" in status.inner_text()  # in force while pending
    assert "◇ PENDING" in status.inner_text()
    _regions_are_focusable(page)
    _shot(page, "status-03-decision-pending", viewport)

    page.goto(server.url + f"/decisions/{superseded}")
    status = page.locator("#signoff-status")
    assert "Superseded by" in status.inner_text()
    assert "awaiting sign-off" not in page.locator("main").inner_text()
    assert status.locator(f'a[href="/decisions/{correction}"]').count() == 1
    _shot(page, "status-04-decision-superseded", viewport)

    page.goto(server.url + f"/decisions/{decisions['flare']}")
    page.get_by_role("button", name="Accept the recommendation").click()
    page.get_by_role("heading", name=re.compile("You sign: phase")).wait_for()
    assert page.locator('input[name="acknowledged"]').count() >= 1
    _shot(page, "status-05-signoff-confirm", viewport)
    page.get_by_role("link", name="Back, nothing signed").click()
    context.close()

    auditor = _context(browser, viewport)
    page = auditor.new_page()
    _sign_in(page, server, "auditor")
    page.goto(server.url + "/audit")
    log = page.locator("table.log").inner_text()
    assert "◇ PENDING" in log and "superseded by its correction" in log
    _regions_are_focusable(page)
    _shot(page, "status-06-audit", viewport)
    auditor.close()
