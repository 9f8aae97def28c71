"""One redaction policy over every published artefact: personal data found in the DOM (phone numbers, e-mail
addresses, ID-card and card numbers) and the scenario's `redact:` are hidden in guide pictures and in every
video frame, read back with OCR (tesseract) — while the receipts keep what the browser showed."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from PIL import Image
from support import only_run_dir, run_cli

from tuiding.record import load_manifest
from tuiding.redaction import BAR, SLACK_S, FrameRedactor, scrub

PHONE, EMAIL, IDCARD, CARD = "13912345678", "alice.wong@example.org", "11010519491231002X", "4111 1111 1111 1111"
NOT_AN_ID, NOT_A_CARD, SUPPORT = "110105194912310021", "4111 1111 1111 1112", "help@shop.example"
STYLE = "body{font:28px/1.6 sans-serif;margin:40px} input{font:28px sans-serif;width:420px}"
PROFILE = f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>Profile</title><style>{STYLE}</style></head>
<body><h1>Your profile</h1>
<p>Phone: {PHONE}</p><p>Mail: {EMAIL}</p><p>ID {IDCARD}</p><p>Card {CARD}</p>
<p id=order>Order {NOT_AN_ID}</p><p>Ref {NOT_A_CARD} · Receipt MG20261120050442</p><p>Questions? {SUPPORT}</p>
<label>New phone <input id=newphone></label>
<button onclick="document.getElementById('more').hidden=false">More</button>
<p id=more hidden>Backup contact +44 20 7946 0958</p>
</body></html>"""

ocr_needed = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract-ocr is installed by `make bootstrap` (reads pictures back)"
)


def ocr(image: Path) -> str:
    """The picture's text as tesseract reads it, digits and letters only (spaces and dashes dropped)."""
    out = subprocess.run(["tesseract", str(image), "-", "--psm", "11"], capture_output=True, text=True, check=True).stdout
    return "".join(ch for ch in out if ch.isalnum() or ch in "@.")


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum() or ch in "@.")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    (root / "profile.html").write_text(PROFILE, encoding="utf-8")
    handler = partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _scenario(tmp_path: Path, site: str, extra: str = "") -> Path:
    scen = tmp_path / "profile.yaml"
    scen.write_text(
        f"name: Profile\nbase_url: {site}\nlocale: en-US\n{extra}"
        "steps:\n"
        "  - goto: /profile.html\n"
        f"    note: 'Your number {PHONE} is on file'\n"
        f"  - fill: {{New phone: '13700001111'}}\n"
        "  - click: {role: button, name: More}\n"
        "  - see: Backup contact\n",
        encoding="utf-8",
    )
    return scen


def test_frames_are_blacked_out_where_the_page_reported_boxes_around_that_moment() -> None:
    r = FrameRedactor()
    r.report(1000_000, 100, 50, [[10, 10, 20, 10]])
    r.report(1002_000, 100, 50, [])
    assert [s.boxes for s in r.at(1000.5)] == [[(10, 10, 20, 10)]]
    assert [s.boxes for s in r.at(1002.0 - SLACK_S / 2)] == [[(10, 10, 20, 10)], []]  # both: the page was changing
    assert [s.boxes for s in r.at(1003.0)] == [[]]
    assert r.at(999.0) == []  # before the first report: nothing known, nothing drawn
    frame = Image.new("RGB", (200, 100), (255, 255, 255))
    import io

    buf = io.BytesIO()
    frame.save(buf, "JPEG")
    out = Image.open(io.BytesIO(r.apply(1000.5, buf.getvalue()))).convert("RGB")
    assert out.size == (200, 100)
    assert max(out.getpixel((40, 30))) < 60  # (10..30, 10..20) CSS px at 2x: blacked out
    assert min(out.getpixel((150, 80))) > 200  # elsewhere untouched
    assert r.apply(1003.0, buf.getvalue()) == buf.getvalue()  # no box: the frame is not even re-encoded
    # Below a subtitle bar's top nothing is drawn — when the frame shows the bar (opaque, all across)
    assert r.apply(1000.5, buf.getvalue(), clip_bottom=15) != buf.getvalue()
    unclipped = Image.open(io.BytesIO(r.apply(1000.5, buf.getvalue(), clip_bottom=15))).convert("RGB")
    assert max(unclipped.getpixel((40, 36))) < 60  # no bar on this frame: the box is drawn whole
    barred = frame.copy()
    barred.paste(BAR, (0, 30, 200, 100))
    buf = io.BytesIO()
    barred.save(buf, "JPEG", quality=95)
    clipped = Image.open(io.BytesIO(r.apply(1000.5, buf.getvalue(), clip_bottom=15))).convert("RGB")
    assert max(clipped.getpixel((40, 24))) < 60  # above the bar: blacked out
    assert max(abs(a - b) for a, b in zip(clipped.getpixel((40, 36)), BAR, strict=True)) < 12  # the bar as it was


ALL = ("phone", "email", "id_card", "card")


