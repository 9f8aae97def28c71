"""`tuiding check`: is cancelling as easy as the rules ask? A reader of run folders (no browser).

Rules live in data files per jurisdiction (`data/rules/<locale>.yaml`): each names a `check` from the
table below and its parameters, so a jurisdiction is added without code. Each rule is judged
met / not met / not measurable, with the evidence: the step, its screenshot, the measured number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .record import Manifest, StepRecord
from .secrets import MASK

Verdict = Literal["met", "not met", "not measurable"]
Compared = Literal["clicks", "pages", "verifications", "inputs"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _RuleBase(_Strict):
    id: str
    title: str
    source: str
    channels: list[str] = Field([], description="scenario tags the rule applies to (e.g. [web, app]); empty: every journey")


class EntryClicks(_RuleBase):
    check: Literal["entry_clicks"]
    max: int = Field(ge=0)


class ConfirmLabel(_RuleBase):
    check: Literal["confirm_label"]
    patterns: list[str] = Field(min_length=1)


class Receipt(_RuleBase):
    check: Literal["receipt"]


class MaxMetric(_RuleBase):
    check: Literal["max_metric"]
    metric: Literal["retention_pages", "preticked", "verifications", "clicks", "pages"]
    max: int = Field(ge=0)


class NotHarderThanSignup(_RuleBase):
    check: Literal["not_harder_than_signup"]
    metrics: list[Compared] = Field(min_length=1)


class SignupShows(_RuleBase):
    check: Literal["signup_shows"]
    patterns: list[str] = Field(min_length=1)


class OnlineCancel(_RuleBase):
    """Signed up online, cancelled online: a page that sends the user to the phone instead fails it."""

    check: Literal["online_cancel"]
    patterns: list[str] = Field(min_length=1, description="text that sends the user elsewhere, e.g. 请致电")


class ConfirmPageAsks(_RuleBase):
    """The page the confirming click is made on names every item (e.g. §312k: kind, identity, contract, end date)."""

    check: Literal["confirm_page_asks"]
    asks: dict[str, list[str]] = Field(min_length=1, description="item → patterns, any of which shows the item")


class ReceiptOffers(_RuleBase):
    """The receipt page offers a way to keep it (print, download, save)."""

    check: Literal["receipt_offers"]
    patterns: list[str] = Field(min_length=1)


class RetentionWayOut(_RuleBase):
    """On every retention page, the way to keep cancelling is at least `min` as prominent as the page's largest control."""

    check: Literal["retention_way_out"]
    min: float = Field(gt=0, le=1, description="area of the keep-cancelling control / area of the largest control")


class NotMeasurable(_RuleBase):
    check: Literal["not_measurable"]
    why: str


Rule = Annotated[
    EntryClicks
    | ConfirmLabel
    | Receipt
    | MaxMetric
    | NotHarderThanSignup
    | SignupShows
    | OnlineCancel
    | ConfirmPageAsks
    | ReceiptOffers
    | RetentionWayOut
    | NotMeasurable,
    Field(discriminator="check"),
]


class RuleSet(_Strict):
    locale: str
    name: str
    rules: list[Rule]
    references: list[str] = []


RULESET = TypeAdapter(RuleSet)
LOCALES = ("zh", "de", "us-ca")


class Judgement(BaseModel):
    rule: str
    title: str
    source: str
    verdict: Verdict
    measured: str  # the number or fact the verdict rests on, in words
    step: int | None = None
    screenshot: str | None = None


class Journey:
    """A run folder as the rules see it: steps up to the receipt (what comes after is checking, not cancelling)."""

    def __init__(self, run_dir: Path, manifest: Manifest, *, signup: bool = False) -> None:
        self.dir, self.manifest = run_dir, manifest
        self.steps = manifest.steps
        # The first page that handed out a reference and a date-time (later pages, e.g. a history, repeat it).
        self.receipt = next((s for s in self.steps if s.page and s.page.in_flow and s.page.reference and s.page.datetime), None)
        # A sign-up journey counts whole: its pages may show an old cancellation's receipt.
        self.until_receipt = self.steps[: self.receipt.index] if self.receipt and not signup else self.steps

    def count(self, metric: str) -> int:
        steps = self.until_receipt
        if metric == "clicks":
            return sum(s.events.clicks for s in steps)
        if metric == "inputs":
            return sum(s.events.inputs for s in steps)
        if metric == "pages":
            return sum(1 for s in steps if s.page and s.page.new_page)
        if metric == "verifications":
            return sum(1 for s in steps if s.page and s.page.new_verification)
        return int(getattr(self.manifest.metrics, metric))

    def shot(self, step: StepRecord | None) -> str | None:
        return step.screenshot if step and step.screenshot else None


