"""`tuiding merge`: the run folders of one suite — e.g. each CI shard's `runs/` artefact — as one summary.

Reads run folders only (never the browser, never changes them): each is verified as `tuiding verify`
would, then listed in summary.json (typed: `record.Summary`), summary.html (links to every report)
junit.xml (one test case per run, for CI test tabs), ctrf.json (ctrf.py) and allure-results/ (allure_results.py).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path

from . import __version__
from .i18n import gettext_for, language
from .receipts import MANIFEST, atomic_write
from .record import RunFolderError, Summary, SummaryRun, load_manifest
from .report.env import environment
from .verify import verify


class MergeError(ValueError):
    pass


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Run folders given directly or found below the paths (CI artefacts nest them), each once."""
    found: dict[Path, None] = {}
    for p in paths:
        if not p.is_dir():
            raise MergeError(f"{p}: not a folder")
        if (p / MANIFEST).is_file():
            found[p.resolve()] = None
            continue
        hits = sorted(m.parent for m in p.rglob(MANIFEST) if "__baselines__" not in m.parts)
        if not hits:
            raise MergeError(f"{p}: no run folders in it (a run folder holds {MANIFEST})")
        for h in hits:
            found[h.resolve()] = None
    return list(found)


def summarize(run_dirs: list[Path], out: Path) -> Summary:
    runs: list[SummaryRun] = []
    langs: set[str] = set()
    for d in run_dirs:
        try:
            m = load_manifest(d)
        except RunFolderError as exc:
            raise MergeError(str(exc)) from None
        langs.add(language(m.lang or m.locale))
        v = verify(d)
        report = d / "report.html"
        runs.append(
            SummaryRun(
                scenario=m.scenario.name,
                file=m.scenario.file,
                row=m.scenario.row,
                status=m.status,
                duration_s=round((m.duration_ms or 0) / 1000, 2),
                started_at=m.started_at,
                host=m.host,
                run_dir=_rel(d, out),
                report=_rel(report, out) if report.is_file() else None,
                steps=len(m.steps),
                metrics=m.metrics,
                failure=m.failure,
                run_id=m.run_id,
                attempt=m.attempt,
                retry_of=m.retry_of,
                verified=v.ok,
                problems=v.problems,
            )
        )
    runs = _once(runs)
    runs.sort(key=lambda r: (r.file, r.row or "", r.started_at))
    retried = {r.retry_of for r in runs if r.retry_of}
    for r in runs:
        r.retried = r.run_id in retried
    final = [r for r in runs if not r.retried]
    totals: Counter[str] = Counter(r.status for r in final)
    totals["flaky"] = sum(r.status == "passed" and r.attempt > 1 for r in final)
    totals["retried"] = len(runs) - len(final)
    totals["unverified"] = sum(not r.verified for r in runs)
    totals["duplicates"] = sum(r.copies for r in runs)
    return Summary(
        tool=f"tuiding {__version__}",
        created_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        totals={"runs": len(final), **totals},
        runs=runs,
        lang=langs.pop() if len(langs) == 1 else "en",
    )


def _once(runs: list[SummaryRun]) -> list[SummaryRun]:
    """Each run once: the same run (its run_id) in two shards' folders — a copied artefact — is counted once,
    and the copy is named in the first one's problems."""
    first: dict[str, SummaryRun] = {}
    for r in runs:
        kept = first.setdefault(r.run_id, r)
        if kept is not r:
            kept.problems.append(f"the same run (run_id {r.run_id}) is also in {r.run_dir}: counted once")
            kept.copies += 1
    return list(first.values())


def _rel(path: Path, out: Path) -> str:
    return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()


def junit(summary: Summary) -> str:
    """JUnit XML as CI servers read it: a suite per scenario file, a case per run."""
    root = ET.Element("testsuites", name="tuiding", tests=str(summary.totals["runs"]))
    suites: dict[str, ET.Element] = {}
    for r in summary.runs:
        if r.retried:
            continue  # the final attempt is the test case; a flaky one says so in its output
        suite = suites.get(r.file)
        if suite is None:
            suite = suites[r.file] = ET.SubElement(root, "testsuite", name=r.file)
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.file.removesuffix(".yaml").replace("/", "."),
            name=r.scenario,
            time=f"{r.duration_s:.2f}",
        )
        where = f"{r.run_dir}/report.html"
        if r.status == "failed":
            message = r.failure.message if r.failure else "failed"
            step = f"step {r.failure.step}: " if r.failure and r.failure.step else ""
            ET.SubElement(case, "failure", message=step + message.splitlines()[0]).text = f"{message}\nreport: {where}"
        elif r.status != "passed":
            message = r.failure.message if r.failure else r.status
            ET.SubElement(case, "error", message=f"{r.status}: {message.splitlines()[0]}").text = f"{message}\nreport: {where}"
        if not r.verified:
            ET.SubElement(case, "error", message="run folder altered: " + "; ".join(r.problems)[:500])
        flaky = f"\nflaky: passed on attempt {r.attempt}" if r.status == "passed" and r.attempt > 1 else ""
        ET.SubElement(case, "system-out").text = f"report: {where}\nhost: {r.host}{flaky}"
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
        suite.set("time", f"{sum(float(c.get('time', '0')) for c in cases):.2f}")
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites.values())))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in suites.values())))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(summary: Summary, out: Path, lang: str = "en") -> list[Path]:
    """summary.json, summary.html (in `lang`), junit.xml, ctrf.json and allure-results/ under `out`."""
    from .allure_results import write_allure
    from .ctrf import ctrf

    out.mkdir(parents=True, exist_ok=True)
    manifests = {r.run_dir: load_manifest(out / r.run_dir) for r in summary.runs}
    page = environment(lang).get_template("summary.html").render(s=summary, hosts=sorted({r.host for r in summary.runs}))
    files = {
        "summary.json": summary.model_dump_json(indent=1) + "\n",
        "summary.html": page,
        "junit.xml": junit(summary),
        "ctrf.json": json.dumps(ctrf(summary, manifests), ensure_ascii=False, indent=1) + "\n",
    }
    for name, text in files.items():
        atomic_write(out / name, text)
    return [*(out / name for name in files), write_allure(summary, manifests, out / "allure-results", out)]


def summary_lines(summary: Summary, out: Path, written: list[Path], lang: str) -> tuple[str, list[str]]:
    """The console's account of a merge: one line, then one per run that did not pass or was altered (stderr)."""
    _ = gettext_for(lang)
    t = summary.totals
    bad = t["runs"] - t.get("passed", 0)
    head = _("{runs} runs: {passed} passed ({flaky} flaky), {bad} not passed, {altered} altered — {files}").format(
        runs=t["runs"], passed=t.get("passed", 0), flaky=t["flaky"], bad=bad, altered=t["unverified"],
        files=", ".join(str(p) for p in written),
    )  # fmt: skip
    lines = [
        f"  ✗ {r.scenario} ({r.file}): {_(r.status)}{'' if r.verified else ', ' + _('altered')} — {os.path.normpath(out / r.run_dir)}"
        for r in summary.runs
        if (r.status != "passed" and not r.retried) or not r.verified
    ]
    lines += [f"  ⚠ {r.scenario}: {p}" for r in summary.runs for p in r.problems if "counted once" in p]
    return head, lines
