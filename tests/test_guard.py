"""The live-site guard against what a browser really does: URLs parsed as Chromium parses them, every top-level
navigation of a run that is not live kept on this machine (a goto, a redirect, a script navigation, a new
tab), file: URLs refused — and `request:` with the same parser. Off-site names only ever point back at a
listener on 127.0.0.1; the fence makes the browser fail them before any byte leaves the machine."""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import run_cli

from tuiding.guard import check_request, file_allowed, host_of, is_local, refused_navigation

PORT = 8352


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8352/", True),
        ("http://127.1:8352/", True),  # the browser reads 127.0.0.1
        ("http://0x7f.0.0.1/", True),
        ("http://2130706433/", True),  # 127.0.0.1 as one number
        ("http://[::1]:8352/", True),
        ("http://localhost./", True),
        ("http://app.localhost:8352/", True),
        ("http://LOCALHOST/", True),
        ("http://evil.invalid\\@127.0.0.1:8352/", False),  # urllib sees 127.0.0.1; the browser, evil.invalid
        ("http://127.0.0.1@evil.invalid/", False),
        ("http://127.0.0.1.nip.io/", False),
        ("http://localhost.evil.invalid/", False),
        ("http://xn--80ak6aa92e.com/", False),
        ("http://[::ffff:7f00:1]/", False),  # mapped, not ::1: not this machine's loopback to the fence either
        ("http://10.0.0.1/", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("ftp://127.0.0.1/", False),
        ("not a url", False),
    ],
)
def test_this_machine_is_what_the_browser_would_reach(url, local):
    assert is_local(url) is local


def test_the_backslash_trick_names_the_host_the_browser_goes_to():
    assert host_of("http://evil.invalid\\@127.0.0.1:8352/") == "evil.invalid"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/__mock__/sms/latest", True),
        ("http://127.0.0.1:8352/x", True),
        ("http://127.0.0.2/x", True),  # listed in allow_hosts
        ("http://evil.invalid\\@127.0.0.1:8352/x", False),
        ("http://evil.invalid\\@127.0.0.2/x", False),
        ("//evil.invalid/x", False),  # scheme-relative: another host
        ("file:///etc/passwd", False),
        ("http://127.0.0.1:8352@evil.invalid/", False),
    ],
)
def test_request_steps_reach_only_the_site_and_allowed_hosts(url, allowed):
    assert (check_request(url, "http://127.0.0.1:8352/", ["127.0.0.2"]) is None) is allowed


@pytest.mark.parametrize(
    ("url", "live", "refused"),
    [
        ("/login", False, None),
        ("http://example.invalid/", False, "is not this machine"),
        ("http://example.invalid/", True, None),
        ("file:///etc/passwd", True, "file: URLs are not opened"),
        ("javascript:location='http://x.invalid/'", False, "only http and https"),
    ],
)
def test_a_goto_is_checked_before_the_browser_moves(url, live, refused):
    why = refused_navigation(url, "http://127.0.0.1:8352/", live)
    assert (why is None) if refused is None else (refused in (why or ""))


def test_a_base_url_with_the_backslash_trick_is_refused_before_a_browser_starts(tmp_path):
    scen = tmp_path / "s.yaml"
    scen.write_text("name: s\nsteps:\n  - goto: /\n", encoding="utf-8")
    r = run_cli("run", scen, "--base-url", "http://evil.invalid\\@127.0.0.1:8352/", "--out", tmp_path / "runs")
    assert r.returncode == 2 and "evil.invalid is not this machine" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


# ---------------------------------------------------------------- navigations during a run


PAGES = {
    "/": "<h1>home</h1><a href='/away'>away</a><button onclick=\"location='http://leave.invalid/cancel'\">script</button>"
    "<button onclick=\"window.open('http://tab.invalid/')\">tab</button>",
    "/ok": "<h1>still here</h1>",
}


