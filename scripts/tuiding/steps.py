"""The step vocabulary in the browser: one small function per action, registered in RUNNERS.

Adding an action = one model in model.py (its argument type and caption), one function
here (decorated with @runs), one test; the reference is generated from the model. `run:` (flows) is structural and
executed by the runner.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from playwright.sync_api import Download, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from . import model as M
from .filecheck import check_file
from .loadstate import wait_for_load
from .locators import BOX_JS, Measured, field_measured, first_box, locate, locate_measured, visible_text
from .record import Box


class StepFailed(AssertionError):
    """An expectation of the scenario did not hold (as opposed to a crash of the tool)."""


@dataclass
class Events:
    """What one step did in the browser; metrics and walkthroughs are derived from these."""

    clicks: int = 0
    inputs: int = 0
    keystrokes: int = 0
    navigations: int = 0
    dialogs: int = 0
    requests: int = 0
    emails: int = 0
    bbox: Box | None = None
    element: tuple[str, str] | None = None  # (role, name) of the element acted on last
    downloads: list[str] = field(default_factory=list)


class DownloadSink(Protocol):
    def __call__(self, download: Download, name: str) -> Path: ...


@dataclass(kw_only=True)
class StepContext:
    page: Page
    budget_ms: float  # the step's timeout: all its waits together, not each of them
    vars: dict[str, Any]  # run-wide values saved by `save` / `request`
    events: Events
    base_dir: Path  # the scenario file's folder (for upload paths)
    save_download: DownloadSink
    has_secret: Callable[[str], bool]  # does this text contain a secret value?
    mask: Callable[[Locator, list[str] | None], None]  # hide this field in later screenshots (its selectors if known)
    arm_dialog: Callable[[str], None]  # how to answer the next JS dialog ("accept" | "dismiss")
    request_refused: Callable[[str], str | None] = lambda _url: None  # the live-site guard (guard.py)
    navigation_refused: Callable[[str], str | None] = lambda _url: None  # a goto off this machine, or to a file
    add_secret: Callable[..., None] = lambda _value, **_kw: None  # mask this value from now on, everywhere
    typed: Callable[[str], None] = lambda _text: None  # this text went to the site (its secrets may come back on pages)
    mailbox: Any = None  # where `email` steps read (mail.py), when the scenario has one
    show_mail: Callable[[Any], None] = lambda _message: None  # keep a received message and show it as the receipt
    warn: Callable[[str], None] = lambda _text: None  # a warning on this step's record
    within: Locator | None = None  # `within:` — targets are looked for inside this part of the page only
    secret_names: frozenset[str] = frozenset()  # variables the scenario's or a flow's `secrets:` names

    def keep(self, var: str, value: Any, secret: bool) -> None:
        """A saved value: secret when the step says so or `secrets:` names the variable (masked from now on)."""
        self.vars[var] = value
        if secret or var in self.secret_names:
            self.add_secret(value, site=True)

    @property
    def scope(self) -> Page | Locator:
        return self.within if self.within is not None else self.page

    started: float = field(default_factory=time.monotonic)

    @property
    def timeout_ms(self) -> float:
        """What is left of the step's timeout: finding a target and then clicking it share one budget.
        Never 0, which Playwright reads as "wait forever"."""
        return max(1.0, self.budget_ms - (time.monotonic() - self.started) * 1000)

    def find(self, target: Any) -> Locator:
        """The step's target (see locators.locate), its box recorded."""
        loc, measured = locate_measured(self.scope, target, self.timeout_ms)
        self.record_box(loc, measured)
        return loc

    def record_box(self, loc: Locator, measured: Measured | None = None) -> str | None:
        """The element's box in page coordinates (evidence for walkthroughs, never a reason to fail), read
        now unless measured while locating it; returns its input type ('' for none), None if unknown.
        Several elements in one step (a fill of two fields) give the box around all of them."""
        if measured is None:
            try:
                measured = loc.evaluate(BOX_JS, timeout=min(self.timeout_ms, 2000))
            except Exception:
                return None
        x, y, w, h, kind, role, name, _named = measured
        self.events.element = (role, name)
        if not (w and h):
            return kind
        b = self.events.bbox
        if b is not None:
            left, top = min(b.x, x), min(b.y, y)
            right, bottom = max(b.x + b.width, x + w), max(b.y + b.height, y + h)
            x, y, w, h = left, top, right - left, bottom - top
        self.events.bbox = Box(x=x, y=y, width=w, height=h)
        return kind


