"""QA regression of the cancellation UX in a real browser against the portals: friction metrics, budgets
pinned on their step, run-to-run comparison, visual baselines with masks, and axe-core audits."""

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from support import ROOT

from tuiding.record import load_manifest

pytestmark = pytest.mark.browser
WEB = ROOT / "scenarios" / "migu" / "web_unsubscribe.yaml"


def run_json(cli, out: Path, *args):
    r = cli("run", *args, "--out", out, "--json")
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r, lines


@pytest.fixture(scope="module")
def web_runs(tmp_path_factory):
    """web_unsubscribe as it is, and against the portal's retention variant."""
    import subprocess
    import sys

    from support import ROOT as root

    out = tmp_path_factory.mktemp("web")

    def run(*extra):
        r = subprocess.run(
            [sys.executable, "-m", "tuiding", "run", str(WEB), "--out", str(out), "--json", *extra],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=300,
        )
        return r, json.loads(r.stdout.strip().splitlines()[-1])

    return run(), run("--variant", "retention"), run()


def test_the_standard_journey_meets_its_budget_and_hands_out_a_receipt(web_runs):
    (r, line), _, _ = web_runs
    assert r.returncode == 0, r.stderr
    m = line["metrics"]
    assert m["clicks"] == 8 and m["inputs"] == 2 and m["keystrokes"] == len("13800000001") + len("migu-pass-001")
    assert m["pages"] == 7 and m["verifications"] == 0 and m["retention_pages"] == 0 and m["preticked"] == 0
    assert (
        m["receipt"]["found"]
        and m["receipt"]["reference"].startswith("MG20261120")
        and m["receipt"]["datetime"].startswith("2026-11-20 10:00")
    )
    assert m["a11y"] == 0 and m["active_s"] > 0


def test_a_retention_page_fails_the_budget_with_one_line_per_item_pinned_on_its_step(web_runs):
    _, (r, line), _ = web_runs
    assert r.returncode == 1 and "Traceback" not in r.stderr
    message = line["failure"]["message"].splitlines()
    assert "budget: retention_pages 2 > 0 (steps 11, 12)" in message
    assert "budget: clicks 10 > 8 (steps 3, 5, 7, 8, 10, 11, 12, 13, 15, 18)" in message
    assert any(m.startswith("budget: a11y 2 > 0") for m in message)  # the grey "continue" link fails contrast
    assert line["failure"]["step"] == 11  # where a budget item was first exceeded, not the last step
    manifest = load_manifest(Path(line["run_dir"]))
    offer = manifest.steps[10]
    assert offer.page.retention_page and "专属优惠" in offer.page.retention and offer.page.path == "/member/unsubscribe/offer"
    assert {v.rule for v in offer.a11y} == {"color-contrast"}


def test_compare_reports_the_extra_pages_clicks_and_changed_steps(web_runs, cli, tmp_path):
    (_, a), (_, b), _ = web_runs
    r = cli("compare", a["run_dir"], b["run_dir"], "--out", tmp_path / "compare.html", "--json")
    assert r.returncode == 1, r.stderr
    c = json.loads(r.stdout)
    assert c["metrics"]["pages"] == {"a": 7, "b": 9, "worse": True}
    assert c["metrics"]["clicks"] == {"a": 8, "b": 10, "worse": True}
    assert {"pages", "clicks", "retention_pages", "a11y"} <= set(c["worse"])
    changed = {s["name"]: s for s in c["steps"] if s["kind"] == "changed"}
    assert "如遇挽留优惠,选择继续退订" in changed and changed["进入「确认退订信息」"]["diff_pixels"] > 0
    html = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 3 and "http://" not in html.split("<body>")[0]
    # the retention pages only B showed (A skipped those steps) are shown with their screens, and open full size
    offer = html.split("<h3>如遇挽留优惠,选择继续退订</h3>")[1].split("<h3>")[0]
    assert offer.count("data:image/png;base64,") == 1 and "data-zoom" in offer
    assert '<dialog class="lightbox"' in html


def test_two_runs_of_the_same_journey_differ_in_nothing_but_what_they_saved(web_runs, cli, tmp_path):
    (_, a), _, (_, again) = web_runs
    r = cli("compare", a["run_dir"], again["run_dir"], "--out", tmp_path / "c.html", "--json")
    c = json.loads(r.stdout)
    receipts = [load_manifest(Path(x["run_dir"])).steps[16].saved["receipt_no"] for x in (a, again)]
    assert receipts[0] != receipts[1]  # a new receipt number each run …
    assert [s["name"] for s in c["steps"] if s["kind"] != "same"] == []  # … and `see ${receipt_no}` is the same step
    assert r.returncode == 0 or set(c["worse"]) <= {"active_s"}, r.stdout


def test_compare_of_a_run_with_itself_is_clean(web_runs, cli, tmp_path):
    (_, a), _, _ = web_runs
    r = cli("compare", a["run_dir"], a["run_dir"], "--out", tmp_path / "c.html", "--lang", "en")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok: 咪咕会员 · 官网立即退订")