def load_rules(locales: list[str], rules_dir: Path | None = None) -> list[RuleSet]:
    """The rule files for `locales` (shipped ones, or `rules_dir/<locale>.yaml`)."""
    out = []
    for locale in locales:
        if rules_dir is not None:
            text = (rules_dir / f"{locale}.yaml").read_text(encoding="utf-8")
        else:
            text = files("tuiding").joinpath("data", "rules", f"{locale}.yaml").read_text(encoding="utf-8")
        out.append(RULESET.validate_python(yaml.safe_load(text)))
    return out


def _judge(rule: Rule, run: Journey, signup: Journey | None) -> Judgement:
    def verdict(ok: bool | None, measured: str, step: StepRecord | None = None) -> Judgement:
        v: Verdict = "not measurable" if ok is None else "met" if ok else "not met"
        return Judgement(
            rule=rule.id, title=rule.title, source=rule.source, verdict=v, measured=measured,
            step=step.index if step else None, screenshot=run.shot(step),
        )  # fmt: skip

    judges: dict[str, Callable[[], Judgement]] = {
        "entry_clicks": lambda: _entry_clicks(rule, run, verdict),  # type: ignore[arg-type]
        "confirm_label": lambda: _confirm_label(rule, run, verdict),  # type: ignore[arg-type]
        "receipt": lambda: _receipt(run, verdict),
        "max_metric": lambda: _max_metric(rule, run, verdict),  # type: ignore[arg-type]
        "not_harder_than_signup": lambda: _as_easy(rule, run, signup, verdict),  # type: ignore[arg-type]
        "signup_shows": lambda: _signup_shows(rule, signup, verdict),  # type: ignore[arg-type]
        "online_cancel": lambda: _online_cancel(rule, run, verdict),  # type: ignore[arg-type]
        "confirm_page_asks": lambda: _confirm_page_asks(rule, run, verdict),  # type: ignore[arg-type]
        "receipt_offers": lambda: _receipt_offers(rule, run, verdict),  # type: ignore[arg-type]
        "retention_way_out": lambda: _retention_way_out(rule, run, verdict),  # type: ignore[arg-type]
        "not_measurable": lambda: verdict(None, rule.why),  # type: ignore[union-attr]
    }
    return judges[rule.check]()