RUNNERS: dict[str, Callable[[StepContext, Any], None]] = {}


def runs(name: str) -> Callable[[Callable[[StepContext, Any], None]], Callable[[StepContext, Any], None]]:
    def register(fn: Callable[[StepContext, Any], None]) -> Callable[[StepContext, Any], None]:
        assert name in M.ACTIONS, f"no model for action {name!r}"
        RUNNERS[name] = fn
        return fn

    return register


def _quoted(spec: Any) -> str:
    return f"'{spec}'" if isinstance(spec, str) else f"{{{spec.describe()}}}"


@runs("goto")
def goto(ctx: StepContext, url: str) -> None:
    refused = ctx.navigation_refused(url)
    if refused:
        raise StepFailed(refused)
    ctx.page.goto(url, timeout=ctx.timeout_ms)


@runs("click")
def click(ctx: StepContext, target: Any) -> None:
    loc = ctx.find(target)
    loc.click(timeout=ctx.timeout_ms)
    ctx.events.clicks += 1


@runs("fill")
def fill(ctx: StepContext, arg: Any) -> None:
    if isinstance(arg, dict):
        pairs = [(field_measured(ctx.scope, k, ctx.timeout_ms), v) for k, v in arg.items()]
    else:
        pairs = [(locate_measured(ctx.scope, arg, ctx.timeout_ms), arg.value)]
    for (loc, measured), value in pairs:
        kind = ctx.record_box(loc, measured)
        text = str(value)
        if kind is None and not ctx.has_secret(text) and text:
            kind = loc.evaluate("e => e.type", timeout=ctx.timeout_ms)
        if not ctx.has_secret(text) and text and kind == "password":
            # A password written into the scenario itself: still never shown, and the author is told.
            ctx.add_secret(text)
            ctx.warn(
                "a literal value typed into a password field: masked like a secret; put it in vars and list it under secrets"
            )
        if ctx.has_secret(text):
            ctx.mask(loc, measured[7] if measured is not None else None)
            ctx.typed(text)
        loc.fill(text, timeout=ctx.timeout_ms)
        ctx.events.inputs += 1
        ctx.events.keystrokes += len(text)


@runs("select")
def select(ctx: StepContext, arg: M.SelectArg) -> None:
    loc = locate(ctx.scope, arg)
    ctx.record_box(loc)
    option = str(arg.option)
    try:
        loc.select_option(label=option, timeout=ctx.timeout_ms)
    except Exception:
        loc.select_option(value=option, timeout=ctx.timeout_ms)
    ctx.events.inputs += 1


@runs("check")
def check(ctx: StepContext, target: Any) -> None:
    _set_checked(ctx, target, True)


@runs("uncheck")
def uncheck(ctx: StepContext, target: Any) -> None:
    _set_checked(ctx, target, False)


def _set_checked(ctx: StepContext, target: Any, checked: bool) -> None:
    loc = _checkable(ctx.scope, target)
    ctx.record_box(loc, first_box(loc, quiet=True))  # usually there: one call, else measured while waiting
    loc.set_checked(checked, timeout=ctx.timeout_ms)
    ctx.events.clicks += 1


def _checkable(page: Page | Locator, target: Any) -> Locator:
    # A string names the checkbox by its label text ("我已阅读并同意…" beside the box).
    if isinstance(target, str):
        return page.get_by_label(target).or_(page.get_by_role("checkbox", name=target)).first
    return locate(page, target)


@runs("press")
def press(ctx: StepContext, arg: Any) -> None:
    if isinstance(arg, str):
        ctx.page.keyboard.press(arg)
    else:
        locate(ctx.scope, arg).press(arg.key, timeout=ctx.timeout_ms)
    ctx.events.keystrokes += 1


