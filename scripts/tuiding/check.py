"""`tuiding check`: is cancelling as easy as the rules ask? A reader of run folders (no browser).

Rules come in packs (rules.py). Each rule is judged **met**, **not met**, **not measurable** (with why) or
**not applicable** (with why: the service is free, the journey is the hotline's …), with the evidence: the step,
its screenshot, the measured number. A run that did not end as passed is not judged at all: its failure is
not evidence about the site's rules. The cancellation is read between its landmarks (landmarks.py): counted
from the start to where it is done; what follows is checking, not cancelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from .i18n import gettext_for, language
from .landmarks import Landmarks, resolve
from .record import Manifest, StepRecord
from .rules import (
    AppliesIf,
    ConfirmLabel,
    ConfirmPageAsks,
    EndNotice,
    EntryClicks,
    MaxMetric,
    NotHarderThanSignup,
    NotMeasurable,
    OnlineCancel,
    ReceiptOffers,
    RetentionWayOut,
    Rule,
    RulePack,
    SignupShows,
    item_label,
    item_patterns,
    patterns_in,
    text_in,
)
from .secrets import MASK

Verdict = Literal["met", "not met", "not measurable", "not applicable"]


def N_(text: str) -> str:  # gettext's name for "translate later" (extracted by make messages)
    return text


# Words built from data, marked here so their translations are extracted.
WORDS = (
    N_("clicks"), N_("pages"), N_("inputs"), N_("verifications"), N_("retention pages"), N_("preticked"), N_("emails"),
    N_("online"), N_("offline"), N_("met"), N_("not met"), N_("not measurable"), N_("not applicable"),
    N_("passed"), N_("failed"), N_("interrupted"), N_("error"), N_("running"), N_("skipped"), N_("optional-failed"),
)  # fmt: skip
SERVICE_FACTS = ("paid", "renews", "contract", "consent", "signup")
DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}/\d{1,2}/\d{4}|[A-Z][a-z]{2,8} \d{1,2}, \d{4}"
)


class Judgement(BaseModel):
    rule: str
    pack: str = ""
    title: str
    source: str
    verdict: Verdict
    measured: str  # the number or fact the verdict rests on, in words
    step: int | None = None
    screenshot: str | None = None
    upcoming: str | None = None  # the pack is not in force yet: shown, never failing


class Journey:
    """A run folder as the rules see it: its landmarks, its language and its site."""

    def __init__(self, run_dir: Path, manifest: Manifest, *, signup: bool = False, lang: str | None = None) -> None:
        self.dir, self.manifest, self.signup = run_dir, manifest, signup
        self.hide_personal = manifest.hide_personal  # the friction report's pictures hide what guides hide
        self.steps = manifest.steps
        self.marks: Landmarks = resolve(self.steps)
        self.lang = lang or language(manifest.lang or manifest.locale)  # what the checklist is written in
        self.page_lang = language(manifest.locale)  # what the site's pages are in: whose patterns read them
        last = self.marks.last
        # A sign-up journey counts whole: its pages may show an old cancellation's receipt.
        self.until = self.steps[: last.index] if last is not None and not signup else self.steps

    @property
    def receipt(self) -> StepRecord | None:
        """The done step when it showed a reference and a date-time."""
        done = self.marks.done
        if done is not None and done.page and done.page.reference and done.page.datetime:
            return done
        return next((s for s in self.until if s.page and s.page.in_flow and s.page.reference and s.page.datetime), None)

    @property
    def site(self) -> str:
        """Which site the journey ran on: the embedded portal's name, else the base URL's host."""
        site = self.manifest.site
        return site.portal or (urlsplit(site.base_url or "").hostname or "")

    def count(self, metric: str) -> int:
        steps = self.until
        if metric == "clicks":
            return sum(s.events.clicks for s in steps)
        if metric == "inputs":
            return sum(s.events.inputs for s in steps)
        if metric == "emails":
            return sum(s.events.emails for s in steps)
        if metric == "pages":
            return sum(1 for s in steps if s.page and s.page.new_page)
        if metric == "verifications":
            return sum(1 for s in steps if s.page and s.page.new_verification)
        if metric == "retention_pages":
            return sum(1 for s in steps if s.page and s.page.retention_page)
        if metric == "preticked":
            return sum(len(s.page.preticked) for s in steps if s.page)
        return int(getattr(self.manifest.metrics, metric))

    def stopped(self) -> str | None:
        """Why this run is not judged, in words; None when it is. A journey that stopped on a failed step before
        it sent the cancellation, was interrupted or broke is not evidence about the site's rules; one that went
        to its end but exceeded a budget or changed a screen, or failed after sending, is judged."""
        m = self.manifest
        _ = gettext_for(self.lang)
        last = m.steps[-1] if m.steps else None
        stopped = last is not None and last.status == "failed" and not (last.visual and last.visual.status == "changed")
        # Stopped after the cancellation was sent (e.g. waiting for a receipt that never came): what the site
        # did up to there is the evidence, and a missing receipt is a finding, not a broken run.
        sent = self.marks.submit is not None and last is not None and self.marks.submit.index < last.index
        if m.status == "passed" or (m.status == "failed" and (not stopped or sent)):
            return None
        if stopped and last is not None:
            error = (last.error or (m.failure.message if m.failure else "") or m.status).splitlines()[0]
            return _("not judged: the journey stopped at step {step} ({status}): {error}").format(
                step=last.index, status=_(m.status), error=error
            )
        failure = m.failure.message.splitlines()[0] if m.failure else ""
        return _("not judged: the run ended as {status}").format(status=_(m.status)) + (f": {failure}" if failure else "")


@dataclass
class RunVerdict:
    """One run's checklist (empty when the run is not judged, with why)."""

    journey: Journey
    signup: Journey | None
    results: list[Judgement] = field(default_factory=list)
    not_judged: str | None = None  # why the run is not judged at all
    signup_note: str | None = None  # the sign-up given belongs to another site

    @property
    def judged(self) -> int:
        return sum(j.verdict in ("met", "not met") for j in self.results)

    @property
    def failed(self) -> bool:
        return any(j.verdict == "not met" and not j.upcoming for j in self.results)


