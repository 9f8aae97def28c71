"""End to end: `tuiding run` in a real browser, asserting on the run folder, the portal state and secrecy."""

import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import DATA, ROOT, free_port, only_run_dir, run_server, stop_server

from tuiding.receipts import file_sha256
from tuiding_portals.server import EmbeddedPortal

pytestmark = pytest.mark.browser
SECRET = "migu-pass-001"


def tuiding(*args, cwd=ROOT, env=None):
    return subprocess.run(
        [sys.executable, "-m", "tuiding", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def unsubscribed(tmp_path_factory):
    """web_unsubscribe.yaml against a portal we hold on to, so its state can be checked afterwards."""
    out = tmp_path_factory.mktemp("runs")
    with EmbeddedPortal("migu") as portal:
        r = tuiding("run", "scenarios/migu/web_unsubscribe.yaml", "--out", out, "--json", "--base-url", portal.url)
        conn = sqlite3.connect(portal.app.config["DATABASE"])
        account = conn.execute("SELECT status, auto_renew FROM migu_account WHERE account='13800000001'").fetchone()
        receipts = conn.execute("SELECT receipt_no FROM migu_receipt WHERE account='13800000001'").fetchall()
    return r, only_run_dir(out), account, receipts


def test_run_passes_and_reports_json(unsubscribed):
    r, run_dir, _, _ = unsubscribed
    assert r.returncode == 0, r.stderr
    line = json.loads(r.stdout.strip().splitlines()[-1])
    assert line["status"] == "passed" and line["run_dir"] == str(run_dir) and line["failure"] is None


def test_portal_state_after_the_run(unsubscribed):
    _, run_dir, account, receipts = unsubscribed
    assert account == ("unsubscribed", 0)
    assert len(receipts) == 1
    # the receipt number the portal issued is the one the receipt page showed (element screenshot step)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    receipt_step = next(s for s in manifest["steps"] if s["action"] == "save")
    assert manifest["site"]["base_url"] and manifest["format"] == 1 and manifest["seal"]
    assert receipt_step["screenshot"] and receipt_step["bbox"]


def test_run_folder_layout_and_records(unsubscribed):
    _, run_dir, _, _ = unsubscribed
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    lines = [json.loads(l) for l in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    assert manifest["status"] == "passed"
    assert [s["hash"] for s in manifest["steps"]] == [l["hash"] for l in lines]
    assert len(lines) == 20 and [l["index"] for l in lines] == list(range(1, 21))
    assert [l["status"] for l in lines].count("skipped") == 2  # no retention pages on the standard portal
    pngs = sorted((run_dir / "receipts").glob("*.png"))
    shots = [l for l in lines if l["screenshot"]]
    assert len(pngs) == len(shots) == 17  # step 6 says screenshot: false
    for rec in shots:
        assert file_sha256(run_dir / rec["screenshot"]) == rec["sha256"]
        assert (run_dir / rec["screenshot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = lines[0]
    assert first["flow"] == "migu_login.yaml" and first["source"] == "scenarios/flows/migu_login.yaml:8"
    assert first["name"] == "打开咪咕会员官网登录页"
    assert manifest["metrics"]["clicks"] <= 8 and manifest["started_at"] and manifest["ended_at"]
    assert not (run_dir / "trace.zip").exists()  # no trace on a passing run by default (on-retry)
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert report.count("data:image/png;base64,") == 17 and "咪咕会员 · 官网立即退订" in report
    assert "http://" not in report.split("<body>")[0]  # nothing loaded from the network: self-contained


def test_secrets_never_reach_outputs(unsubscribed):
    r, run_dir, _, _ = unsubscribed
    assert SECRET not in r.stdout + r.stderr
    for f in ("manifest.json", "steps.jsonl", "report.html"):
        assert SECRET not in (run_dir / f).read_text(encoding="utf-8")


def test_verify_passes_then_catches_a_modified_receipt(unsubscribed, tmp_path):
    import shutil

    _, run_dir, _, _ = unsubscribed
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    ok = tuiding("verify", copy)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    victim = sorted((copy / "receipts").glob("*.png"))[3]
    victim.write_bytes(victim.read_bytes() + b"\x00")
    bad = tuiding("verify", copy)
    assert bad.returncode == 1
    assert f"receipts/{victim.name}: receipt altered" in bad.stderr


def test_failure_names_step_line_and_screenshot_and_keeps_a_scrubbed_trace(tmp_path):
    r = tuiding("run", DATA / "failing_secret.yaml", "--out", tmp_path, "--trace", "on-failure")
    assert r.returncode == 1
    run_dir = only_run_dir(tmp_path)
    # The console speaks the scenario's language (zh-CN): the failure's step, its line and its screenshot.
    assert "第 4 步「等待一段不存在的文字」,位于 tests/data/failing_secret.yaml:10" in r.stderr
    assert "expected to see '这段文字不存在'" in r.stderr
    shot = run_dir / "receipts" / "04-等待一段不存在的文字.png"
    assert f"截图:{shot}" in r.stderr and shot.is_file()
    assert "Traceback" not in r.stderr
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["failure"]["step"] == 4
    assert tuiding("verify", run_dir).returncode == 0  # the trace and the report are covered by the seal
    trace = run_dir / "trace.zip"
    assert trace.is_file()
    with zipfile.ZipFile(trace) as z:
        assert z.namelist()
        for name in z.namelist():
            assert SECRET.encode() not in z.read(name), name
    for f in ("manifest.json", "steps.jsonl", "report.html"):
        assert SECRET not in (run_dir / f).read_text(encoding="utf-8")


def test_pytest_plugin_reports_a_failing_scenario_with_its_step(tmp_path):
    scen = tmp_path / "failing.yaml"
    scen.write_text((DATA / "failing_secret.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(scen),
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            f"--tuiding-out={tmp_path / 'runs'}",
            "--rootdir",
            str(tmp_path),
            f"--tuiding-scenarios={tmp_path}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 1, r.stdout
    assert "step 4 「等待一段不存在的文字」 at failing.yaml:10" in r.stdout
    assert "screenshot: " in r.stdout and "04-等待一段不存在的文字.png" in r.stdout
    xml = junit.read_text(encoding="utf-8")
    assert 'failures="1"' in xml and "failing.yaml:10" in xml
    assert SECRET not in r.stdout
    # --tuiding-trace on-retry (the default): nothing traced on a first run, and the failure says how to get a trace
    assert not list((tmp_path / "runs").glob("*/trace.zip"))
    assert "no trace.zip was recorded (--tuiding-trace on-retry traces reruns): add --reruns 1" in r.stdout


def test_pytest_reruns_a_failed_scenario_traced_and_names_the_run_it_replaces(tmp_path):
    """pytest-rerunfailures' --reruns is the plugin's retry: the rerun gets a fresh run folder and a trace."""
    scen = tmp_path / "failing.yaml"
    scen.write_text((DATA / "failing_secret.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    def pytest_run(*options: str) -> subprocess.CompletedProcess[str]:
        base = [sys.executable, "-m", "pytest", str(scen), "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
        command = [*base, f"--tuiding-scenarios={tmp_path}", *options]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)

    r = pytest_run("--reruns", "1", f"--tuiding-out={tmp_path / 'runs'}")
    assert r.returncode == 1 and "1 failed" in r.stdout and "1 rerun" in r.stdout, r.stdout[-2000:]
    assert "no trace.zip" not in r.stdout and "trace.zip (playwright show-trace)" in r.stdout  # the rerun was traced
    manifests = sorted(
        (json.loads((d / "manifest.json").read_text(encoding="utf-8")) for d in (tmp_path / "runs").iterdir()),
        key=lambda m: m["attempt"],
    )
    assert [(m["attempt"], m["trace"]) for m in manifests] == [(1, None), (2, "trace.zip")]
    assert manifests[1]["retry_of"] == manifests[0]["run_id"]
    traced = next((tmp_path / "runs").glob("*/trace.zip"))
    with zipfile.ZipFile(traced) as z:
        assert all(SECRET.encode() not in z.read(n) for n in z.namelist())
    # --tuiding-trace on-failure: every scenario traced, the failed one kept
    r = pytest_run("--tuiding-trace", "on-failure", f"--tuiding-out={tmp_path / 'of'}")
    assert r.returncode == 1 and list((tmp_path / "of").glob("*/trace.zip")), r.stdout[-2000:]
    # the CLI refuses the same contradiction (tests/test_ux_regression.py); pytest says so as a usage error
    r = pytest_run("--tuiding-no-visual", "--tuiding-update-baselines", f"--tuiding-out={tmp_path / 'nv'}")
    assert r.returncode == 4 and "--tuiding-no-visual and --tuiding-update-baselines contradict" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "nv").exists()


def test_pytest_collects_scenarios_not_flows_and_tags_are_markers():
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q", "-m", "negative", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "scenarios/migu/wrong_password.yaml::wrong_password" in r.stdout
    assert "web_unsubscribe" not in r.stdout and "flows" not in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "scenarios/migu/annual_penalty.yaml", "--collect-only", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "annual_penalty.yaml::annual_penalty[钻石年度-已用165天]" in r.stdout and "4 tests collected" in r.stdout


def test_serve_uses_waitress_and_gates_the_test_api(tmp_path):
    import time
    import urllib.error
    import urllib.request

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiding", "serve", "migu", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(50):
            try:
                resp = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        assert resp.status == 200 and resp.headers["Server"] == "tuiding-mock"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/__mock__/sms/latest?phone=1", timeout=2)
        assert err.value.code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ctrl_c_leaves_finished_steps_and_an_interrupted_manifest(tmp_path):
    import os
    import signal
    import time

    scen = tmp_path / "slow.yaml"
    scen.write_text(
        "name: 慢场景\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n  - wait: 60s\n  - goto: /\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs"
    # Own process group, SIGINT to all of it: what a terminal's Ctrl-C does.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuiding", "run", str(scen), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jsonl = list(out.glob("*/steps.jsonl"))
        if jsonl and len(jsonl[0].read_text(encoding="utf-8").splitlines()) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    # In the scenario's language, like every line of the run: 已中断 (interrupted).
    assert "已中断:已完成的步骤、清单和报告都已保存" in err and "Traceback" not in err and "Future exception" not in err
    run_dir = only_run_dir(out)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "interrupted" and len(manifest["steps"]) == 2 and manifest["seal"]
    assert tuiding("verify", run_dir).returncode == 0
    assert (run_dir / "report.html").is_file()


def test_run_with_unknown_tag_or_missing_path_is_invalid_input(tmp_path):
    r = tuiding("run", "scenarios/", "--tag", "no-such-tag", "--out", tmp_path)
    assert r.returncode == 2 and "no scenario has any of the tags: no-such-tag" in r.stderr
    r = tuiding("run", "scenarios/nope.yaml", "--out", tmp_path)
    assert r.returncode == 2 and "scenarios/nope.yaml:1:1: no such file or folder" in r.stderr
    assert not any(tmp_path.iterdir())


def test_backup_export_is_saved_into_the_run_folder_with_the_seeded_rows(tmp_path):
    import csv

    from tuiding_portals.migu.seed import CONTENT

    r = tuiding("run", "scenarios/migu/backup_then_unsubscribe.yaml", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    run_dir = only_run_dir(tmp_path)
    rows = list(csv.reader((run_dir / "downloads" / "观看记录.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [row[0] for row in rows[1:]] == [c[1] for c in CONTENT if c[0] == "history"]
    favourites = json.loads((run_dir / "downloads" / "收藏.json").read_text(encoding="utf-8"))
    assert [i["title"] for i in favourites["items"]] == [c[1] for c in CONTENT if c[0] == "favorite"]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    saved = [d for s in manifest["steps"] for d in s["events"]["downloads"]]
    assert saved == ["downloads/观看记录.csv", "downloads/收藏.json", "downloads/退订凭证.png", "downloads/未观看内容.csv"]
    assert manifest["metrics"]["downloads"] == 4
    assert (run_dir / "downloads" / "退订凭证.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_remote_browser_via_playwright_run_server(tmp_path):
    import os

    server, url = run_server()
    port = int(url.rsplit(":", 1)[1].strip("/"))
    try:
        env = {**os.environ, "TUIDING_BROWSER": "chromium"}
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "tuiding",
                "run",
                "scenarios/migu/web_pause.yaml",
                "--out",
                str(tmp_path),
                "--connect",
                f"ws://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        manifest = json.loads((only_run_dir(tmp_path) / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "passed" and f"via ws://127.0.0.1:{port}/" in manifest["browser"]
    finally:
        stop_server(server)
    r = tuiding("run", "scenarios/migu/web_pause.yaml", "--out", tmp_path / "x", "--connect", f"ws://127.0.0.1:{port}/")
    assert (
        r.returncode == 2
        and r.stderr.startswith(f"tuiding: could not connect to ws://127.0.0.1:{port}/")
        and "Traceback" not in r.stderr
    )


def test_cloudpc_delete_account_keeps_the_backup_zip_in_the_run_folder(tmp_path):
    r = tuiding("run", "scenarios/cloudpc/delete_account.yaml", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    run_dir = only_run_dir(tmp_path)
    with zipfile.ZipFile(run_dir / "downloads" / "云电脑备份.zip") as z:
        docs = json.loads(z.read("documents.json"))
        settings = json.loads(z.read("settings.json"))
    assert len(docs) == 6 and "WPS Office 2026" in settings["installed_software"]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["steps"][-1]["name"] == "提示账号已注销,无法登录" and manifest["steps"][-1]["status"] == "passed"


def test_face_scenario_gets_the_camera_only_when_it_asks(tmp_path):
    r = tuiding(
        "run",
        "scenarios/cloudpc/unsubscribe_face.yaml",
        "scenarios/cloudpc/face_denied_fallback.yaml",
        "--out",
        tmp_path,
        "--json",
    )
    assert r.returncode == 0, r.stderr
    results = [json.loads(line) for line in r.stdout.splitlines()]
    granted = json.loads((Path(results[0]["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    denied = json.loads((Path(results[1]["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert granted["permissions"] == ["camera"] and denied["permissions"] == []
    assert any(s["name"] == "人脸识别通过" for s in granted["steps"])
    assert any("无法使用摄像头" in s["name"] for s in denied["steps"])


def test_pytest_video_and_tracing_options_work_and_the_trace_has_no_secret(tmp_path):
    out = tmp_path / "pw"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "scenarios/migu/web_pause.yaml",
            "-q",
            "-p",
            "no:cacheprovider",
            "--video",
            "on",
            "--tracing",
            "on",
            "--output",
            str(out),
            f"--tuiding-out={tmp_path / 'runs'}",
            "--tuiding-no-visual",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:]
    steps = [
        json.loads(line) for line in next((tmp_path / "runs").glob("*/steps.jsonl")).read_text(encoding="utf-8").splitlines()
    ]
    assert steps and all(s["visual"] is None for s in steps)  # the scenario has baselines; none compared
    video = next(out.rglob("video.webm"))
    assert video.stat().st_size > 10_000
    trace = next(out.rglob("trace.zip"))
    with zipfile.ZipFile(trace) as z:
        assert all(b"migu-pass-002" not in z.read(n) for n in z.namelist())


NOW_ON_THE_PORTAL = """\
name: the portal's date
portal: migu
vars: {today: "${now:%Y-%m-%d}"}
steps:
  - goto: /login
  - fill: {账号: "${today} ${now+1d:%Y-%m-%d}"}
  - request: {url: /__mock__/clock/advance, method: POST, json: {days: 3}}
  - fill: {账号: "${now:%Y-%m-%d}"}
"""


def test_now_on_an_embedded_portal_is_the_portal_s_date_not_the_wall_clock(tmp_path):
    """The embedded portal's clock is frozen at 2026-11-20 (and moved only by its test API): `${now}`, in vars and
    in steps, reads it — a scenario comparing a page's date with `${now}` sees the same day the page does."""
    scenario = tmp_path / "now.yaml"
    scenario.write_text(NOW_ON_THE_PORTAL, encoding="utf-8")
    r = tuiding("run", scenario, "--out", tmp_path / "runs", "--json", "--no-a11y")
    assert r.returncode == 0, r.stdout + r.stderr
    manifest = json.loads((Path(json.loads(r.stdout)["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["clock"] == "portal"
    assert manifest["steps"][1]["target"] == "账号=2026-11-20 2026-11-21"
    assert manifest["steps"][3]["target"] == "账号=2026-11-23"  # after the clock was advanced 3 days
