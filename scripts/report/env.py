"""The report templates' Jinja environment, one per language: `{{ _("…") }}` in a template reads the
language's catalog (i18n.py), and `lang` is the page's `<html lang>`."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from ..i18n import translations

HTML_LANG = {"zh": "zh-CN", "en": "en", "de": "de"}


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("tuiding", "report"), autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.globals["html_lang"] = HTML_LANG.get(lang, lang)
    return env
