"""The step vocabulary: one small function per action, registered in ACTIONS.

Adding an action = one function here (decorated with @action), its argument type
(scripts/args.py), one test, one README line. `run:` (flows) is structural and
executed by the runner, but validated and documented through this table too.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from playwright.sync_api import Download, Locator, Page, expect
from pydantic import TypeAdapter

from . import args as A
from .locators import field as field_locator, locate, visible_text


class StepFailed(AssertionError):
    """An expectation of the scenario did not hold (as opposed to a crash of the tool)."""


@dataclass
class Events:
    """What one step did in the browser; metrics and walkthroughs are derived from these."""
    clicks: int = 0
    inputs: int = 0
    dialogs: int = 0
    requests: int = 0
    bbox: dict[str, float] | None = None
    downloads: list[str] = field(default_factory=list)


class DownloadSink(Protocol):
    def __call__(self, download: Download, name: str) -> Path: ...


@dataclass
class StepContext:
    page: Page
    timeout_ms: float
    vars: dict[str, Any]                 # run-wide values saved by `save` / `request`
    events: Events
    base_dir: Path                       # the scenario file's folder (for upload paths)
    save_download: DownloadSink
    is_secret: Callable[[str], bool]
    mask: Callable[[Locator], None]      # hide this element in later screenshots
    arm_dialog: Callable[[str], None]    # how to answer the next JS dialog ("accept" | "dismiss")

    def record_box(self, loc: Locator) -> None:
        try:
            self.events.bbox = loc.bounding_box(timeout=self.timeout_ms)
        except Exception:  # the box is evidence for walkthroughs, never a reason to fail
            self.events.bbox = None


@dataclass(frozen=True)
class Action:
    name: str
    arg: Any                             # a type pydantic can validate
    run: Callable[[StepContext, Any], None] | None
    caption: Callable[[Any], str]
    summary: str

    @property
    def adapter(self) -> TypeAdapter:
        return TypeAdapter(self.arg)


ACTIONS: dict[str, Action] = {}


def action(name: str, arg: Any, caption: Callable[[Any], str], summary: str):
    def register(fn: Callable[[StepContext, Any], None] | None) -> Callable | None:
        ACTIONS[name] = Action(name, arg, fn, caption, summary)
        return fn
    return register


def _t(spec: Any) -> str:
    return spec if isinstance(spec, str) else spec.describe()


def _quoted(spec: Any) -> str:
    return f"'{spec}'" if isinstance(spec, str) else f"{{{spec.describe()}}}"


@action("goto", str, lambda a: f"打开 {a}", "open a URL (a path is joined to the site's base URL)")
def goto(ctx: StepContext, url: str) -> None:
    ctx.page.goto(url, timeout=ctx.timeout_ms)


@action("click", A.TargetSpec, lambda a: f"点击「{_t(a)}」", "click an element")
def click(ctx: StepContext, target: Any) -> None:
    loc = locate(ctx.page, target, ctx.timeout_ms)
    ctx.record_box(loc)
    loc.click(timeout=ctx.timeout_ms)
    ctx.events.clicks += 1


def _fill_caption(a: Any) -> str:
    return "填写 " + ("、".join(a) if isinstance(a, dict) else _t(a))


@action("fill", A.FillArg, _fill_caption,
        "type into fields: {label: value, …} or {target…, value}")
def fill(ctx: StepContext, arg: Any) -> None:
    pairs = [(field_locator(ctx.page, k), v) for k, v in arg.items()] if isinstance(arg, dict) else [(locate(ctx.page, arg, ctx.timeout_ms), arg.value)]
    for loc, value in pairs:
        ctx.record_box(loc)
        text = str(value)
        if ctx.is_secret(text):
            ctx.mask(loc)
        loc.fill(text, timeout=ctx.timeout_ms)
        ctx.events.inputs += 1


@action("select", A.SelectArg, lambda a: f"选择「{a.option}」", "choose an option of a <select> by its label or value")
def select(ctx: StepContext, arg: A.SelectArg) -> None:
    loc = locate(ctx.page, arg)
    ctx.record_box(loc)
    option = str(arg.option)
    try:
        loc.select_option(label=option, timeout=ctx.timeout_ms)
    except Exception:
        loc.select_option(value=option, timeout=ctx.timeout_ms)
    ctx.events.inputs += 1


@action("check", A.TargetSpec, lambda a: f"勾选「{_t(a)}」", "tick a checkbox or radio button")
def check(ctx: StepContext, target: Any) -> None:
    _set_checked(ctx, target, True)


@action("uncheck", A.TargetSpec, lambda a: f"取消勾选「{_t(a)}」", "untick a checkbox")
def uncheck(ctx: StepContext, target: Any) -> None:
    _set_checked(ctx, target, False)


def _set_checked(ctx: StepContext, target: Any, checked: bool) -> None:
    loc = _checkable(ctx.page, target)
    ctx.record_box(loc)
    loc.set_checked(checked, timeout=ctx.timeout_ms)
    ctx.events.clicks += 1


def _checkable(page: Page, target: Any) -> Locator:
    # A string names the checkbox by its label text ("我已阅读并同意…" beside the box).
    if isinstance(target, str):
        return page.get_by_label(target).or_(page.get_by_role("checkbox", name=target)).first
    return locate(page, target)


@action("press", str | A.PressArg, lambda a: f"按下 {a if isinstance(a, str) else a.key}",
        "press a key (on the focused element, or {target…, key})")
def press(ctx: StepContext, arg: Any) -> None:
    if isinstance(arg, str):
        ctx.page.keyboard.press(arg)
    else:
        locate(ctx.page, arg).press(arg.key, timeout=ctx.timeout_ms)


@action("see", A.TargetSpec, lambda a: f"确认页面显示「{_t(a)}」", "assert an element or text is visible")
def see(ctx: StepContext, target: Any) -> None:
    loc = visible_text(ctx.page, target)
    try:
        expect(loc).to_be_visible(timeout=ctx.timeout_ms)
    except AssertionError:
        raise StepFailed(f"expected to see {_quoted(target)} on the page, not visible after {ctx.timeout_ms / 1000:g}s") from None
    ctx.record_box(loc)


@action("not_see", A.TargetSpec, lambda a: f"确认页面不显示「{_t(a)}」", "assert an element or text is not visible")
def not_see(ctx: StepContext, target: Any) -> None:
    try:
        if isinstance(target, str):
            expect(ctx.page.get_by_text(target).filter(visible=True)).to_have_count(0, timeout=ctx.timeout_ms)
        else:
            expect(locate(ctx.page, target)).to_be_hidden(timeout=ctx.timeout_ms)
    except AssertionError:
        raise StepFailed(f"expected {_quoted(target)} not to be visible, still visible after {ctx.timeout_ms / 1000:g}s") from None


@action("expect_url", str, lambda a: f"确认网址包含 {a}", "assert the page URL contains this text")
def expect_url(ctx: StepContext, text: str) -> None:
    try:
        expect(ctx.page).to_have_url(re.compile(re.escape(text)), timeout=ctx.timeout_ms)
    except AssertionError:
        raise StepFailed(f"expected the URL to contain '{text}', it is {ctx.page.url}") from None


def condition_holds(page: Page, cond: A.Condition) -> bool:
    """Check a condition now, without waiting (for `if:` and `wait: {until: …}`)."""
    if cond.see is not None:
        return visible_text(page, cond.see).is_visible()
    if cond.not_see is not None:
        return not visible_text(page, cond.not_see).is_visible()
    return (cond.url or "") in page.url


def _wait_caption(a: Any) -> str:
    if isinstance(a, A.WaitUntil):
        c = a.until
        return "等待" + (f"页面显示「{_t(c.see)}」" if c.see is not None else f"「{_t(c.not_see)}」消失" if c.not_see is not None else f"网址包含 {c.url}")
    if isinstance(a, A.WaitFor):
        return f"等待「{_t(a.for_)}」"
    return f"等待 {a}"


@action("wait", A.WaitArg, _wait_caption,
        "pause (a duration), wait for an element ({for, state}), or poll ({until, reload, every, timeout})")
def wait(ctx: StepContext, arg: Any) -> None:
    if isinstance(arg, A.WaitFor):
        locate(ctx.page, arg.for_).wait_for(state=arg.state, timeout=ctx.timeout_ms)
    elif isinstance(arg, A.WaitUntil):
        deadline = time.monotonic() + arg.timeout
        while not condition_holds(ctx.page, arg.until):
            if time.monotonic() >= deadline:
                raise StepFailed(f"{_wait_caption(arg)}: still not so after {arg.timeout:g}s")
            ctx.page.wait_for_timeout(arg.every * 1000)
            if arg.reload:
                ctx.page.reload(timeout=ctx.timeout_ms)
    else:
        ctx.page.wait_for_timeout(A.parse_duration(arg) * 1000)


@action("save", A.SaveArg, lambda a: f"记录「{_t(a.from_)}」为 {a.var}", "store an element's text (or a pattern's group) in a variable")
def save(ctx: StepContext, arg: A.SaveArg) -> None:
    loc = locate(ctx.page, arg.from_)
    ctx.record_box(loc)
    text = loc.inner_text(timeout=ctx.timeout_ms).strip()
    if arg.pattern:
        m = re.search(arg.pattern, text)
        if not m:
            raise StepFailed(f"pattern {arg.pattern!r} not found in {text[:80]!r}")
        text = m.group(1) if m.groups() else m.group(0)
    ctx.vars[arg.var] = text


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


@action("request", A.RequestArg, lambda a: f"请求 {a.method} {a.url}", "HTTP call against the site (shares the browser's cookies); save JSON values")
def request(ctx: StepContext, arg: A.RequestArg) -> None:
    resp = ctx.page.request.fetch(
        arg.url, method=arg.method, headers=arg.headers, timeout=ctx.timeout_ms,
        data=arg.json_ if arg.json_ is not None else None, form=arg.form,  # type: ignore[arg-type]
    )
    ctx.events.requests += 1
    ok = resp.status == arg.expect_status if arg.expect_status else 200 <= resp.status < 300
    if not ok:
        raise StepFailed(f"{arg.method} {arg.url} answered {resp.status}: {resp.text()[:160]}")
    if arg.save:
        body = resp.json()
        for var, path in arg.save.items():
            ctx.vars[var] = json_path(body, path)


@action("upload", A.UploadArg, lambda a: f"上传 {a.files}", "set files on a file input (paths relative to the scenario file)")
def upload(ctx: StepContext, arg: A.UploadArg) -> None:
    files = [arg.files] if isinstance(arg.files, str) else arg.files
    paths = [str((ctx.base_dir / f).resolve()) for f in files]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise StepFailed(f"file to upload not found: {missing[0]}")
    loc = locate(ctx.page, arg)
    ctx.record_box(loc)
    loc.set_input_files(paths, timeout=ctx.timeout_ms)
    ctx.events.inputs += 1


@action("download", A.DownloadArg, lambda a: f"下载「{_t(a.click)}」", "click something that downloads a file; the file is kept in the run folder")
def download(ctx: StepContext, arg: A.DownloadArg) -> None:
    loc = locate(ctx.page, arg.click, ctx.timeout_ms)
    ctx.record_box(loc)
    with ctx.page.expect_download(timeout=ctx.timeout_ms) as info:
        loc.click(timeout=ctx.timeout_ms)
    ctx.events.clicks += 1
    dl = info.value
    ctx.events.downloads.append(str(ctx.save_download(dl, arg.as_ or dl.suggested_filename)))


@action("dialog", A.DialogArg, lambda a: "接受弹窗" if a == "accept" else "取消弹窗", "accept or dismiss the next JS dialog (confirm/alert)")
def dialog(ctx: StepContext, how: str) -> None:
    # The dialog opens during a later step; the runner's handler answers it (and counts it there).
    ctx.arm_dialog(how)


# Structural: the runner inlines the flow's steps (see runner.run_flow).
action("run", str, lambda a: f"执行流程 {a}", "run a reusable flow file (path relative to this file) with `vars`")(None)
