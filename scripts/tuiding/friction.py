"""Friction measured in the browser: what each page showed (one evaluate per step), the run's metrics,
and the UX budget with the steps that added to each item (docs/qa/metrics.md).

Patterns (retention wording, reference numbers, date-times, verification labels) are data:
data/ux_patterns.json, replaced per scenario with `ux:`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from . import model as M
from .record import BudgetItem, Metrics, PageFacts, ReceiptFound, StepRecord

# Counts getUserMedia calls: a camera request is a face-verification challenge.
CAMERA_INIT = """(() => {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia || md.__tuiding) return;
  const real = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => { if (c && c.video) window.__tuidingCamera = (window.__tuidingCamera || 0) + 1; return real(c); };
  md.__tuiding = true;
})();"""

TEXT_KEPT = 4000  # characters of a page's text kept in the record (a confirmation page or a receipt fits)

# (nothing per step, the run's patterns) => what the page shows: installed once per run (pagekit.py).
PROBE_JS = (
    """(_, p) => {
  const rx = (list) => list.map(s => new RegExp(s, 'i'));
  const any = (list, text) => list.some(r => r.test(text));
  const body = document.body;
  const text = body ? body.innerText : '';
  const flat = text.replace(/\\s+/g, ' ').trim();
  // The page's own words, without its controls: a "我再想想" button is a choice, not a retention page.
  // Copying the page is the probe's dearest part, so only when the shown text could match at all.
  let plainText = null;
  const plain = () => {
    if (plainText === null) {
      const copy = body.cloneNode(true);
      copy.querySelectorAll('a, button, label, select, option, input, textarea, script, style, template, noscript, [hidden]').forEach(e => e.remove());
      plainText = copy.textContent.replace(/\\s+/g, ' ');
    }
    return plainText;
  };
  const inPlain = (list) => list.filter(s => new RegExp(s, 'i').test(flat)).filter(s => new RegExp(s, 'i').test(plain()));
  const shown = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const fields = [...document.querySelectorAll('input, textarea, select')].filter(shown);
  const labelOf = (e) => ((e.labels && e.labels[0] && e.labels[0].innerText) || e.getAttribute('aria-label') || e.placeholder || e.name || '').trim();
  const otpRx = rx(p.otp);
  const isOtp = (e) => e.autocomplete === 'one-time-code' || (e.type !== 'password' && e.type !== 'checkbox' && any(otpRx, labelOf(e)));
  const otp = fields.some(isOtp);
  const answerField = fields.some(e => (e.type === 'text' || e.tagName === 'TEXTAREA') && !isOtp(e));
  const question = answerField && inPlain(p.question).length > 0;
  const retention = inPlain(p.retention);
  // How prominent the way to keep cancelling is: its area against the page's largest control (site
  // header, navigation and footer aside). A grey text link beside a big offer button scores low.
  const area = (e) => { const r = e.getBoundingClientRect(); return r.width * r.height; };
  const controls = !retention.length ? [] : [...document.querySelectorAll('a, button, input[type=submit], input[type=button], [role=button]')]
    .filter(shown).filter(e => !e.closest('header, nav, footer'));
  const goOn = rx(p.continue_cancel || []);
  const going = controls.filter(e => any(goOn, (e.innerText || e.value || '').trim()));
  const largest = Math.max(0, ...controls.map(area));
  const first = (list, flags) => { for (const s of list) { const m = text.match(new RegExp(s, flags)); if (m) return m[0]; } return null; };
  return {
    path: location.protocol === 'about:' ? '' : location.pathname,  // about:blank is no page of the site
    otp, question,
    password: fields.some(e => e.type === 'password'),
    camera: window.__tuidingCamera || 0,
    retention,
    preticked: fields.filter(e => e.type === 'checkbox' && e.defaultChecked).map(labelOf),
    reference: first(p.reference),
    datetime: first(p.datetime, 'i'),  // month names as sites write them: "December", "Dez."
    done: first(p.done || [], 'i'),
    way_out: going.length && largest ? Math.max(...going.map(area)) / largest : (going.length ? 1 : 0),
    text: flat.slice(0, """
    + str(TEXT_KEPT)
    + """),
  };
}"""
)


@cache
def pattern_table() -> M.UxPatternTable:
    """data/ux_patterns.json: each kind's patterns per language (validated, so a broken edit says where)."""
    text = resources.files("tuiding").joinpath("data/ux_patterns.json").read_text(encoding="utf-8")
    return M.UxPatternTable.model_validate(json.loads(text))


