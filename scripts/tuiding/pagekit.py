"""The step's page read (steploop.read_page) as one function installed in the page once per run.

Sending every observer's JS (~8 KB) and the friction patterns (~4 KB) with each step's read cost more than
the read itself: Playwright's client validates and serialises the argument, the driver parses it, the
renderer compiles the functions again — ~13 KB per step for ~3 ms of work in the page. Measured on a settled
Migu page, one read took 8.2 ms (2.8 ms of it Python CPU) sent whole, 4.8 ms (1.3 ms) installed
(benchmarks/README.md). Installed as an init script, every document the run opens defines the reader once;
a step's read sends only the observers' names and what changes from step to step (which masks, the secrets
the site has been told). A document the init script did not reach (one already open when it was added) is
given the reader by its first read, in the same call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import BrowserContext, Page

# A name a site will not use. The reader is not enumerable, not writable and not configurable: the page's
# own scripts run after the init script and cannot replace it.
KEY = "__tuidingStepRead"


@dataclass(frozen=True)
class Part:
    """One observer's question: `script` is a JS function `(arg, fixed) => fact`; `fixed` is its argument
    that stays the same for the whole run (JSON), installed with it."""

    name: str
    script: str
    fixed: Any = None


def install_js(parts: list[Part]) -> str:
    """A script that defines the reader in this document, unless it already has it."""
    functions = ", ".join(f"{json.dumps(p.name)}: {p.script}" for p in parts)
    fixed = json.dumps({p.name: p.fixed for p in parts}, ensure_ascii=False)
    return f"""(() => {{
  if (Object.prototype.hasOwnProperty.call(globalThis, {KEY!r})) return;
  const functions = {{{functions}}}, fixed = {fixed};
  const read = (names, args) => {{
    const facts = {{}};
    names.forEach((name, i) => {{ facts[name] = functions[name](args[i], fixed[name]); }});
    return {{loaded: document.readyState === 'complete', title: document.title, scroll: [scrollX, scrollY], facts}};
  }};
  Object.defineProperty(globalThis, {KEY!r}, {{value: read, enumerable: false, writable: false, configurable: false}});
}})();"""


class PageKit:
    """The installed reader of one run: `install` once on the browser context, then `read` per step."""

    def __init__(self, parts: list[Part]) -> None:
        self.install_script = install_js(parts)
        self.call = f"([names, args]) => {{ const read = globalThis[{KEY!r}]; return read ? read(names, args) : null; }}"
        # For a document without the reader: define it, then read, in one call.
        self.define_and_call = f"([names, args]) => {{ {self.install_script} return globalThis[{KEY!r}](names, args); }}"

    def install(self, context: BrowserContext) -> None:
        context.add_init_script(self.install_script)

    def read(self, page: Page, names: list[str], args: list[Any]) -> dict[str, Any]:
        """{loaded, title, scroll, facts: {name: fact}} for the named parts, each with its argument."""
        answer = page.evaluate(self.call, [names, args])
        if answer is None:
            answer = page.evaluate(self.define_and_call, [names, args])
        return dict(answer)
