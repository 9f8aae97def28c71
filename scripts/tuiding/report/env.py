"""The report templates' Jinja environment, one per language: `{{ _("…") }}` in a template reads the
language's catalog (i18n.py), and `lang` is the page's `<html lang>`."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from ..i18n import translations

HTML_LANG = {"zh": "zh-CN", "en": "en", "de": "de"}
# A Latin face first for Latin pages: with a CJK face first, "quotes" and punctuation come out full-width.
LATIN = '"Noto Sans", "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans"'
CJK = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"'


def href(path: str) -> str:
    """A relative path as a link that can never be read as a scheme (`javascript:…`): `./` first, and every
    character that is not a plain path character percent-encoded."""
    from urllib.parse import quote

    return "./" + quote(path.lstrip("/"), safe="/._-~")


def fonts_for(lang: str) -> str:
    """The CSS font stack for pages in `lang`."""
    return f"{CJK}, system-ui, sans-serif" if lang == "zh" else f"{LATIN}, {CJK}, system-ui, sans-serif"


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("tuiding", "report"), autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.globals["html_lang"] = HTML_LANG.get(lang, lang)
    env.globals["fonts"] = fonts_for(lang)
    env.filters["href"] = href
    return env