@dataclass
class _Ctx:
    """What one rule's judge reads."""

    rule: Any
    pack: str
    run: Journey
    signup: Journey | None
    upcoming: str | None
    _: Callable[[str], str]

    @property
    def lang(self) -> str:
        return self.run.lang

    def patterns(self, value: Any) -> list[str]:
        return patterns_in(value, self.run.page_lang)

    def verdict(
        self, ok: bool | None, measured: str, step: StepRecord | None = None, *, journey: Journey | None = None
    ) -> Judgement:
        v: Verdict = "not measurable" if ok is None else "met" if ok else "not met"
        shot = step.screenshot if step is not None and step.screenshot else None
        if shot is not None and journey is not None and journey is not self.run:
            shot = str(journey.dir / shot)  # evidence from the sign-up journey: its own folder
        return Judgement(
            rule=self.rule.id, pack=self.pack, title=text_in(self.rule.title, self.lang), source=text_in(self.rule.source, self.lang),
            verdict=v, measured=measured, step=step.index if step is not None else None, screenshot=shot, upcoming=self.upcoming,
        )  # fmt: skip


def _entry_clicks(c: _Ctx) -> Judgement:
    run, _ = c.run, c._
    entry = run.marks.entry
    if entry is None:
        return c.verdict(False, _("no unsubscribe entry was reached"))
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
    measured = _("{n} click(s) from the account pages to the entry (≤ {max}); steps {steps}").format(
        n=n, max=c.rule.max, steps=where or "–"
    )
    return c.verdict(n <= c.rule.max, measured, entry)


def _label(step: StepRecord) -> str:
    return step.element.name if step.element is not None and step.element.name else step.target or step.name


def _confirm_label(c: _Ctx) -> Judgement:
    submit = c.run.marks.submit
    if submit is None:
        return c.verdict(False, c._("no click sent the cancellation"))
    label = _label(submit)
    ok = any(re.search(p, label, re.IGNORECASE) for p in c.patterns(c.rule.patterns))
    return c.verdict(ok, c._("the confirming click was on '{label}'").format(label=label), submit)


NO_TEXT_MSGID = "this run folder keeps no page text (written before tuiding recorded it): run the journey again"


def _confirm_page_asks(c: _Ctx) -> Judgement:
    run, _ = c.run, c._
    submit = run.marks.submit
    if submit is None:
        return c.verdict(False, _("no click sent the cancellation"))
    # The page as it stood when the confirming click was made: what the step before it saw.
    page = next((s for s in reversed(run.steps[: submit.index - 1]) if s.page and s.page.text), None)
    if page is None or not page.page:
        return c.verdict(None, _(NO_TEXT_MSGID))
    text = page.page.text
    shown = {
        item_label(item, spec, c.lang): any(re.search(p, text, re.IGNORECASE) for p in c.patterns(item_patterns(spec)))
        for item, spec in c.rule.asks.items()
    }
    listed = ", ".join(f"{item} {'✓' if ok else '✗'}" for item, ok in shown.items())
    measured = _("the page of the confirming click '{label}' shows: {items}").format(label=_label(submit), items=listed)
    return c.verdict(all(shown.values()), measured, page)


