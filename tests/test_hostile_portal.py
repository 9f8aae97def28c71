"""The portals as a careful real service would be: hostile form values and test-API JSON get a 400 with a
message (never a 500), only this machine's host names are answered (no DNS rebinding into the test API),
`serve` refuses a bad host in one line, and a stopped portal leaves no state behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from support import run_cli
from support.portal import order_code, order_started

from tuiding_portals import create_app, host_name
from tuiding_portals.server import EmbeddedPortal


@pytest.mark.parametrize("portal", ["migu", "cloudpc"])
@pytest.mark.parametrize("digits", ["１２３４５６", "١٢٣٤٥٦", "12345６", "\u00b9\u00b2\u00b3456"])
def test_an_order_code_in_other_digits_is_a_wrong_code_not_a_server_error(portal, digits, tmp_path):
    _, user, phone, confirm = order_started(portal, tmp_path)
    user.post(f"{confirm}/send")
    assert order_code(user, phone)
    r = user.post(confirm, data={"code": digits})
    assert r.status_code == 400, r.text[:200]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": ["fail"]},
        {"kind": {"a": 1}},
        {"kind": None},
        {"kind": "fail", "value": [500]},
        {"kind": "latency", "value": 1e308},
        {"kind": "fail", "path": {"x": 1}},
        {"kind": "fail", "times": "1"},
        ["kind", "fail"],
        "fail",
    ],
)
def test_hostile_fault_requests_get_a_400_with_a_message(client, body):
    r = client.post("/__mock__/faults", json=body)
    assert r.status_code == 400 and r.get_json()["error"]


@pytest.mark.parametrize("path", ["/__mock__/faults", "/__mock__/clock/advance", "/__mock__/settings"])
def test_json_nested_absurdly_deep_is_a_400(client, path):
    r = client.post(path, data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("localhost", True),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("LocalHost.:80", True),
        ("[::ffff:7f00:1]:80", False),  # not a name the portal listens on
        ("app.localhost", True),
        ("evil.example", False),  # a rebinding name that resolves to 127.0.0.1
        ("evil.example:8000", False),
        ("127.0.0.1.nip.io", False),
        ("localhost.evil.example", False),
    ],
)
def test_only_this_machines_names_are_answered(client, host, answered):
    for path in ("/login", "/__mock__/sms?phone=13800000001"):
        r = client.get(path, headers={"Host": host})
        assert (r.status_code != 421) is answered, (path, host, r.status_code)


@pytest.mark.parametrize(
    ("header", "name"),
    [("[::1]:8000", "::1"), ("[::1]", "::1"), ("LocalHost.:80", "localhost"), ("127.0.0.1", "127.0.0.1"), ("::1", "::1")],
)
def test_host_name_drops_the_port_as_a_host_header_writes_it(header, name):
    assert host_name(header) == name


def test_serve_refuses_a_bad_host_in_one_line():
    r = run_cli("serve", "migu", "--host", "999.1.1.1", "--port", "8123", timeout=60)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "tuiding: cannot listen on 999.1.1.1:8123 (not a host name or address of this machine)"
    ]


def test_a_stopped_portal_leaves_no_state_behind():
    before = set(Path(tempfile.gettempdir()).glob("tuiding-migu-*"))
    with EmbeddedPortal("migu") as portal:
        state = Path(portal.app.config["DATABASE"])
        assert state.is_file()
    assert not state.parent.exists()
    assert set(Path(tempfile.gettempdir()).glob("tuiding-migu-*")) <= before


def test_a_state_file_the_user_named_is_kept(tmp_path):
    app = create_app("migu", database=tmp_path / "mine.db", test_api=True)
    assert app.config["TEMP_STATE"] is None and (tmp_path / "mine.db").is_file()
