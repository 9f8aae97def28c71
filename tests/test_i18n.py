"""The words tuiding writes come from gettext catalogs: every string extracted from the sources has a
translation in every catalog, with the same placeholders; the template is current; the language follows
the locale. (test_thirdparty.py runs an English journey and finds no Chinese in anything the tool wrote.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from support import ROOT

from tuiding import model as M
from tuiding.i18n import gettext_for, language

LOCALE = ROOT / "scripts" / "tuiding" / "locale"
PLACEHOLDER = re.compile(r"\{[a-z_]+(?::[^}]*)?\}|%\([a-z_]+\)s")


def catalog(path: Path, lang: str | None = None):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return read_po(f, locale=lang)


@pytest.mark.parametrize("lang", ["zh", "de"])
def test_every_string_has_a_translation_with_the_same_placeholders(lang):
    template = {m.id for m in catalog(LOCALE / "tuiding.pot") if m.id}
    translated = catalog(LOCALE / lang / "LC_MESSAGES" / "tuiding.po", lang)
    problems = []
    for m in translated:
        if not m.id:
            continue
        if not m.string or m.fuzzy:
            problems.append(f"no translation: {m.id!r}")
        elif sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string)):
            problems.append(f"placeholders differ: {m.id!r} → {m.string!r}")
    missing = template - {m.id for m in translated}
    assert problems == [] and missing == set(), (problems, missing)


@pytest.mark.current_deps  # Babel 2.12 finds no jinja2 extractor; `make messages` runs with the current tools
def test_the_catalog_template_is_current(tmp_path):
    """A string added to the sources without `make messages` fails here (and would show in English)."""
    out = tmp_path / "now.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_", "-k", "N_", "--no-location",
         "-o", str(out), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    now = {m.id for m in catalog(out) if m.id}
    committed = {m.id for m in catalog(LOCALE / "tuiding.pot") if m.id}
    assert now == committed, f"run `make messages`: new {sorted(now - committed)}, gone {sorted(committed - now)}"


@pytest.mark.parametrize(
    ("locale", "lang"),
    [("zh-CN", "zh"), ("zh_TW", "zh"), ("de-DE", "de"), ("de_AT", "de"), ("en-GB", "en"), ("fr-FR", "en"), (None, "en")],
)
def test_the_language_follows_the_locale(locale, lang):
    assert language(locale) == lang


def test_generated_captions_speak_each_language():
    step = M.step_adapter("click").validate_python({"click": "Unsubscribe"})
    assert step.caption("en") == "Click “Unsubscribe”"
    assert step.caption("zh") == "点击「Unsubscribe」"  # as captions always read: a Chinese guide keeps them
    assert step.caption("de") == "Auf „Unsubscribe“ klicken"
    assert gettext_for("de")("passed") == "bestanden" and gettext_for("fr")("passed") == "passed"