def _receipt_offers(c: _Ctx) -> Judgement:
    run, _ = c.run, c._
    r = run.receipt
    if r is None or r.page is None:
        return c.verdict(False, _("no receipt page to save"), run.steps[-1] if run.steps else None)
    if not r.page.text:
        return c.verdict(None, _(NO_TEXT_MSGID), r)
    patterns = c.patterns(c.rule.patterns)
    found = next((m.group(0) for p in patterns if (m := re.search(p, r.page.text, re.IGNORECASE))), None)
    if found is None:
        return c.verdict(
            False, _("the receipt page offers no way to keep it ({patterns} …)").format(patterns=" / ".join(patterns[:4])), r
        )
    return c.verdict(True, _("the receipt page offers '{found}'").format(found=found), r)


def _retention_way_out(c: _Ctx) -> Judgement:
    _ = c._
    pages = [s for s in c.run.until if s.page and s.page.retention_page]
    if not pages:
        return c.verdict(True, _("no retention page"))
    measured = [(s.page.way_out, s) for s in pages if s.page and s.page.way_out is not None]
    if not measured:
        return c.verdict(None, _("this run folder does not keep how prominent the way out was: run the journey again"))
    share, worst = min(measured, key=lambda m: m[0])
    if share == 0:
        return c.verdict(
            False, _("a retention page shows no way to keep cancelling (step {step})").format(step=worst.index), worst
        )
    text = _("the way to keep cancelling is {share:.0%} the size of the page's largest control (≥ {min:.0%})")
    return c.verdict(share >= c.rule.min, text.format(share=share, min=c.rule.min), worst)


def _receipt(c: _Ctx) -> Judgement:
    run, _ = c.run, c._
    r = run.receipt
    if r is not None and r.page:
        return c.verdict(
            True, _("reference {reference}, {datetime}").format(reference=r.page.reference, datetime=r.page.datetime), r
        )
    return c.verdict(
        False, _("no page with a reference number and a date-time"), run.marks.last or (run.steps[-1] if run.steps else None)
    )


def _max_metric(c: _Ctx) -> Judgement:
    run, rule = c.run, c.rule
    n = run.count(rule.metric)
    first = None
    if rule.metric == "retention_pages":
        first = next((s for s in run.until if s.page and s.page.retention_page), None)
    elif rule.metric == "preticked":
        first = next((s for s in run.until if s.page and s.page.preticked), None)
    detail = f" ({', '.join(first.page.preticked)})" if first and first.page and rule.metric == "preticked" else ""
    words = c._(rule.metric.replace("_", " "))
    return c.verdict(n <= rule.max, f"{words}: {n} (≤ {rule.max}){detail}", first)


def _as_easy(c: _Ctx) -> Judgement:
    run, signup, _ = c.run, c.signup, c._
    if signup is None:
        return c.verdict(None, _("needs the sign-up journey of this site: --signup RUN_DIR"))
    # Opening a link the journey was mailed is what the user does (a click in the e-mail), not a shortcut.
    shortcut = next(
        (s for s in run.until[1:] if s.action == "goto" and not s.flow and run.steps[s.index - 2].action != "email"), None
    )
    if shortcut is not None:
        # A journey that opens a page by its address skips the clicks a user makes: not comparable.
        return c.verdict(
            None,
            _("the journey opens {target} by address at step {step}").format(target=shortcut.target, step=shortcut.index),
            shortcut,
        )
    parts, ok = [], True
    for metric in c.rule.metrics:
        cancel, join = run.count(metric), signup.count(metric)
        ok &= cancel <= join
        parts.append(f"{_(metric)} {cancel} {'≤' if cancel <= join else '>'} {join}")
    last = run.until[-1] if run.until else None
    return c.verdict(ok, _("cancel vs sign-up: {parts}").format(parts=", ".join(parts)), last)


def _sent_elsewhere(c: _Ctx, journey: Journey) -> StepRecord | None:
    patterns = c.patterns(c.rule.patterns)
    return next(
        (
            s
            for s in journey.steps
            if s.status == "passed" and any(re.search(p, f"{s.target} {s.name}", re.IGNORECASE) for p in patterns)
        ),
        None,
    )


