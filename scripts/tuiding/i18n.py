"""The words tuiding writes, in the language of the journey: English in the source, gettext catalogs for the
others (`locale/<lang>/LC_MESSAGES/tuiding.po`), read with Babel.

Which language: `--lang` when given, else the scenario's `locale` (zh-CN → zh, en-US → en, de-DE → de), else
the run folder's. The catalogs are compiled in memory when first used (a few milliseconds), so the sources
hold only text files; `make messages` extracts new strings (pybabel, babel.cfg) and merges them into the
catalogs, and tests/test_i18n.py fails while a string has no translation.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from importlib import resources

LANGUAGES = ("zh", "en", "de")
DOMAIN = "tuiding"


def language(locale: str | None, default: str = "en") -> str:
    """A supported language for a locale: zh-CN → zh, de_AT → de, en-GB → en; anything else → `default`."""
    code = (locale or "").replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGUAGES else default


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang` (English is the source: no catalog)."""
    if lang not in LANGUAGES or lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = resources.files("tuiding").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(lang: str) -> Callable[[str], str]:
    """`_ = gettext_for(lang)`, then `_("Report")`; placeholders are filled after: `_("{n} steps").format(n=3)`."""
    return translations(lang).gettext


def ngettext_for(lang: str) -> Callable[[str, str, int], str]:
    return translations(lang).ngettext
