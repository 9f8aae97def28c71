"""tuiding on a real third-party web application nobody here wrote: django-newsletter, installed from PyPI and
deployed as a small site (tests/newsletter_site/) on 127.0.0.1 — an account area, a subscription that can be
cancelled from it or by a link the site e-mails, its pages in English (and, served in German, in German).

The journeys in tests/data/newsletter/ use what the README documents: landmarks, the e-mail step, the
service's applicability. Every English output must be free of the tool's own Chinese."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import DATA, free_port, run_cli
from support.leaks import leaks

pytestmark = pytest.mark.browser

NEWSLETTER = DATA / "newsletter"
TESTS = Path(__file__).parent
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


@dataclass
class Site:
    url: str
    state: Path
    proc: subprocess.Popen[bytes]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "NEWSLETTER_URL": self.url, "NEWSLETTER_MAIL": str(self.state / "mail")}


def start_site(state: Path, *, language: str = "en", smtp_port: int | None = None) -> Site:
    """Seed a fresh deployment and serve it with waitress; ready when its newsletter page answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(TESTS), "NEWSLETTER_STATE": str(state), "NEWSLETTER_LANGUAGE": language,
           "PYTHONWARNINGS": "ignore"}  # fmt: skip
    if smtp_port is not None:
        env["NEWSLETTER_SMTP_PORT"] = str(smtp_port)
    seeded = subprocess.run(
        [sys.executable, "-m", "newsletter_site.seed", f"127.0.0.1:{port}"], env=env, capture_output=True, text=True, timeout=120
    )
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    proc = subprocess.Popen([sys.executable, "-m", "newsletter_site.serve", str(port)], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/newsletter/weekly/", timeout=2):
                return Site(url, state, proc)
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError("the newsletter site did not start") from None
            time.sleep(0.1)


def stop_site(site: Site) -> None:
    site.proc.terminate()
    try:
        site.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        site.proc.kill()
        site.proc.wait()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(tmp_path / "site")
    yield s
    stop_site(s)


def run(
    site: Site, out: Path, *scenarios: str | Path, extra: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    files = [s if isinstance(s, Path) else NEWSLETTER / s for s in scenarios]
    r = run_cli("run", *files, "--out", out, "--no-a11y", *extra, env=site.env)
    dirs = sorted((d for d in out.iterdir() if d.is_dir()), key=lambda d: [f.stem for f in files].index(d.name.split("-", 2)[2]))
    return r, dirs


def checked(*args: object) -> tuple[int, list[dict]]:
    r = run_cli("check", *args, "--json")
    assert r.returncode in (0, 1, 3), r.stderr
    return r.returncode, [json.loads(line) for line in r.stdout.splitlines()]


def landmarks(run_dir: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for line in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for mark in rec.get("landmarks") or []:
            found.setdefault(mark["kind"], []).append(rec["index"])
    return found


def test_the_account_unsubscribe_is_found_judged_and_written_in_english(site, tmp_path):
    r, (signup, cancel) = run(site, tmp_path / "runs", "account_subscribe.yaml", "account_unsubscribe.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    # Nothing declared: the entry is the link to the unsubscribe page, the "Unsubscribe" button sends it and
    # "You have been unsubscribed" says it is done — the same step, counted up to there.
    assert landmarks(cancel) == {"entry": [5], "submit": [7], "done": [7]}
    code, (verdict,) = checked(cancel, "--signup", signup)
    assert code == 0 and verdict["judged"]
    results = {j["rule"]: j for j in verdict["results"]}
    gdpr = results["eu-gdpr-withdraw-as-easy"]
    assert gdpr["verdict"] == "met" and gdpr["measured"] == "cancel vs sign-up: clicks 3 ≤ 3, pages 4 ≤ 4, inputs 2 ≤ 2"
    assert gdpr["step"] == 7 and (cancel / gdpr["screenshot"]).is_file()
    # A free newsletter: the subscription laws do not apply, and each says why instead of "not met".
    assert results["de-312k-button"]["verdict"] == "not applicable"
    assert results["de-312k-button"]["measured"] == "applies to paid services; this one is free (service.paid: false)"
    assert results["us-ny-online-cancel"]["verdict"] == "not applicable"
    assert "not met" not in {j["verdict"] for j in results.values()}
    # Every word the tool wrote for this English journey is English.
    outputs = {"run (console)": r.stdout + r.stderr}
    text = run_cli("check", cancel, "--signup", signup)
    assert text.returncode == 0
    outputs["check"] = text.stdout + text.stderr
    friction = run_cli("report", "friction", cancel, "--signup", signup, "--out", tmp_path / "friction.html")
    assert friction.returncode == 0, friction.stderr
    outputs["report friction"] = friction.stdout + (tmp_path / "friction.html").read_text(encoding="utf-8")
    compared = run_cli("compare", signup, cancel, "--out", tmp_path / "compare.html")
    assert compared.returncode in (0, 1), compared.stderr
    outputs["compare"] = compared.stdout + compared.stderr + (tmp_path / "compare.html").read_text(encoding="utf-8")
    merged = run_cli("merge", tmp_path / "runs", "--out", tmp_path / "summary")
    assert merged.returncode == 0, merged.stderr
    outputs["merge"] = merged.stdout + (tmp_path / "summary" / "summary.html").read_text(encoding="utf-8")
    guide = run_cli("walkthrough", cancel, "--out", tmp_path / "guide")
    assert guide.returncode == 0, guide.stderr
    outputs["walkthrough"] = (tmp_path / "guide" / "walkthrough.md").read_text(encoding="utf-8")
    for d in (signup, cancel):
        outputs[f"{d.name}/report.html"] = (d / "report.html").read_text(encoding="utf-8")
        outputs[f"{d.name} receipt names"] = " ".join(p.name for p in (d / "receipts").iterdir())
    chinese = {where: sorted(set(CJK.findall(text)))[:12] for where, text in outputs.items() if CJK.search(text)}
    assert chinese == {}


def test_the_e_mailed_link_is_read_from_the_site_s_own_mail_and_its_token_stays_secret(site, tmp_path):
    """Django's file e-mail back-end writes the site's mail into a folder; the scenario's mailbox reads it there.
    The activation link and code are saved as secrets: they are in no record, report or kept message."""
    r, (run_dir,) = run(site, tmp_path / "runs", "email_unsubscribe.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert landmarks(run_dir) == {"entry": [2], "submit": [8], "done": [9]}
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mailbox"] == str(site.state / "mail") and manifest["metrics"]["emails"] == 1
    mail = next(s for s in manifest["steps"] if s["action"] == "email")
    assert mail["mail"]["subject"] == "Weekly News - Confirm unsubscription" and mail["mail"]["to"][0] == "bob@example.com"
    sent = (site.state / "mail").glob("*.log")
    code = re.search(r"/activate/([^/\s]+)/", "".join(p.read_text() for p in sent))
    assert code is not None
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix != ".png":
            assert code.group(1).encode() not in path.read_bytes(), path
    assert "••••••" in (run_dir / mail["mail"]["file"]).read_text(encoding="utf-8")
    assert run_cli("verify", run_dir).returncode == 0
    # Judged between the declared landmarks; following the mailed link is not a shortcut.
    code_, (verdict,) = checked(run_dir, "--rules", "eu-gdpr")
    results = {j["rule"]: j for j in verdict["results"]}
    assert code_ == 0 and results["eu-gdpr-no-preticked"]["verdict"] == "met"
    assert "by address" not in results["eu-gdpr-withdraw-as-easy"]["measured"]


def test_the_smtp_sink_receives_the_site_s_mail(tmp_path):
    """The same journey with the site sending through SMTP, to the sink tuiding starts for the run."""
    port = free_port()
    site = start_site(tmp_path / "site", smtp_port=port)
    try:
        text = (NEWSLETTER / "email_unsubscribe.yaml").read_text(encoding="utf-8")
        # This time the saved link and code are secret because the scenario's `secrets:` names them.
        text = text.replace("      secret: true\n", "").replace("vars:\n", "secrets: [activation, code]\nvars:\n")
        scenario = tmp_path / "email_unsubscribe.yaml"
        scenario.write_text(
            text.replace('mailbox: {folder: "${env:NEWSLETTER_MAIL}"}', f"mailbox: {{smtp: {port}}}"), encoding="utf-8"
        )
        r, (run_dir,) = run(site, tmp_path / "runs", scenario, extra=("--trace", "on"))
        with sqlite3.connect(tmp_path / "site" / "db.sqlite3") as db:  # the token the site mailed to Bob
            (token,) = db.execute("select activation_code from newsletter_subscription where email = ?",
                                  ("bob@example.com",)).fetchone()  # fmt: skip
    finally:
        stop_site(site)
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mailbox"] == f"smtp://127.0.0.1:{port}" and manifest["status"] == "passed"
    assert not any((tmp_path / "site" / "mail").iterdir())  # nothing went to the file back-end
    assert len(token) >= 20 and (run_dir / "trace.zip").is_file()
    assert leaks(tmp_path / "runs", [token], r.stdout, r.stderr, skip_suffixes=(".yaml", ".png")) == []


def test_nothing_judged_is_not_a_pass(site, tmp_path):
    """A run no applicable rule could judge exits 3 with one line, unless the user accepts it; a failed run is
    not judged at all."""
    r, (run_dir,) = run(site, tmp_path / "runs", "account_unsubscribe.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    blind = run_cli("check", run_dir, "--rules", "de,us-ca")
    assert blind.returncode == 3, blind.stdout
    assert blind.stderr.strip() == "tuiding: 1 of 1 run(s) could not be judged (see above); pass --allow-unjudged to accept that"
    assert "nothing could be judged" in blind.stdout
    assert run_cli("check", run_dir, "--rules", "de,us-ca", "--allow-unjudged").returncode == 0
    # alice is unsubscribed now: the same journey fails at its confirmation question.
    r, (failed,) = run(site, tmp_path / "again", "account_unsubscribe.yaml")
    assert r.returncode == 1
    code, (verdict,) = checked(failed, "--rules", "eu-gdpr")
    assert code == 3 and not verdict["judged"] and verdict["results"] == []
    assert verdict["not_judged"].startswith("not judged: the journey stopped at step 6 (failed): expected to see")


def test_a_german_journey_is_judged_with_the_german_patterns_and_in_german(tmp_path):
    site = start_site(tmp_path / "site", language="de")
    try:
        r, (run_dir,) = run(site, tmp_path / "runs", "account_unsubscribe_de.yaml")
    finally:
        stop_site(site)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "bestanden" in r.stdout and "Auf „Anmelden“ klicken" in r.stdout  # the console speaks German
    assert landmarks(run_dir) == {"entry": [4], "submit": [6], "done": [6]}  # done: „… gekündigt“
    code, (verdict,) = checked(run_dir, "--rules", "de")
    results = {j["rule"]: j for j in verdict["results"]}
    # No service stated: §312k is judged. Its button rule reads the German patterns ("jetzt kündigen"): the
    # site's "Abmelden" does not say it; its confirmation page names the contract ("Abonnement", German only).
    assert code == 1
    assert results["de-312k-button"]["verdict"] == "not met"
    assert results["de-312k-button"]["measured"] == "der bestätigende Klick war auf „Abmelden“"
    assert "Vertrag ✓" in results["de-312k-confirm-page"]["measured"]
    assert results["de-312k-confirm-page"]["title"].startswith("Bestätigungsseite")