@cache
def default_patterns() -> dict[str, list[str]]:
    """Every language's patterns of each kind together: a page may mix languages, and detection must not
    depend on the scenario's locale being right."""
    return {kind: [p for per_lang in langs.values() for p in per_lang] for kind, langs in pattern_table().model_dump().items()}


def patterns(overrides: M.UxPatterns | None) -> dict[str, list[str]]:
    merged = dict(default_patterns())
    if overrides is not None:
        merged.update({k: v for k, v in overrides.model_dump().items() if v is not None})
    return merged


@dataclass
class FrictionTracker:
    """Turns each step's page probe into PageFacts; keeps what the run has seen so far."""

    patterns: dict[str, list[str]]
    seen_paths: set[str] = field(default_factory=set)
    retention_paths: set[str] = field(default_factory=set)
    preticked_seen: set[tuple[str, str]] = field(default_factory=set)
    login_path: str | None = None
    last_verification: tuple[str, str] | None = None
    camera_seen: tuple[str, int] = ("", 0)
    in_flow: bool = False
    receipt: ReceiptFound = field(default_factory=ReceiptFound)

    def entered(self, path: str, words: str) -> bool:
        return any(re.search(p, path, re.I) or (words and re.search(p, words, re.I)) for p in self.patterns["entry"])

    def facts(
        self, index: int, probe: dict[str, Any], kind: str | None, target_words: str, *, detect_entry: bool = True
    ) -> PageFacts:
        """The page's facts after step `index`; `detect_entry`: False when the scenario declares its entry."""
        path = str(probe.get("path", ""))
        new_page = bool(path) and path not in self.seen_paths
        self.seen_paths.add(path)
        if detect_entry and not self.in_flow and self.entered(path, target_words):
            self.in_flow = True
        verification = self._verification(probe, path, kind)
        key = (verification, path) if verification else None
        new_verification = key is not None and key != self.last_verification
        self.last_verification = key
        retention = list(probe.get("retention") or []) if kind != "none" else []
        retention_page = False
        if self.in_flow and (retention or kind == "retention") and path not in self.retention_paths:
            self.retention_paths.add(path)
            retention_page = True
        preticked = []
        if self.in_flow:
            for label in probe.get("preticked") or []:
                if (path, label) not in self.preticked_seen:
                    self.preticked_seen.add((path, label))
                    preticked.append(label)
        reference, when = probe.get("reference"), probe.get("datetime")
        if self.in_flow and reference and when:
            self.receipt = ReceiptFound(found=True, step=index, reference=reference, datetime=when)
        return PageFacts(
            path=path,
            verification=verification,
            new_verification=new_verification,
            new_page=new_page,
            retention=retention,
            retention_page=retention_page,
            preticked=preticked,
            reference=reference,
            datetime=when,
            in_flow=self.in_flow,
            # On a retention page: how prominent the way to keep cancelling is (0: none; 1: as the largest control).
            way_out=round(float(probe.get("way_out") or 0), 3) if (retention or kind == "retention") and self.in_flow else None,
            # Kept from the unsubscribe entry on: what the cancellation-rights check reads (secrets masked with
            # the rest of the record).
            text=str(probe.get("text") or "") if self.in_flow else "",
            done=str(probe["done"]) if self.in_flow and probe.get("done") else None,
        )

    def _verification(self, probe: dict[str, Any], path: str, kind: str | None) -> str | None:
        # getUserMedia calls are counted per document: a lower count or another path is a new document.
        camera = int(probe.get("camera") or 0)
        last_path, last_count = self.camera_seen
        new_camera = camera > (last_count if path == last_path and camera >= last_count else 0)
        self.camera_seen = (path, camera)
        if kind in ("sms", "face", "question", "password"):
            return kind
        if kind in ("none", "retention"):
            return None
        if probe.get("otp"):
            return "sms"
        if probe.get("question"):
            return "question"
        if new_camera or (camera and self.last_verification == ("face", path)):
            return "face"
        if probe.get("password"):
            if self.login_path is None:
                self.login_path = path  # the first password field is signing in, not a re-verification
            elif path != self.login_path:
                return "password"
        return None


