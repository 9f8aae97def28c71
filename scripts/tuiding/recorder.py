"""`tuiding record`: a journey done once by hand becomes a scenario.

A script injected into every page of the context reports what the user does — clicks, typed values,
ticks, choices, Enter, a new page and its main heading — through one exposed binding; `Recording`
turns those events into steps with the most robust target the page offers (role + accessible name,
then label, then test id, then text; CSS last — the runner's own preference), a generated Chinese
caption, `${password}` for anything typed into a password field, and a `see:` for each new page's
heading. The recorder cannot tell a person from a script driving the page, which is how it is tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from . import model as M

RECORDER_JS = r"""
(() => {
  if (window.__tuidingRecorder) return;
  window.__tuidingRecorder = true;
  const send = (e) => { try { window.__tuidingRecord(e); } catch (_) {} };
  const text = (el) => (el && (el.innerText || el.textContent) || '').replace(/\s+/g, ' ').trim();
  const labelOf = (el) => {
    if (el.labels && el.labels.length) return text(el.labels[0]);
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label').trim();
    const by = el.getAttribute('aria-labelledby');
    if (by) return by.split(/\s+/).map(id => text(document.getElementById(id))).join(' ').trim();
    return '';
  };
  const roleOf = (el) => {
    const explicit = el.getAttribute('role');
    if (explicit) return explicit;
    const tag = el.tagName.toLowerCase();
    if (tag === 'a' && el.hasAttribute('href')) return 'link';
    if (tag === 'button') return 'button';
    if (tag === 'input' && ['submit', 'button', 'reset'].includes(el.type)) return 'button';
    return '';
  };
  const nameOf = (el) => el.getAttribute('aria-label') || text(el) || el.value || el.title || '';
  const css = (el) => {
    if (el.id) return '#' + CSS.escape(el.id);
    const tag = el.tagName.toLowerCase();
    if (el.getAttribute('name')) return `${tag}[name="${el.getAttribute('name')}"]`;
    return tag;
  };
  const describe = (el) => ({
    role: roleOf(el), name: nameOf(el).slice(0, 80), label: labelOf(el).slice(0, 120),
    placeholder: el.getAttribute('placeholder') || '', testid: el.getAttribute('data-testid') || '',
    text: text(el).slice(0, 80), css: css(el), tag: el.tagName.toLowerCase(), type: (el.type || '').toLowerCase(),
  });
  // How Playwright's {role, name} will see it: names containing the words (its default), and exact ones.
  const sameRole = {link: 'a[href], [role=link]', button: 'button, input[type=submit], input[type=button], input[type=reset], [role=button]'};
  const rank = (el, d) => {
    if (!sameRole[d.role] || !d.name) return d;
    const visible = [...document.querySelectorAll(sameRole[d.role])].filter(e => e.getClientRects().length);
    const name = d.name.toLowerCase();
    const containing = visible.filter(e => nameOf(e).toLowerCase().includes(name));
    const exact = visible.filter(e => nameOf(e).trim().toLowerCase() === name);
    return {...d, matches: containing.length, index: containing.indexOf(el), exactMatches: exact.length};
  };
  const field = (el) => el && ['input', 'textarea', 'select'].includes(el.tagName.toLowerCase());
  document.addEventListener('click', (ev) => {
    let el = ev.target.closest('a[href], button, input[type=submit], input[type=button], [role=button], [role=link], [data-testid]');
    if (!el) {
      const t = ev.target;
      if (field(t) || t.closest('label')) return;  // ticks and focus are recorded by 'change'
      el = t;
    }
    if (field(el) && !['submit', 'button'].includes(el.type)) return;
    send({kind: 'click', target: rank(el, describe(el))});
  }, true);
  document.addEventListener('change', (ev) => {
    const el = ev.target;
    if (!field(el)) return;
    const type = (el.type || '').toLowerCase();
    if (type === 'checkbox' || type === 'radio') send({kind: el.checked ? 'check' : 'uncheck', target: describe(el)});
    else if (el.tagName.toLowerCase() === 'select') send({kind: 'select', target: describe(el), value: el.options[el.selectedIndex] ? text(el.options[el.selectedIndex]) : el.value});
    else if (type !== 'file') send({kind: 'fill', target: describe(el), value: el.value});
  }, true);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && field(ev.target) && ev.target.tagName.toLowerCase() === 'input') {
      const el = ev.target;
      send({kind: 'fill', target: describe(el), value: el.value});
      send({kind: 'press', target: describe(el), value: 'Enter'});
    }
  }, true);
  const page = () => {
    const h = document.querySelector('h1') || document.querySelector('h2');
    send({kind: 'page', url: location.href, heading: text(h).slice(0, 80)});
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', page); else page();
})();
"""

PASSWORD_VAR = "password"


@dataclass
class Recording:
    """Events in, scenario out."""

    base_url: str
    portal: str | None = None
    device: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # typed value -> variable name (values never written)
    _pending_fill: dict[str, Any] | None = None
    _fill_page: int = 0
    _pages: int = 0

    # -- events ---------------------------------------------------------------------------------

    def event(self, e: dict[str, Any]) -> None:
        kind = e.get("kind")
        if kind == "page":
            self._page(str(e.get("url", "")), str(e.get("heading", "")))
        elif kind == "fill":
            self._fill(e["target"], str(e.get("value", "")))
        elif kind in ("check", "uncheck"):
            self._add({kind: self._label_target(e["target"])})
        elif kind == "select":
            self._add({"select": {**self._target_map(e["target"]), "option": str(e.get("value", ""))}})
        elif kind == "press":
            self._add({"press": {**self._target_map(e["target"]), "key": str(e.get("value", "Enter"))}})
        elif kind == "click":
            self._add({"click": self._click_target(e["target"])})

    def _page(self, url: str, heading: str) -> None:
        if not url.startswith(("http://", "https://")):
            return  # about:blank before the first page, data: URLs
        self._pages += 1
        acted = bool(self.steps) and any(k in self.steps[-1] for k in ("click", "press", "select", "check", "uncheck"))
        if self._pages == 1 or not acted:
            # The first page, or one no action led to: the user typed its address (links are clicks).
            parts = urlsplit(url)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            self._add({"goto": path})
        if heading and not (self.steps and self.steps[-1].get("see") == heading):
            self._add({"see": heading})

    def _fill(self, target: dict[str, Any], value: str) -> None:
        if target.get("type") == "password" and value:
            name = self.passwords.setdefault(
                value, PASSWORD_VAR if not self.passwords else f"{PASSWORD_VAR}{len(self.passwords) + 1}"
            )
            value = f"${{{name}}}"
        label = target.get("label") or target.get("placeholder")
        last = self.steps[-1] if self.steps else None
        # Consecutive fields of one form become one `fill: {label: value, …}` step, as a person would write it.
        if (
            label
            and last is not None
            and last is self._pending_fill
            and isinstance(last.get("fill"), dict)
            and "value" not in last["fill"]
        ):
            last["fill"][label] = value
            return
        step = {"fill": {label: value}} if label else {"fill": {**self._target_map(target), "value": value}}
        self._add(step)
        self._pending_fill = step

    def _add(self, step: dict[str, Any]) -> None:
        if "fill" not in step:
            self._pending_fill = None
        self.steps.append(step)

    # -- targets --------------------------------------------------------------------------------

    @staticmethod
    def _target_map(t: dict[str, Any]) -> dict[str, Any]:
        if t.get("label"):
            return {"label": t["label"]}
        if t.get("placeholder"):
            return {"placeholder": t["placeholder"]}
        if t.get("testid"):
            return {"testid": t["testid"]}
        return {"css": t.get("css") or t.get("tag") or "body"}

    def _label_target(self, t: dict[str, Any]) -> Any:
        return t["label"] if t.get("label") else self._target_map(t)

    @staticmethod
    def _click_target(t: dict[str, Any]) -> Any:
        if t.get("role") in ("button", "link") and t.get("name"):
            target: dict[str, Any] = {"role": t["role"], "name": t["name"]}
            if t.get("matches", 1) > 1:  # "登录" in the header and on the page: say which one
                if t.get("exactMatches") == 1:
                    target["exact"] = True
                elif t.get("index", -1) >= 0:
                    target["nth"] = t["index"]
            return target
        if t.get("label"):
            return {"label": t["label"]}
        if t.get("testid"):
            return {"testid": t["testid"]}
        if t.get("text"):
            return {"text": t["text"]}
        return {"css": t.get("css") or "body"}

    # -- output ---------------------------------------------------------------------------------

    def scenario(self, name: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": name}
        if self.portal:
            doc["portal"] = self.portal
        else:
            parts = urlsplit(self.base_url)
            doc["base_url"] = f"{parts.scheme}://{parts.netloc}"
        if self.device:
            doc["device"] = self.device
        if self.passwords:
            doc["vars"] = {v: f"${{env:TUIDING_{v.upper()}}}" for v in self.passwords.values()}
            doc["secrets"] = list(self.passwords.values())
        doc["steps"] = [self._captioned(s) for s in self.steps]
        return doc

    @staticmethod
    def _captioned(step: dict[str, Any]) -> dict[str, Any]:
        (action,) = [k for k in step if k in M.ACTIONS]
        try:
            caption = M.step_adapter(action).validate_python(step).caption("zh")
        except Exception:  # an odd target still records; validation after writing names the problem
            caption = None
        return {**step, "name": caption} if caption else step

    def yaml(self, name: str) -> str:
        doc = self.scenario(name)
        steps = doc.pop("steps")
        head = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=200)
        lines = ["# Recorded with `tuiding record`: review the targets and captions, then run it.", head.rstrip(), "steps:"]
        for step in steps:
            first = True
            for key, value in step.items():
                text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, sort_keys=False, width=10_000).strip()
                text = re.sub(r"\n\.\.\.$", "", text)
                lines.append(f"  {'- ' if first else '  '}{key}: {text}")
                first = False
        return "\n".join(lines) + "\n"


def attach(context: Any, recording: Recording) -> None:
    """Record every page of `context` (pages opened later too) into `recording`."""
    context.expose_binding("__tuidingRecord", lambda _source, event: recording.event(event))
    context.add_init_script(RECORDER_JS)


def write(recording: Recording, out: Path, name: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(recording.yaml(name), encoding="utf-8")
    tmp.replace(out)
    return out


def record_journey(session: Any, url: str, *, portal: str | None, device: str | None, on_start: Any = None) -> Recording:
    """Open `url` in a new context of `session` (the runner's context options: what is recorded here runs
    the same) and record until the window, or the browser, is closed or Ctrl-C is pressed."""
    from .browser import context_options
    from .model import ScenarioFile

    fields = ScenarioFile.model_fields
    options = context_options(
        session.devices, locale=str(fields["locale"].default), timezone=str(fields["timezone"].default), device=device
    )
    context = session.new_context(**options)
    recording = Recording(base_url=url, portal=portal, device=device)
    attach(context, recording)
    page = context.new_page()
    page.goto(url)
    if on_start is not None:
        on_start()
    try:
        while not page.is_closed():
            page.wait_for_timeout(250)
    except KeyboardInterrupt:
        pass
    except Exception:  # the window (or the whole browser) was closed under us: that is how a person stops
        pass
    return recording