@pytest.mark.parametrize(
    ("text", "kinds", "keep", "expected"),
    [
        (f"call {PHONE} or +86 139 1234 5678", ALL, (), "call ••• or •••"),
        (f"write to {EMAIL}, not {SUPPORT}", ALL, (SUPPORT,), f"write to •••, not {SUPPORT}"),
        (f"ID {IDCARD}; order {NOT_AN_ID}", ALL, (), f"ID •••; order {NOT_AN_ID}"),  # no valid check digit: an order
        (f"card {CARD}, ref {NOT_A_CARD}", ALL, (), f"card •••, ref {NOT_A_CARD}"),  # Luhn
        ("receipt MG20261120050442", ALL, (), "receipt MG20261120050442"),  # passes Luhn, but a reference's digits
        ("+44 20 7946 0958 / 95016 / 2026-12-06 10:00", ALL, (), "••• / 95016 / 2026-12-06 10:00"),
        (f"{PHONE} {EMAIL}", ("email",), (), f"{PHONE} •••"),
    ],
)
def test_text_a_guide_prints_leaves_out_what_its_pictures_hide(text, kinds, keep, expected) -> None:
    assert scrub(text, kinds, keep) == expected


@pytest.mark.browser
@ocr_needed
def test_personal_data_found_in_the_page_is_hidden_in_the_guide_and_every_video_frame(tmp_path: Path, site: str) -> None:
    scen = _scenario(tmp_path, site, f"personal_data: {{keep: ['{SUPPORT}']}}\n")
    r = run_cli("run", scen, "--out", tmp_path / "runs", "--walkthrough", "md,video")
    assert r.returncode == 0, r.stderr
    assert "Encoding the video" in r.stdout  # the slow part after the last step says what it does
    d = only_run_dir(tmp_path / "runs")
    steps = load_manifest(d).steps
    first = sorted(f.kind for f in steps[0].personal)
    assert first == ["card", "email", "id_card", "phone"]  # not the order number, the reference or the support address
    assert "phone" in [f.kind for f in steps[1].personal]  # the number typed into a field
    # the profile's, the one typed in and +44 … shown by a click on the same page
    assert [f.kind for f in steps[3].personal].count("phone") == 3

    receipt = ocr(d / steps[0].screenshot)
    assert PHONE in receipt and digits(CARD) in receipt  # the receipt is evidence: it keeps what the page showed
    picture = ocr(d / "walkthrough" / "images" / "01-01.jpg")
    for hidden in (PHONE, digits(EMAIL), IDCARD, digits(CARD)):
        assert hidden not in picture, (hidden, picture)
    assert digits(NOT_A_CARD) in picture and SUPPORT in picture  # what merely looks alike, and what is kept, stays
    md = (d / "walkthrough" / "walkthrough.md").read_text(encoding="utf-8")
    assert "Hidden in the pictures: phone numbers, e-mail addresses, ID-card numbers, bank-card numbers." in md
    assert PHONE not in md and "Your number ••• is on file" in md  # nor spelled out beside them

    frames = tmp_path / "frames"
    frames.mkdir()
    # the video at 4 pictures a second, without those that repeat the one before (mpdecimate)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", d / "video" / "screencast.webm", "-vf", "fps=4,mpdecimate", "-vsync", "vfr",
         frames / "%03d.png"], check=True,
    )  # fmt: skip
    seen = [ocr(f) for f in sorted(frames.glob("*.png"))]
    assert any(SUPPORT in text for text in seen)  # OCR reads these frames
    for text in seen:
        for hidden in (PHONE, "13700001111", digits(EMAIL), IDCARD, digits(CARD), "79460958"):
            assert hidden not in text, (hidden, text)
    assert run_cli("verify", d).returncode == 0


@pytest.mark.browser
@ocr_needed
def test_personal_data_hide_false_shows_it_and_the_guide_says_nothing(tmp_path: Path, site: str) -> None:
    scen = _scenario(tmp_path, site, "personal_data: {hide: false}\n")
    r = run_cli("run", scen, "--out", tmp_path / "runs", "--walkthrough", "md")
    assert r.returncode == 0, r.stderr
    d = only_run_dir(tmp_path / "runs")
    assert load_manifest(d).steps[0].personal  # still found and recorded: a guide may hide it later
    assert PHONE in ocr(d / "walkthrough" / "images" / "01-01.jpg")
    assert f"Your number {PHONE} is on file" in (d / "walkthrough" / "walkthrough.md").read_text(encoding="utf-8")
    assert "Hidden in the pictures" not in (d / "walkthrough" / "walkthrough.md").read_text(encoding="utf-8")


@pytest.mark.browser
@ocr_needed
def test_a_guide_manifest_adds_its_own_redactions_to_every_scenario_it_runs(tmp_path: Path, site: str) -> None:
    _scenario(tmp_path, site)
    manifest = tmp_path / "profile-guide.yaml"
    manifest.write_text(
        "title: Your profile\nlang: en\nformats: [md]\nredact: [{css: '#order'}]\n"
        f"personal_data: {{keep: ['{SUPPORT}']}}\n"
        "parts:\n  - heading: Open your profile\n    scenario: profile.yaml\n",
        encoding="utf-8",
    )
    r = run_cli("guide", manifest, "--out", tmp_path / "guide")
    assert r.returncode == 0, r.stderr
    picture = ocr(tmp_path / "guide" / "images" / "01-01.jpg")
    assert NOT_AN_ID not in picture and PHONE not in picture  # the guide's own list, and what is found anyway
    assert SUPPORT in picture and digits(NOT_A_CARD) in picture
    md = (tmp_path / "guide" / "profile-guide.md").read_text(encoding="utf-8")
    assert "values the scenario marks (redact)" in md
    bad = tmp_path / "bad-guide.yaml"
    bad.write_text("title: x\npersonal_data: {hide: maybe}\nparts:\n  - heading: y\n", encoding="utf-8")
    r = run_cli("guide", bad, "--out", tmp_path / "bad")
    assert r.returncode == 2 and f"{bad}:2:" in r.stderr and "Traceback" not in r.stderr