def _entry_clicks(rule: EntryClicks, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    entry = next((s for s in run.steps if s.page and s.page.in_flow), None)
    if entry is None:
        return verdict(False, "no unsubscribe entry was reached")
    # Counted from the first page after signing in, up to and with the entry. Signed in: after a login flow,
    # or after the click that follows typing a secret (masked in the record) — the login form's submit.
    signed_in = max((s.index for s in run.steps if s.flow and "login" in s.flow and s.index < entry.index), default=0)
    typed = [s.index for s in run.steps if s.action == "fill" and MASK in s.target and s.index < entry.index]
    if typed:
        after = run.steps[typed[-1]] if typed[-1] < len(run.steps) else None
        signed_in = max(signed_in, after.index if after is not None and after.events.clicks else typed[-1])
    clicking = [s for s in run.steps if signed_in < s.index <= entry.index and s.events.clicks]
    n = sum(s.events.clicks for s in clicking)
    where = ", ".join(str(s.index) for s in clicking)
    return verdict(n <= rule.max, f"{n} click(s) from the account pages to the entry (≤ {rule.max}); steps {where}", entry)


def _confirming_click(run: Journey) -> StepRecord | None:
    clicks = [s for s in run.until_receipt if s.events.clicks and s.page and s.page.in_flow]
    return clicks[-1] if clicks else None


NO_TEXT = "this run folder keeps no page text (written before tuiding recorded it): run the journey again"


def _confirm_page_asks(rule: ConfirmPageAsks, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    confirming = _confirming_click(run)
    if confirming is None:
        return verdict(False, "no click after the unsubscribe entry")
    # The page as it stood when the confirming click was made: what the step before it saw.
    page = next((s for s in reversed(run.steps[: confirming.index - 1]) if s.page and s.page.text), None)
    if page is None or not page.page:
        return verdict(None, NO_TEXT)
    shown = {item: any(re.search(p, page.page.text, re.IGNORECASE) for p in patterns) for item, patterns in rule.asks.items()}
    missing = [item for item, ok in shown.items() if not ok]
    listed = ", ".join(f"{item} {'✓' if ok else '✗'}" for item, ok in shown.items())
    return verdict(
        not missing, f"the page of the confirming click '{confirming.target or confirming.name}' shows: {listed}", page
    )


def _receipt_offers(rule: ReceiptOffers, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    r = run.receipt
    if r is None or r.page is None:
        return verdict(False, "no receipt page to save", run.steps[-1] if run.steps else None)
    if not r.page.text:
        return verdict(None, NO_TEXT, r)
    found = next((m.group(0) for p in rule.patterns if (m := re.search(p, r.page.text, re.IGNORECASE))), None)
    if found is None:
        return verdict(False, f"the receipt page offers no way to keep it ({' / '.join(rule.patterns[:4])} …)", r)
    return verdict(True, f"the receipt page offers '{found}'", r)


def _retention_way_out(rule: RetentionWayOut, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    pages = [s for s in run.until_receipt if s.page and s.page.retention_page]
    if not pages:
        return verdict(True, "no retention page")
    measured = [(s.page.way_out, s) for s in pages if s.page and s.page.way_out is not None]
    if not measured:
        return verdict(None, "this run folder does not keep how prominent the way out was: run the journey again")
    share, worst = min(measured, key=lambda m: m[0])
    if share == 0:
        return verdict(False, f"a retention page shows no way to keep cancelling (step {worst.index})", worst)
    measured_as = f"the way to keep cancelling is {share:.0%} the size of the page's largest control (≥ {rule.min:.0%})"
    return verdict(share >= rule.min, measured_as, worst)


def _confirm_label(rule: ConfirmLabel, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    last = _confirming_click(run)
    if last is None:
        return verdict(False, "no click after the unsubscribe entry")
    label = last.target or last.name
    ok = any(re.search(p, label, re.IGNORECASE) for p in rule.patterns)
    return verdict(ok, f"the confirming click was on '{label}'", last)


def _receipt(run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    r = run.receipt
    if r is not None and r.page:
        return verdict(True, f"reference {r.page.reference}, {r.page.datetime}", r)
    return verdict(False, "no page with a reference number and a date-time", run.steps[-1] if run.steps else None)


def _max_metric(rule: MaxMetric, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    n = run.count(rule.metric)
    first = None
    if rule.metric == "retention_pages":
        first = next((s for s in run.steps if s.page and s.page.retention_page), None)
    elif rule.metric == "preticked":
        first = next((s for s in run.steps if s.page and s.page.preticked), None)
    detail = f" ({', '.join(first.page.preticked)})" if first and first.page and rule.metric == "preticked" else ""
    return verdict(n <= rule.max, f"{rule.metric.replace('_', ' ')}: {n} (≤ {rule.max}){detail}", first)


def _as_easy(rule: NotHarderThanSignup, run: Journey, signup: Journey | None, verdict: Callable[..., Judgement]) -> Judgement:
    if signup is None:
        return verdict(None, "needs the sign-up journey: --signup RUN_DIR")
    shortcut = next((s for s in run.until_receipt[1:] if s.action == "goto" and not s.flow), None)
    if shortcut is not None:
        # A journey that opens a page by its address skips the clicks a user makes: not comparable.
        return verdict(None, f"the journey opens {shortcut.target} by address at step {shortcut.index}", shortcut)
    parts, ok = [], True
    for metric in rule.metrics:
        cancel, join = run.count(metric), signup.count(metric)
        ok &= cancel <= join
        parts.append(f"{metric} {cancel} {'≤' if cancel <= join else '>'} {join}")
    last = run.until_receipt[-1] if run.until_receipt else None
    return verdict(ok, "cancel vs sign-up: " + ", ".join(parts), last)


def _online_cancel(rule: OnlineCancel, run: Journey, verdict: Callable[..., Judgement]) -> Judgement:
    notice = next(
        (s for s in run.steps if s.status == "passed" and any(re.search(p, f"{s.target} {s.name}") for p in rule.patterns)),
        None,
    )
    if notice is not None:
        return verdict(False, f"the site sent the user elsewhere to cancel: {notice.name}", notice)
    if completed_cancellation(run):
        done = run.receipt or run.until_receipt[-1]
        return verdict(True, f"cancelled online (step {done.index})", done)
    return verdict(None, "the journey neither cancelled online nor met a notice sending the user elsewhere")


def _signup_shows(rule: SignupShows, signup: Journey | None, verdict: Callable[..., Judgement]) -> Judgement:
    if signup is None:
        return verdict(None, "needs the sign-up journey: --signup RUN_DIR")
    last_click = max((s.index for s in signup.steps if s.events.clicks), default=len(signup.steps))
    shown = next(
        (
            s
            for s in signup.steps
            if s.index < last_click and s.status == "passed" and any(re.search(p, f"{s.target} {s.name}") for p in rule.patterns)
        ),
        None,
    )
    if shown is None:
        return verdict(False, f"the sign-up journey never showed {' / '.join(rule.patterns)} before its last click")
    judgement = verdict(True, f"the sign-up journey showed it at step {shown.index}: {shown.name}")
    return judgement.model_copy(
        update={"step": shown.index, "screenshot": shown.screenshot and str(signup.dir / shown.screenshot)}
    )


# The click that submits a cancellation, whatever the site calls it; used only to tell a cancellation that
# ended without a receipt (judged) from a journey that stopped short or never meant to cancel (not judged).
CONFIRMING = re.compile(r"确认退订|立即退订|一键退订|确认注销|残忍离开|kündigen|cancel", re.IGNORECASE)


def completed_cancellation(run: Journey) -> bool:
    """A receipt, or a last click after the entry that submits a cancellation (a receipt may still be missing)."""
    if run.receipt is not None:
        return True
    clicks = [s for s in run.steps if s.events.clicks and s.page and s.page.in_flow]
    return bool(clicks) and bool(CONFIRMING.search(clicks[-1].target or clicks[-1].name))


def _applies(rule: Rule, run: Journey) -> bool:
    return not rule.channels or bool(set(run.manifest.scenario.tags) & set(rule.channels))


def _not_judged(rule: Rule, measured: str) -> Judgement:
    return Judgement(rule=rule.id, title=rule.title, source=rule.source, verdict="not measurable", measured=measured)


def _for_incomplete(rule: Rule, run: Journey, signup: Journey | None) -> Judgement:
    if rule.check == "online_cancel" and _applies(rule, run):
        return _judge(rule, run, signup)
    return _not_judged(rule, "not a completed cancellation: no receipt and no click that submits one")


def judge(run: Journey, rulesets: list[RuleSet], signup: Journey | None = None) -> list[Judgement]:
    if not completed_cancellation(run):
        # A pause, a password reset, a lockout, a reminder: the rules are about cancellations, so no alarms here —
        # except the rule whose point is that the journey could not cancel online at all.
        return [_for_incomplete(rule, run, signup) for rs in rulesets for rule in rs.rules]
    tags = ", ".join(sorted(run.manifest.scenario.tags)) or "nothing"
    return [
        _judge(rule, run, signup)
        if _applies(rule, run)
        else _not_judged(rule, f"applies to {' / '.join(rule.channels)} journeys; this one is tagged {tags}")
        for rs in rulesets
        for rule in rs.rules
    ]