def _online_cancel(c: _Ctx) -> Judgement:
    run, _ = c.run, c._
    notice = _sent_elsewhere(c, run)
    if notice is not None:
        return c.verdict(False, _("the site sent the user elsewhere to cancel: {what}").format(what=notice.name), notice)
    if run.marks.completed:
        done = run.marks.last
        return c.verdict(True, _("cancelled online (step {step})").format(step=done.index if done else "?"), done)
    return c.verdict(None, _("the journey neither cancelled online nor met a notice sending the user elsewhere"))


def _signup_shows(c: _Ctx) -> Judgement:
    signup, _ = c.signup, c._
    if signup is None:
        return c.verdict(None, _("needs the sign-up journey of this site: --signup RUN_DIR"))
    patterns = c.patterns(c.rule.patterns)
    last_click = max((s.index for s in signup.steps if s.events.clicks), default=len(signup.steps))
    # The page the consenting (last) click is made on is read whole: the terms must be there, beside the request
    # for consent; before it, what the journey's steps named and showed.
    consent_page = next((s for s in reversed(signup.steps[: last_click - 1]) if s.page is not None), None)

    def says(s: StepRecord) -> bool:
        text = f"{s.target} {s.name}" + (f" {s.page.text}" if s is consent_page and s.page else "")
        return any(re.search(p, text, re.IGNORECASE) for p in patterns)

    shown = next((s for s in signup.steps if s.index < last_click and s.status == "passed" and says(s)), None)
    if shown is None:
        return c.verdict(
            False, _("the sign-up journey never showed {patterns} before its last click").format(patterns=" / ".join(patterns))
        )
    return c.verdict(
        True,
        _("the sign-up journey showed it at step {step}: {name}").format(step=shown.index, name=shown.name),
        shown,
        journey=signup,
    )


def _end_notice(c: _Ctx) -> Judgement:
    run, _ = c.run, c._
    submit = run.marks.submit or run.marks.done
    mails = [s for s in run.steps if s.mail is not None and (submit is None or s.index >= submit.index)]
    if not mails:
        return c.verdict(None, _("the journey read no e-mail after the cancellation was sent: add a mailbox and an email step"))
    patterns = c.patterns(c.rule.patterns)
    for s in mails:
        text = " ".join(filter(None, [s.mail.subject if s.mail else "", s.page.text if s.page else "", s.name]))
        said = any(re.search(p, text, re.IGNORECASE) for p in patterns)
        dated = DATE.search(text) or (s.mail is not None and s.mail.date)
        if said and dated:
            return c.verdict(True, _("an e-mail confirmed it: '{subject}'").format(subject=s.mail.subject if s.mail else ""), s)
    return c.verdict(False, _("no e-mail after the cancellation confirms it with a date"), mails[-1])


def _not_measurable(c: _Ctx) -> Judgement:
    return c.verdict(None, text_in(c.rule.why, c.lang))


JUDGES: dict[type, Callable[[_Ctx], Judgement]] = {
    EntryClicks: _entry_clicks, ConfirmLabel: _confirm_label, MaxMetric: _max_metric, NotHarderThanSignup: _as_easy,
    SignupShows: _signup_shows, OnlineCancel: _online_cancel, ConfirmPageAsks: _confirm_page_asks,
    ReceiptOffers: _receipt_offers, RetentionWayOut: _retention_way_out, EndNotice: _end_notice,
    NotMeasurable: _not_measurable,
}  # fmt: skip


def _judge_one(c: _Ctx) -> Judgement:
    from .rules import Receipt

    if isinstance(c.rule, Receipt):
        return _receipt(c)
    return JUDGES[type(c.rule)](c)


