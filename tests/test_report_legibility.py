"""What a QA lead reads first in a failed run's report.html — the failed step's error — is legible: its text
against what is really behind it meets WCAG AA (4.5:1), measured in the browser from the computed styles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import run_cli

pytestmark = pytest.mark.browser

CONTRAST = """el => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  let node = el, bg = null;
  while (node) {  // the first opaque background behind the text
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0.99) { bg = c; break; }
    node = node.parentElement;
  }
  const fg = rgb(getComputedStyle(el).color);
  const [a, b] = [lum(fg), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_a_failed_steps_error_is_legible_in_the_report(tmp_path: Path, page) -> None:
    scen = tmp_path / "fails.yaml"
    scen.write_text(
        "name: fails\nportal: migu\nlocale: en-US\nsteps:\n  - goto: /login\n  - see: nowhere to be seen\n    timeout: 1s\n",
        encoding="utf-8",
    )
    r = run_cli("run", scen, "--out", tmp_path / "runs", "--json", "--no-a11y")
    assert r.returncode == 1, r.stderr
    run_dir = Path(json.loads(r.stdout)["run_dir"])
    page.goto((run_dir / "report.html").as_uri())
    errors = page.locator(".step .step-error")
    assert errors.count() == 1 and "nowhere to be seen" in errors.inner_text()
    ratio = errors.evaluate(CONTRAST)
    assert ratio >= 4.5, f"the step error's text has a contrast of {ratio:.2f}:1 against its background"
