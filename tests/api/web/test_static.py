"""The pages' own files: colours that read, one script, and both shipped with the package."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from api.web.forms import label_of

CSS = resources.files("api").joinpath("static", "web.css").read_text("utf-8")


def _colour(name: str) -> str:
    found = re.search(rf"--{name}: (#[0-9a-f]{{6}});", CSS)
    assert found, name
    return found.group(1)


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, two: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("text", "background"), [
    ("ink", "paper"), ("ink", "wash"), ("muted", "paper"), ("muted", "wash"),
    ("muted", "no-wash"), ("muted", "ok-wash"), ("muted", "warn-wash"), ("accent", "paper"),
    ("accent", "wash"), ("ok", "ok-wash"), ("no", "no-wash"), ("warn", "warn-wash"),
    ("ok", "paper"), ("no", "paper"), ("warn", "paper")])
def test_text_colours_have_enough_contrast(text: str, background: str) -> None:
    """Every text colour on every background it is used on reaches WCAG AA (4.5:1)."""
    assert _contrast(_colour(text), _colour(background)) >= 4.5


def test_the_pages_load_only_their_own_script_and_stylesheet() -> None:
    """One stylesheet and one script, from the package, and no inline script anywhere."""
    templates = resources.files("api").joinpath("templates")
    sources = {t.name: t.read_text("utf-8") for t in templates.iterdir()
               if t.name.endswith(".html")}
    assert re.findall(r'<script src="([^"]+)"', "".join(sources.values())) == [
        "/static/web.js"]
    assert not any(re.search(r"<script>|<style|\sstyle=", text) for text in sources.values())
    assert resources.files("api").joinpath("static", "web.js").is_file()


def test_a_problems_field_is_named_in_words() -> None:
    """The summary of problems names fields as the dictionary does, with the side."""
    assert label_of("pain.rest") == "Pain at rest"
    assert label_of("strength.nordic_n.uninjured") == "Nordic eccentric force, uninjured side"
    assert label_of("<form>") == "<form>"