def test_compare_refuses_what_it_cannot_compare(cli, tmp_path):
    r = cli("compare", tmp_path, tmp_path / "nope")
    assert r.returncode == 2 and r.stderr.strip() == f"tuiding: {tmp_path / 'nope'}: not a folder"
    r = cli("compare", tmp_path, tmp_path)
    assert r.returncode == 2 and "no scenario was run in both" in r.stderr


@pytest.fixture
def scenario_copy(tmp_path):
    """web_unsubscribe and its flow in a folder of their own, so its baselines are the test's."""
    (tmp_path / "migu").mkdir()
    shutil.copytree(ROOT / "scenarios" / "flows", tmp_path / "flows")
    target = tmp_path / "migu" / "web_unsubscribe.yaml"
    shutil.copy(WEB, target)
    return target


def test_a_moved_button_fails_its_step_with_a_diff_where_the_button_moved(scenario_copy, cli, tmp_path):
    r, _ = run_json(cli, tmp_path / "runs", scenario_copy, "--update-baselines")
    assert r.returncode == 0, r.stderr
    baselines = scenario_copy.parent / "__baselines__" / "web_unsubscribe" / "desktop"
    index = json.loads((baselines / "baselines.json").read_text(encoding="utf-8"))
    assert index["browser"].startswith("chromium ") and len(index["images"]) == 17
    assert len(list(baselines.glob("*.png"))) < 17  # identical screens share one image

    swapped = scenario_copy.read_text(encoding="utf-8").replace("portal: migu", "portal: migu\nsettings: {button_order: swapped}")
    scenario_copy.write_text(swapped, encoding="utf-8")
    r, (line,) = run_json(cli, tmp_path / "runs2", scenario_copy)
    assert r.returncode == 1
    manifest = load_manifest(Path(line["run_dir"]))
    changed = [s for s in manifest.steps if s.visual and s.visual.status == "changed"]
    # the two steps that show the confirmation page, and only they
    assert [s.name for s in changed] == ["进入「确认退订信息」", "核对退订服务、生效时间与将停止的权益"]
    step = changed[0]
    assert step.status == "failed" and "pixels differ from the baseline" in step.error
    assert line["failure"]["message"].startswith("2 step(s) differ from their baselines")
    # the changed pixels lie where the two buttons traded places
    box = step.visual.diff_box
    confirm_click = next(s for s in manifest.steps if s.name == "点击「确认退订」")
    button = confirm_click.bbox  # the button the next step clicked, on the swapped page
    assert box.x <= button.x and box.x + box.width >= button.x + button.width
    assert box.y <= button.y <= box.y + box.height
    diff = Image.open(Path(line["run_dir"]) / step.visual.diff).convert("RGB")
    red = [
        (x, y)
        for x in range(0, diff.width, 2)
        for y in range(0, diff.height, 2)
        if diff.getpixel((x, y))[0] > 200 and diff.getpixel((x, y))[1] < 80
    ]
    assert red and all(
        box.x / 2 - 4 <= x <= (box.x + box.width) / 2 + 4 and box.y / 2 - 4 <= y <= (box.y + box.height) / 2 + 4 for x, y in red
    )
    report = (Path(line["run_dir"]) / "report.html").read_text(encoding="utf-8")
    assert report.count("差异(红色为变化的像素") == 2
    # the baseline and the diff side by side, both from inside the run folder (the baseline copied there)
    panels = [p.split("</div>")[0] for p in report.split('<div class="visual">')[1:]]
    assert len(panels) == 2 and all(p.count('src="data:image/png;base64,') == 2 for p in panels), panels
    assert "无法读取" not in report
    assert step.visual.approved and (Path(line["run_dir"]) / step.visual.approved).is_file()
    assert cli("verify", line["run_dir"]).returncode == 0  # the diff image is part of the sealed run
    # --no-visual: the same changed page passes, nothing compared, no diffs written
    r, (line,) = run_json(cli, tmp_path / "runs3", scenario_copy, "--no-visual")
    assert r.returncode == 0, r.stderr
    assert all(s.visual is None for s in load_manifest(Path(line["run_dir"])).steps)
    assert not (Path(line["run_dir"]) / "diffs").exists()
    r = cli("run", scenario_copy, "--no-visual", "--update-baselines", "--out", tmp_path / "runs4")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "tuiding: --no-visual and --update-baselines contradict each other: choose one"
    ]
    assert not (tmp_path / "runs4").exists()