@runs("see")
def see(ctx: StepContext, target: Any) -> None:
    loc = visible_text(ctx.scope, target)
    # A text's locator keeps visible elements only: one there now is seen, and measured in the same round trip.
    seen = first_box(loc, quiet=True) if isinstance(target, str) else None
    if seen is None:
        try:
            expect(loc).to_be_visible(timeout=ctx.timeout_ms)
        except AssertionError:
            raise StepFailed(
                f"expected to see {_quoted(target)} on the page, not visible after {ctx.budget_ms / 1000:g}s"
            ) from None
    ctx.record_box(loc, seen)


@runs("not_see")
def not_see(ctx: StepContext, target: Any) -> None:
    try:
        if isinstance(target, str):
            expect(ctx.scope.get_by_text(target).filter(visible=True)).to_have_count(0, timeout=ctx.timeout_ms)
        else:
            expect(locate(ctx.scope, target)).to_be_hidden(timeout=ctx.timeout_ms)
    except AssertionError:
        raise StepFailed(f"expected {_quoted(target)} not to be visible, still visible after {ctx.budget_ms / 1000:g}s") from None


@runs("expect_url")
def expect_url(ctx: StepContext, spec: str | M.UrlMatch) -> None:
    """Contained text (a string), Playwright's glob (a string with `*`, or {glob}: matched by Playwright itself,
    relative to the site's base URL, as page.wait_for_url does), or {regex} (searched)."""
    if isinstance(spec, str):
        spec = M.UrlMatch(glob=spec) if "*" in spec else M.UrlMatch(contains=spec)
    try:
        if spec.glob is not None:
            words = f"to match the glob '{spec.glob}'"
            ctx.page.wait_for_url(spec.glob, wait_until="commit", timeout=ctx.timeout_ms)
        else:
            words = f"to match /{spec.regex}/" if spec.regex is not None else f"to contain '{spec.contains}'"
            pattern = re.compile(spec.regex if spec.regex is not None else re.escape(spec.contains or ""))
            expect(ctx.page).to_have_url(pattern, timeout=ctx.timeout_ms)
    except (AssertionError, PlaywrightTimeout):
        raise StepFailed(f"expected the URL {words}, it is {ctx.page.url}") from None


def condition_holds(page: Page, cond: M.Condition) -> bool:
    """Check a condition now, without waiting for it (for `if:` and `wait: {until: …}`) — but on a loaded
    page: a click's navigation may still be arriving."""
    try:
        wait_for_load(page, "load", 5000)
    except Exception:
        pass
    if cond.see is not None:
        return visible_text(page, cond.see).is_visible()
    if cond.not_see is not None:
        return not visible_text(page, cond.not_see).is_visible()
    return (cond.url or "") in page.url


@runs("wait")
def wait(ctx: StepContext, arg: Any) -> None:
    if isinstance(arg, M.WaitFor):
        locate(ctx.scope, arg.for_).wait_for(state=arg.state, timeout=ctx.timeout_ms)
    elif isinstance(arg, M.WaitUntil):
        deadline = time.monotonic() + arg.timeout
        while not condition_holds(ctx.page, arg.until):
            if time.monotonic() >= deadline:
                raise StepFailed(
                    f"waited for {arg.until.caption('en').removeprefix('the ')}: still not so after {arg.timeout:g}s"
                )
            ctx.page.wait_for_timeout(arg.every * 1000)
            if arg.reload:
                ctx.page.reload(timeout=ctx.timeout_ms)
    else:
        ctx.page.wait_for_timeout(float(arg) * 1000)


@runs("save")
def save(ctx: StepContext, arg: M.SaveArg) -> None:
    loc = ctx.find(arg.from_)
    text = loc.inner_text(timeout=ctx.timeout_ms).strip()
    if arg.pattern:
        m = re.search(arg.pattern, text)
        if not m:
            raise StepFailed(f"pattern {arg.pattern!r} not found in {text[:80]!r}")
        text = m.group(1) if m.groups() else m.group(0)
    ctx.keep(arg.var, text, arg.secret)


def json_path(data: Any, path: str) -> Any:
    """'code', 'messages.0.code': dotted keys and list indexes."""
    for part in path.split(".") if path else []:
        if isinstance(data, list) and part.lstrip("-").isdigit():
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            raise StepFailed(f"response has no '{path}' (stopped at '{part}')")
    return data