def metrics(records: list[StepRecord], tracker: FrictionTracker | None) -> Metrics:
    """The run's friction, summed from its step records."""
    facts = [r.page for r in records if r.page is not None]
    a11y = [v for r in records for v in (r.a11y or [])]
    return Metrics(
        steps=len(records),
        clicks=sum(r.events.clicks for r in records),
        inputs=sum(r.events.inputs for r in records),
        keystrokes=sum(r.events.keystrokes for r in records),
        pages=len({f.path for f in facts if f.path}),
        navigations=sum(r.events.navigations for r in records),
        dialogs=sum(r.events.dialogs for r in records),
        downloads=sum(len(r.events.downloads) for r in records),
        emails=sum(r.events.emails for r in records),
        requests=sum(r.events.requests for r in records),
        verifications=sum(f.new_verification for f in facts),
        verification_kinds=[f.verification for f in facts if f.new_verification and f.verification],
        retention_pages=sum(f.retention_page for f in facts),
        preticked=sum(len(f.preticked) for f in facts),
        active_s=round(sum(r.active_ms for r in records) / 1000, 2),
        waiting_s=round(sum(r.wait_ms for r in records) / 1000, 2),
        a11y=sum(v.impact in ("serious", "critical") for v in a11y),
        a11y_all=len(a11y),
        visual_changed=sum(r.visual is not None and r.visual.status == "changed" for r in records),
        receipt=tracker.receipt if tracker else ReceiptFound(),
    )


def _per_step(r: StepRecord, item: str) -> float:
    f = r.page
    return {
        "clicks": lambda: r.events.clicks,
        "inputs": lambda: r.events.inputs,
        "keystrokes": lambda: r.events.keystrokes,
        "pages": lambda: int(bool(f and f.new_page)),
        "navigations": lambda: r.events.navigations,
        "dialogs": lambda: r.events.dialogs,
        "downloads": lambda: len(r.events.downloads),
        "emails": lambda: r.events.emails,
        "verifications": lambda: int(bool(f and f.new_verification)),
        "retention_pages": lambda: int(bool(f and f.retention_page)),
        "preticked": lambda: len(f.preticked) if f else 0,
        "seconds": lambda: r.active_ms / 1000,
        "a11y": lambda: sum(v.impact in ("serious", "critical") for v in (r.a11y or [])),
    }[item]()


def over_budget(budget: M.Budget | None, records: list[StepRecord], measured: Metrics) -> list[BudgetItem]:
    """Each exceeded budget item, pinned on the step where it was first exceeded, with the steps that added to it."""
    if budget is None:
        return []
    out: list[BudgetItem] = []
    for item, limit in budget.model_dump(exclude_none=True).items():
        if item == "receipt":
            if limit == "required" and not measured.receipt.found:
                out.append(
                    BudgetItem(item="receipt", value="none", limit="required", step=records[-1].index if records else None)
                )
            continue
        total, first, contributors = 0.0, None, []
        for r in records:
            add = _per_step(r, item)
            if add:
                total += add
                contributors.append(r.index)
                if first is None and total > limit:
                    first = r.index
        if first is not None:
            out.append(BudgetItem(item=item, value=round(total, 2), limit=limit, step=first, steps=contributors))
    return out
