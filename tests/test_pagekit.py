"""The step's page read installed once per run (pagekit.py): what a step sends, documents the init script
did not reach, and a page that tries to answer in its place."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tuiding.pagekit import KEY, PageKit, Part

pytestmark = pytest.mark.browser

ECHO = Part("echo", "(arg, fixed) => ({arg, fixed, text: document.body ? document.body.innerText : ''})", {"words": ["退订"]})


def _sent(page: Any, calls: list[str]) -> Any:
    """Record the expressions `page.evaluate` is asked to run."""
    evaluate = page.evaluate

    def spy(expression: str, arg: Any = None) -> Any:
        calls.append(expression)
        return evaluate(expression, arg)

    return spy


@pytest.fixture
def context(session) -> Iterator[Any]:
    context = session.new_context()
    yield context
    context.close()


def test_a_read_sends_names_and_arguments_only(context) -> None:
    kit = PageKit([ECHO])
    kit.install(context)
    page = context.new_page()
    page.set_content("<p>立即退订</p>")
    calls: list[str] = []
    page.evaluate = _sent(page, calls)  # type: ignore[method-assign]
    answer = kit.read(page, ["echo"], [{"step": 3}])
    assert answer["facts"]["echo"] == {"arg": {"step": 3}, "fixed": {"words": ["退订"]}, "text": "立即退订"}
    assert answer["loaded"] is True and answer["title"] == ""
    assert len(calls) == 1 and len(calls[0]) < 200  # the functions and fixed arguments stay in the page
    flags = page.evaluate(
        f"() => {{ const d = Object.getOwnPropertyDescriptor(globalThis, {KEY!r}); return [d.writable, d.enumerable, d.configurable]; }}"
    )
    assert flags == [False, False, False]  # the page's own scripts cannot replace it, nor list it


def test_a_document_opened_before_the_install_gets_the_reader_on_its_first_read(context) -> None:
    page = context.new_page()
    page.set_content("<p>已退订</p>")
    kit = PageKit([ECHO])
    kit.install(context)  # after the document: its init script never ran there
    calls: list[str] = []
    page.evaluate = _sent(page, calls)  # type: ignore[method-assign]
    assert kit.read(page, ["echo"], [1])["facts"]["echo"]["text"] == "已退订"
    assert len(calls) == 2  # asked, then defined and asked in one call
    calls.clear()
    assert kit.read(page, ["echo"], [2])["facts"]["echo"]["arg"] == 2
    assert len(calls) == 1  # defined for the rest of the document's life


def test_a_page_cannot_answer_in_the_readers_place(context) -> None:
    kit = PageKit([ECHO])
    kit.install(context)
    page = context.new_page()
    forged = f"<p>会员</p><script>try {{ globalThis[{KEY!r}] = () => ({{facts: {{echo: 'forged'}}}}); }} catch (e) {{}}</script>"
    page.route("http://tuiding.test/", lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=forged))
    page.goto("http://tuiding.test/")
    assert kit.read(page, ["echo"], [None])["facts"]["echo"]["text"] == "会员"