@runs("request")
def request(ctx: StepContext, arg: M.RequestArg) -> None:
    refused = ctx.request_refused(arg.url)
    if refused:
        raise StepFailed(refused)
    resp = ctx.page.request.fetch(
        arg.url,
        method=arg.method,
        headers=arg.headers,
        timeout=ctx.timeout_ms,
        data=arg.json_ if arg.json_ is not None else None,
        form=arg.form,
    )
    ctx.events.requests += 1
    ok = resp.status == arg.expect_status if arg.expect_status else 200 <= resp.status < 300
    if not ok:
        raise StepFailed(f"{arg.method} {arg.url} answered {resp.status}: {resp.text()[:160]}")
    if arg.save:
        try:
            body = resp.json()
        except Exception:
            raise StepFailed(f"{arg.method} {arg.url} did not answer JSON, so nothing can be saved from it") from None
        for var, path in arg.save.items():
            ctx.keep(var, json_path(body, path), arg.secret)


@runs("upload")
def upload(ctx: StepContext, arg: M.UploadArg) -> None:
    files = [arg.files] if isinstance(arg.files, str) else arg.files
    paths = [str((ctx.base_dir / f).resolve()) for f in files]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise StepFailed(f"file to upload not found: {missing[0]}")
    loc = locate(ctx.scope, arg)
    ctx.record_box(loc)
    loc.set_input_files(paths, timeout=ctx.timeout_ms)
    ctx.events.inputs += 1


@runs("download")
def download(ctx: StepContext, arg: M.DownloadArg) -> None:
    loc = ctx.find(arg.click)
    with ctx.page.expect_download(timeout=ctx.timeout_ms) as info:
        loc.click(timeout=ctx.timeout_ms)
    ctx.events.clicks += 1
    dl = info.value
    saved = ctx.save_download(dl, arg.as_ or dl.suggested_filename)
    ctx.events.downloads.append(str(saved))
    if arg.expect is not None:
        problems = check_file(saved, arg.expect)
        if problems:
            raise StepFailed("; ".join(problems))


@runs("count")
def count(ctx: StepContext, arg: M.CountArg) -> None:
    loc = locate(ctx.scope, arg).filter(visible=True)
    deadline = time.monotonic() + ctx.budget_ms / 1000
    while True:
        n = loc.count()
        ok = (
            (arg.equals is None or n == arg.equals)
            and (arg.at_least is None or n >= arg.at_least)
            and (arg.at_most is None or n <= arg.at_most)
        )
        if ok:
            if n:
                ctx.record_box(loc.first)
            return
        if time.monotonic() >= deadline:
            raise StepFailed(f"expected {arg.bounds()} visible {{{arg.describe()}}}, found {n} after {ctx.budget_ms / 1000:g}s")
        ctx.page.wait_for_timeout(100)


@runs("email")
def read_email(ctx: StepContext, arg: M.EmailArg) -> None:
    """The first unread message that matches, kept in the run folder (secrets masked) and shown as the step's
    receipt; values saved from its text and links."""
    if ctx.mailbox is None:
        raise StepFailed("this scenario has no mailbox to read: add `mailbox: smtp` (or {folder: …} or {imap: …})")
    message = ctx.mailbox.take(arg, ctx.budget_ms / 1000)
    if message is None:
        wanted = ", ".join(f"{k} '{v}'" for k, v in arg.model_dump(by_alias=True, exclude={"save", "secret"}).items() if v)
        raise StepFailed(
            f"no e-mail{' with ' + wanted if wanted else ''} arrived within {ctx.budget_ms / 1000:g}s "
            f"(mailbox {ctx.mailbox.describe()}; {ctx.mailbox.others()})"
        )
    ctx.events.emails += 1
    for var, pattern in (arg.save or {}).items():
        m = re.search(pattern, message.haystack())
        if not m:
            raise StepFailed(f"pattern {pattern!r} not found in the e-mail '{message.subject}'")
        ctx.keep(var, m.group(1) if m.groups() else m.group(0), arg.secret)
    ctx.show_mail(message)


@runs("dialog")
def dialog(ctx: StepContext, how: str) -> None:
    # The dialog opens during a later step; the runner's handler answers it (and counts it there).
    ctx.arm_dialog(how)
