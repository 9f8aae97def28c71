"""/__mock__/faults: a bad day at the service, on demand (each fault checked on the portal itself)."""

from __future__ import annotations

import json
import time

import pytest
from support import DATA

LOGIN = {"account": "13800000001", "password": "migu-pass-001"}


def test_bad_faults_are_refused_with_one_line(client):
    for body, words in [
        ({"kind": "explode"}, "unknown fault kind"),
        ({"kind": "latency", "value": -1}, "latency: value"),
        ({"kind": "latency", "value": 10**9}, "latency: value"),
        ({"kind": "fail", "value": 404}, "500 to 599"),
        ({"kind": "fail", "path": "member"}, "path:"),
        ({"kind": "fail", "times": 0}, "times:"),
        ({"kind": "fail", "when": "now"}, "unknown field"),
        ([1, 2], "JSON object"),
    ]:
        r = client.post("/__mock__/faults", json=body)
        assert r.status_code == 400 and words in r.get_json()["error"], body
    assert client.get("/__mock__/faults").get_json()["faults"] == []


def test_fail_once_answers_500_to_one_post_then_recovers(client):
    assert client.post("/__mock__/faults", json={"kind": "fail", "path": "/login"}).status_code == 200
    first = client.post("/login", data=LOGIN)
    assert first.status_code == 500 and "系统繁忙" in first.text
    assert client.post("/login", data=LOGIN).status_code == 302
    assert client.get("/__mock__/faults").get_json()["faults"][0]["remaining"] == 0


def test_latency_slows_matching_pages_only(client):
    client.post("/__mock__/faults", json={"kind": "latency", "path": "/login", "value": 300})
    t0 = time.monotonic()
    client.get("/login")
    slow = time.monotonic() - t0
    t0 = time.monotonic()
    client.get("/")
    fast = time.monotonic() - t0
    assert slow >= 0.3 > fast


def test_late_buttons_are_hidden_until_the_delay_passes(client):
    client.post("/__mock__/faults", json={"kind": "late_button", "value": 1500})
    page = client.get("/login").text
    assert "visibility:hidden" in page and "1500" in page
    client.delete("/__mock__/faults")
    assert "tuiding-late" not in client.get("/login").text


def test_a_delayed_sms_reaches_the_inbox_late(client):
    client.post("/login", data=LOGIN)
    client.post("/__mock__/faults", json={"kind": "sms_delay", "value": 1})
    client.post("/forgot", data={"phone": "13800000001"})
    assert client.get("/__mock__/sms/latest?phone=13800000001").status_code == 404
    time.sleep(1.1)
    assert client.get("/__mock__/sms/latest?phone=13800000001").status_code == 200


def test_expire_session_logs_everyone_out(client):
    client.post("/login", data=LOGIN)
    assert client.get("/member").status_code == 200
    assert client.post("/__mock__/faults", json={"kind": "expire_session"}).get_json()["ok"]
    r = client.get("/member")
    assert r.status_code == 302 and "/login" in r.location


@pytest.mark.parametrize("path", ["/__mock__/sms", "/static/style.css"])
def test_faults_never_touch_the_test_api_or_static_files(client, path):
    client.post("/__mock__/faults", json={"kind": "latency", "value": 2000})
    t0 = time.monotonic()
    client.get(path)
    assert time.monotonic() - t0 < 1.5


def test_reset_clears_faults(client):
    client.post("/__mock__/faults", json={"kind": "fail", "times": -1})
    client.post("/__mock__/reset")
    assert client.get("/__mock__/faults").get_json()["faults"] == []


@pytest.mark.browser
def test_a_scenario_survives_a_bad_day_at_the_service(cli, tmp_path):
    """Slow login page, late buttons, a 503 on the confirming POST: retries with back-off and `if`
    steps carry the journey through, and the page's console errors are kept with the step."""
    r = cli("run", DATA / "faults" / "survives_faults.yaml", "--out", tmp_path, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()]
    late = next(s for s in steps if s["name"].startswith("按钮晚出现"))
    assert late["attempts"] == 2 and late["status"] == "passed"
    busy = next(s for s in steps if s["name"] == "提交退订(服务繁忙)")
    assert any("503" in line for line in busy["console"])
    assert all(not s["console"] for s in steps if s is not busy)  # a quiet page says nothing (no favicon 404)
    assert cli("verify", run_dir).returncode == 0