def service_facts(manifest: Manifest, override: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the service is: the run's `service:` with the command line's --service over it."""
    facts = {k: v for k, v in (manifest.service or {}).items() if k in SERVICE_FACTS}
    facts.update(override or {})
    return facts


def inapplicable(applies: AppliesIf | None, facts: dict[str, Any], _: Callable[[str], str]) -> str | None:
    """Why a rule cannot apply to this service (a stated fact contradicts it), or None."""
    if applies is None:
        return None
    for name, wanted in applies.model_dump(exclude_none=True).items():
        stated = facts.get(name)
        if stated is not None and stated != wanted:
            if name == "signup":
                return _("applies to services signed up {wanted}; this one is signed up {stated}").format(
                    wanted=_(wanted), stated=_(stated)
                )
            return (
                {
                    "paid": _("applies to paid services; this one is free (service.paid: false)"),
                    "renews": _("applies to services that renew automatically; this one does not (service.renews: false)"),
                    "contract": _("applies to contracts with a term; this service has none (service.contract: false)"),
                    "consent": _("applies where cancelling withdraws a consent; here it does not (service.consent: false)"),
                }[name]
                if wanted
                else _("does not apply to this service (service.{name}: {value})").format(name=name, value=str(stated).lower())
            )
    return None


def _not_applicable(rule: Rule, pack: str, lang: str, why: str, upcoming: str | None) -> Judgement:
    return Judgement(rule=rule.id, pack=pack, title=text_in(rule.title, lang), source=text_in(rule.source, lang), verdict="not applicable",
                     measured=why, upcoming=upcoming)  # fmt: skip


def _not_judged(rule: Rule, pack: str, lang: str, why: str, upcoming: str | None) -> Judgement:
    return Judgement(rule=rule.id, pack=pack, title=text_in(rule.title, lang), source=text_in(rule.source, lang), verdict="not measurable",
                     measured=why, upcoming=upcoming)  # fmt: skip


# Channels no rule pack names but journeys are tagged with: a journey tagged one of them is not a web journey.
OTHER_CHANNELS = frozenset({"hotline", "chat"})


def journey_channels(tags: list[str], packs: list[tuple[str, RulePack]]) -> set[str]:
    """The journey's tags, as channels: one tagged with no channel at all is a `web` journey (tuiding drives a
    browser), so a newcomer's untagged scenario on their own site is judged by the web rules."""
    named = {c for _, pack in packs for rule in pack.rules for c in rule.channels} | OTHER_CHANNELS
    return set(tags) if set(tags) & named else {*tags, "web"}


def judge(
    run: Journey, packs: list[tuple[str, RulePack]], signup: Journey | None = None, service: dict[str, Any] | None = None
) -> list[Judgement]:
    """Every rule of every pack, judged on a run that ended as passed (see `check_run` for the others)."""
    _ = gettext_for(run.lang)
    facts = service_facts(run.manifest, service)
    tags = journey_channels(run.manifest.scenario.tags, packs)
    completed = run.marks.completed
    out = []
    for name, pack in packs:
        for rule in pack.rules:
            ctx = _Ctx(rule, name, run, signup, pack.upcoming, _)
            why = inapplicable(pack.applies_if, facts, _) or inapplicable(rule.applies_if, facts, _)
            if why is None and rule.channels and not tags & set(rule.channels):
                why = _("applies to {channels} journeys; this one is tagged {tags}").format(
                    channels=" / ".join(rule.channels), tags=", ".join(sorted(tags)) or _("nothing")
                )
            if why is not None:
                out.append(_not_applicable(rule, name, run.lang, why, pack.upcoming))
            elif completed or isinstance(rule, (OnlineCancel, NotMeasurable)):
                out.append(_judge_one(ctx))
            else:
                # A pause, a password reset, a lockout, a reminder: the rules are about cancellations, so no alarms here —
                # except the rule whose point is that the journey could not cancel online at all.
                why = _("not a completed cancellation: no step said it was done and no click sent it")
                out.append(_not_judged(rule, name, run.lang, why, pack.upcoming))
    return out


def signup_for(run: Journey, signups: list[Journey]) -> tuple[Journey | None, str | None]:
    """The sign-up journey of the run's site, and a note when the ones given belong to other sites."""
    if not signups:
        return None, None
    same = [s for s in signups if s.site == run.site]
    if same:
        return same[0], None
    _ = gettext_for(run.lang)
    others = ", ".join(sorted({s.site or "?" for s in signups}))
    return None, _("no sign-up journey of {site} was given (only of {others}): the comparisons are not measurable").format(
        site=run.site or "?", others=others
    )


def check_run(
    run: Journey, packs: list[tuple[str, RulePack]], signups: list[Journey], service: dict[str, Any] | None = None
) -> RunVerdict:
    """A run's checklist: not judged at all when the run did not pass; else every rule, against its site's sign-up."""
    why = run.stopped()
    if why is not None:
        return RunVerdict(run, None, not_judged=why)
    signup, note = signup_for(run, signups)
    return RunVerdict(run, signup, judge(run, packs, signup, service), signup_note=note)