class _Site(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        _Site.seen.append(f"{self.headers.get('Host')}{self.path}")
        if self.path == "/away":  # a local page that sends the browser off the machine
            self.send_response(302)
            self.send_header("Location", "http://redirected.invalid/cancel?confirm=1")
            self.end_headers()
            return
        body = PAGES.get(self.path, "<h1>?</h1>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("steps", "left_for"),
    [
        ("  - goto: http://elsewhere.invalid/cancel\n", None),  # refused before the browser moves
        ("  - goto: file:///etc/passwd\n", None),
        ("  - click: away\n", "http://redirected.invalid/cancel?confirm=1"),
        ("  - click: script\n", "http://leave.invalid/cancel"),
        ("  - click: tab\n  - wait: 1s\n", "http://tab.invalid/"),
    ],
)
def test_a_journey_that_would_leave_this_machine_stops_in_one_line(site, tmp_path, steps, left_for):
    scen = tmp_path / "s.yaml"
    scen.write_text(f"name: s\nbase_url: {site}\nlocale: en-US\nsteps:\n  - goto: /\n{steps}  - goto: /ok\n", encoding="utf-8")
    r = run_cli("run", scen, "--out", tmp_path / "runs", "--json", "--no-a11y")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    result = json.loads(r.stdout)
    message = result["failure"]["message"]
    if left_for is None:
        assert "not this machine" in message or "file: URLs are not opened" in message, message
    else:
        assert message.startswith(f"the journey left this machine for {left_for}"), message
    manifest = json.loads((Path(result["run_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    assert "still here" not in json.dumps(manifest)  # the journey did not go on
    assert run_cli("verify", result["run_dir"]).returncode == 0


# ---------------------------------------------------------------- files: only a folder the scenario names


def test_a_file_in_an_allowed_folder_is_allowed_and_nothing_else(tmp_path):
    allowed = tmp_path / "pages"
    allowed.mkdir()
    (allowed / "mail.html").write_text("<h1>confirm</h1>", encoding="utf-8")
    (allowed / "out").symlink_to("/etc/passwd")
    folders = [allowed]
    assert file_allowed((allowed / "mail.html").as_uri(), folders)
    assert file_allowed((allowed / "mail.html").as_uri().replace("mail", "m%61il"), folders)  # as the browser encodes
    assert not file_allowed((allowed / "out").as_uri(), folders)  # a link out of the folder
    assert not file_allowed((allowed / ".." / "secret").as_uri(), folders)
    assert not file_allowed(f"file://{allowed}/%2e%2e/secret", folders)
    assert not file_allowed("file:///etc/passwd", folders)
    assert not file_allowed(f"file://evil.example{allowed}/mail.html", folders)  # a file on another host (UNC)
    assert not file_allowed((allowed / "mail.html").as_uri(), [])
    assert refused_navigation((allowed / "mail.html").as_uri(), "http://127.0.0.1:1/", False, folders) is None
    refused = refused_navigation("file:///etc/passwd", "http://127.0.0.1:1/", True, folders)
    assert refused is not None and "allow_files" in refused


@pytest.mark.browser
def test_a_journey_opens_files_only_from_its_allow_files_folder(tmp_path):
    pages = tmp_path / "saved"
    pages.mkdir()
    secret = tmp_path / "secret.html"
    secret.write_text("<h1>SECRET-PAGE</h1>", encoding="utf-8")
    (pages / "mail.html").write_text(
        f"<h1>Confirm your unsubscription</h1><a href='{secret.as_uri()}'>secret</a>", encoding="utf-8"
    )
    scen = tmp_path / "files.yaml"
    scen.write_text(
        "name: files\nportal: migu\nlocale: en-US\nallow_files: [saved]\nsteps:\n"
        f"  - goto: {(pages / 'mail.html').as_uri()}\n  - see: Confirm your unsubscription\n  - click: secret\n"
        "  - see: SECRET-PAGE\n",
        encoding="utf-8",
    )
    r = run_cli("run", scen, "--out", tmp_path / "runs", "--json", "--no-a11y", "--trace", "on")
    assert r.returncode == 1, r.stderr
    result = json.loads(r.stdout)
    message = result["failure"]["message"]
    assert message.startswith(f"the journey opened {secret.as_uri()}"), message
    assert result["failure"]["step"] == 3
    run_dir = Path(result["run_dir"])
    found = [p for p in run_dir.rglob("*") if p.is_file() and b"SECRET-PAGE" in p.read_bytes()]
    for trace in run_dir.glob("*.zip"):
        with zipfile.ZipFile(trace) as z:
            found += [f"{trace}:{n}" for n in z.namelist() if b"SECRET-PAGE" in z.read(n)]
    assert found == []  # neither the records, the receipts nor a trace hold the page
    assert run_cli("verify", run_dir).returncode == 0


def test_allow_files_names_a_folder_that_exists(tmp_path):
    scen = tmp_path / "files.yaml"
    scen.write_text("name: files\nportal: migu\nallow_files: [nowhere]\nsteps:\n  - goto: /\n", encoding="utf-8")
    r = run_cli("validate", scen)
    assert r.returncode == 2
    assert r.stderr.startswith(f"{scen}:3:15: allow_files: nowhere is not a folder next to this scenario"), r.stderr
