"""Every form of both portals answers hostile input with a page (never a 500), escapes it, shows a
visible error when it refuses, and changes nothing — one sweep, one table per portal."""

import sqlite3

import pytest
from support import form_client

from tuiding_portals import create_app

HOSTILE = ["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "９９９", "１２３４５６", "x" * 5000, "\u0000", "${password}"]


def _rows(app, *queries):
    conn = sqlite3.connect(app.config["DATABASE"])
    return tuple(conn.execute(q).fetchall() for q in queries)


PORTALS = {
    "migu": {
        # unsubscribed already: nothing legitimate is left to change
        "login": ("/login", {"account": "13800000003", "password": "migu-pass-003"}),
        "forms": [
            ("/login", ["account", "password"]),
            ("/app/login", ["account", "password"]),
            ("/forgot", ["phone"]),
            ("/member/unsubscribe", ["agree"]),
            ("/member/unsubscribe/confirm", ["token"]),
            ("/member/pause", ["months"]),
            ("/app/member/pause", ["months"]),
            ("/app/member/unsubscribe", ["token", "agree"]),
            ("/service/chat", ["message"]),
            ("/service/hotline", ["keys", "key"]),
        ],
        "state": (
            "SELECT account, status, auto_renew, expires_on, password_hash FROM migu_account ORDER BY account",
            "SELECT count(*) FROM migu_receipt",
            "SELECT count(*) FROM migu_payment",
        ),
    },
    "cloudpc": {
        "login": ("/login", {"phone": "13900000003", "password": "cloud-pass-003"}),
        "prepare": ["/unsubscribe?from=settings"],
        "forms": [
            ("/login", ["phone", "password"]),
            ("/unsubscribe/reason", ["reason", "other"]),
            ("/unsubscribe/verify", ["method", "code", "answer", "face_nonce"]),
            ("/unsubscribe/confirm", ["agree"]),
            ("/account/delete", ["understand", "confirm_word", "password"]),
            ("/feedback", ["rating", "text"]),
        ],
        "state": (
            "SELECT phone, deleted, password_hash FROM cloudpc_account ORDER BY phone",
            "SELECT count(*) FROM cloudpc_request",
            "SELECT count(*) FROM cloudpc_feedback",
        ),
    },
}
CASES = [(portal, path, fields) for portal, spec in PORTALS.items() for path, fields in spec["forms"]]


@pytest.mark.parametrize("portal,path,fields", CASES, ids=[f"{p}{path}" for p, path, _ in CASES])
def test_every_form_answers_hostile_input_without_500_or_changes(tmp_path, portal, path, fields):
    spec = PORTALS[portal]
    app = create_app(portal, database=tmp_path / "state.db", test_api=True)
    client = form_client(app)
    login_path, credentials = spec["login"]
    assert client.post(login_path, data=credentials).status_code == 302
    for prepare in spec.get("prepare", []):
        client.get(prepare)
    before = _rows(app, *spec["state"])
    for value in HOSTILE:
        r = client.post(path, data={f: value for f in fields})
        assert r.status_code < 500, (path, value)
        assert "<script>alert(1)</script>" not in r.text
        if r.status_code == 400:
            assert 'role="alert"' in r.text, (path, value)  # a refusal is visible and announced
    assert _rows(app, *spec["state"]) == before