def test_masked_regions_never_fail_and_unmasked_ones_would(scenario_copy, cli, tmp_path):
    r, _ = run_json(cli, tmp_path / "runs", scenario_copy, "--update-baselines")
    assert r.returncode == 0, r.stderr
    r, (line,) = run_json(cli, tmp_path / "again", scenario_copy)
    assert r.returncode == 0, line["failure"]  # a new receipt number every run, masked
    statuses = {s.visual.status for s in load_manifest(Path(line["run_dir"])).steps if s.visual}
    assert statuses == {"same"}
    unmasked = (
        scenario_copy.read_text(encoding="utf-8").split("mask:")[0]
        + "steps:"
        + scenario_copy.read_text(encoding="utf-8").split("\nsteps:")[1]
    )
    scenario_copy.write_text(unmasked, encoding="utf-8")
    r, (line,) = run_json(cli, tmp_path / "unmasked", scenario_copy)
    assert r.returncode == 1
    changed = [s.name for s in load_manifest(Path(line["run_dir"])).steps if s.visual and s.visual.status == "changed"]
    assert "系统生成退订凭证" in changed


def test_cloudpc_one_click_is_measured_as_easier_than_the_standard_flow(cli, tmp_path):
    r, lines = run_json(
        cli, tmp_path, ROOT / "scenarios" / "cloudpc" / "unsubscribe_sms.yaml", ROOT / "scenarios" / "cloudpc" / "one_click.yaml"
    )
    assert r.returncode == 0, r.stderr
    standard, one_click = (line["metrics"] for line in lines)
    assert one_click["clicks"] < standard["clicks"] and one_click["pages"] < standard["pages"]
    assert standard["verification_kinds"] == ["sms"] and one_click["verifications"] == 0
    c = cli("compare", lines[0]["run_dir"], lines[1]["run_dir"], "--out", tmp_path / "c.html", "--json")
    deltas = json.loads(c.stdout)["metrics"]
    assert not deltas["clicks"]["worse"] and not deltas["pages"]["worse"] and not deltas["verifications"]["worse"]


@pytest.mark.parametrize(
    "variant,expect",
    [
        ("preticked", lambda m: m["preticked"] == 1),
        ("no_receipt", lambda m: not m["receipt"]["found"]),
    ],
)
def test_variants_show_up_in_the_metrics(cli, tmp_path, variant, expect):
    r, (line,) = run_json(cli, tmp_path, WEB, "--variant", variant)
    assert expect(line["metrics"]), line["metrics"]
    if variant == "no_receipt":  # the journey itself notices first; the budget says why, too
        assert line["failure"]["message"] == "expected to see '退订凭证' on the page, not visible after 10s"
        exceeded = load_manifest(Path(line["run_dir"])).budget_exceeded
        assert [b.line() for b in exceeded if b.item == "receipt"] == [
            "budget: receipt required, none found (no page with a reference number and a date-time)"
        ]
    else:
        assert "budget: preticked 1 > 0" in line["failure"]["message"]


def test_verification_kinds_are_detected_on_each_cloudpc_method(cli, tmp_path):
    files = ["unsubscribe_face.yaml", "unsubscribe_security_question.yaml", "delete_account.yaml"]
    r, lines = run_json(cli, tmp_path, *[ROOT / "scenarios" / "cloudpc" / f for f in files])
    assert r.returncode == 0, r.stderr
    assert [line["metrics"]["verification_kinds"] for line in lines] == [["face"], ["question"], ["sms", "password"]]


def test_a_step_can_opt_out_of_the_audit_and_a11y_findings_are_recorded(cli, tmp_path):
    scen = tmp_path / "a11y.yaml"
    scen.write_text(
        "name: 无障碍\nportal: migu\na11y: true\nsettings: {variant: hidden_entry}\nsteps:\n"
        "  - run: "
        + str(ROOT / "scenarios" / "flows" / "migu_login.yaml")
        + "\n    vars: {account: '13800000001', password: migu-pass-001}\n"
        "  - goto: /member\n    a11y: false\n  - goto: /member/history\n",
        encoding="utf-8",
    )
    r, (line,) = run_json(cli, tmp_path / "runs", scen)
    assert r.returncode == 0, r.stderr
    steps = load_manifest(Path(line["run_dir"])).steps
    by_path = {s.page.path: s for s in steps if s.page}
    assert by_path["/member"].a11y is None  # opted out
    assert by_path["/member/history"].a11y is not None
    assert line["metrics"]["a11y"] == 0  # the faint footer link is inside a closed 更多 menu: not rendered, not audited
    # … until the menu opens on the same page: that step changes what the page shows, so it is audited
    scen.write_text(scen.read_text(encoding="utf-8") + "  - click: 更多\n  - see: 会员管理\n", encoding="utf-8")
    r, (line,) = run_json(cli, tmp_path / "opened", scen)
    steps = load_manifest(Path(line["run_dir"])).steps
    opened = steps[-2]
    assert opened.a11y is not None and {v.rule for v in opened.a11y} >= {"color-contrast"}
    assert steps[-1].a11y is None  # a `see` changes nothing: not audited twice
    assert r.returncode == 0 and line["metrics"]["a11y"] >= 1
    # --no-a11y: no audit anywhere, whatever the scenario and its steps ask
    r, (line,) = run_json(cli, tmp_path / "quick", scen, "--no-a11y")
    assert r.returncode == 0, r.stderr
    assert all(s.a11y is None for s in load_manifest(Path(line["run_dir"])).steps)
