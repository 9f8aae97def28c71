"""Walkthroughs from real runs: numbered steps with merged duplicate screens, outlines where the runner
recorded the target (desktop and phone), PDF text, redaction, several runs, determinism, video cues."""

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from support import ROOT

from tuiding.record import load_manifest
from tuiding.report.guide import guide_from_runs
from tuiding.report.walkthrough import MAX_WIDTH, OUTLINE, REDACT, build

pytestmark = pytest.mark.browser


def run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "tuiding", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def run_dir(out: Path, pattern: str) -> Path:
    (found,) = [d for d in out.iterdir() if d.is_dir() and pattern in d.name]
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The website and app journeys, run once with walkthroughs; a failing journey; the pause journey."""
    out = tmp_path_factory.mktemp("runs")
    r = run(
        "run",
        "scenarios/migu/web_unsubscribe.yaml",
        "scenarios/migu/app_unsubscribe.yaml",
        "--out",
        out,
        "--walkthrough",
        "md,html,pdf",
    )
    assert r.returncode == 0, r.stderr
    failing = tmp_path_factory.mktemp("failing") / "failing.yaml"
    failing.write_text(
        "name: 中途停止的旅程\nportal: migu\nsteps:\n  - goto: /login\n  - click: 忘记密码\n    if: {see: 不存在的提示}\n"
        "  - see: 没有这段文字\n    timeout: 1s\n",
        encoding="utf-8",
    )
    assert run("run", failing, "--out", out).returncode == 1
    assert run("run", "scenarios/migu/web_pause.yaml", "--out", out).returncode == 0
    return {
        "web": run_dir(out, "web_unsubscribe"),
        "app": run_dir(out, "app_unsubscribe"),
        "failing": run_dir(out, "failing"),
        "pause": run_dir(out, "web_pause"),
    }


def expected_blocks(manifest) -> int:
    """Pictures a reader sees: a new one whenever a kept step's screenshot differs from the last one kept."""
    count, last = 0, None
    for r in manifest.steps:
        if r.status == "skipped" or not r.walkthrough or not r.screenshot:
            continue
        if r.sha256 != last:
            count += 1
        last = r.sha256
    return count


def test_the_website_guide_has_one_numbered_step_per_distinct_screen(runs):
    guide = runs["web"] / "walkthrough"
    md = (guide / "walkthrough.md").read_text(encoding="utf-8")
    manifest = load_manifest(runs["web"])
    shots = [r for r in manifest.steps if r.screenshot]
    numbers = [int(n) for n in re.findall(r"^\*\*(\d+)\.\*\*", md, re.M)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == expected_blocks(manifest) < len(shots)  # identical screens were merged
    assert "**3.** 点击「登录」  \n登录成功,进入首页" in md  # merged captions stay, under one picture
    links = re.findall(r"\]\((images/[^)]+)\)", md)
    assert links and all((guide / link).is_file() for link in links)
    assert len(links) == len(set(links)) and not [p for p in (guide / "images").iterdir() if f"images/{p.name}" not in links]
    for section in ("第一步:登录咪咕会员账户", "第二步:进入会员管理页面", "第三步:选择退订选项", "第四步:确认退订信息"):
        assert f"### {section}" in md
    assert "### 准备工作" in md and "### 退订后的注意事项" in md
    # the button the next step clicks is outlined on this page, with the next step's number, across a section heading
    blocks = [b for b in guide_from_runs([runs["web"]]).parts[0].items if hasattr(b, "captions")]
    manage = next(b for b in blocks if b.captions[0] == "点击「会员管理」")
    assert [o.badge for o in manage.picture.outlines] == [manage.number + 1]
    assert "*本次未执行的步骤(条件不满足):*" in md and "- 如遇挽留优惠,选择继续退订" in md


def _orange(pixel) -> bool:  # the outline's colour, after JPEG
    r, g, b = pixel[:3]
    return r > 180 and 50 < g < 170 and b < 110 and r - b > 110


@pytest.mark.parametrize("which,step_name", [("web", "勾选同意退订协议"), ("app", "输入账号和密码")])
def test_the_outline_is_drawn_where_the_runner_recorded_the_target(runs, which, step_name):
    d = runs[which]
    manifest = load_manifest(d)
    step = next(r for r in manifest.steps if r.name == step_name)
    guide = guide_from_runs([d])
    block = next(b for b in guide.parts[0].items if getattr(b, "captions", [None])[0] == step_name)
    assert block.picture.outlines and block.picture.outlines[0].badge == block.number
    image = Image.open(d / "walkthrough" / "images" / f"01-{block.number:02d}.jpg").convert("RGB")
    receipt = Image.open(d / step.screenshot).convert("RGB")
    shrink = image.width / receipt.width
    assert image.width <= MAX_WIDTH
    box = step.shot.to_image(step.bbox)  # receipt pixels
    # the outline runs 4 px outside the box (in receipt pixels): orange on its right edge (the badge sits on
    # the top-left corner), not inside the box
    grow = max(4, (24 * step.shot.scale - box.width) / 2)
    edge = (int((box.x + box.width + grow) * shrink), int((box.y + box.height / 2) * shrink))
    inside = (int((box.x + box.width / 2) * shrink), int((box.y + box.height / 2) * shrink))
    assert any(_orange(image.getpixel((edge[0] + dx, edge[1]))) for dx in range(-3, 4)), "no outline at the recorded box"
    assert not _orange(image.getpixel(inside))
    assert not any(
        _orange(receipt.getpixel((int(box.x + box.width + grow) + dx, int(box.y + box.height / 2)))) for dx in range(-3, 4)
    )
    if which == "app":
        assert step.shot.scale == 3.0  # an iPhone 13: the box was placed through the pixel ratio


def test_receipts_stay_byte_identical_and_verify_after_a_guide_is_built(runs, tmp_path):
    copy = tmp_path / "web"
    shutil.copytree(runs["web"], copy)
    before = {p.name: p.read_bytes() for p in (copy / "receipts").iterdir()}
    r = run("walkthrough", copy, "--format", "md,html")
    assert r.returncode == 0, r.stderr
    assert {p.name: p.read_bytes() for p in (copy / "receipts").iterdir()} == before
    v = run("verify", copy)
    assert v.returncode == 0, v.stderr  # the guide written inside the sealed folder was there when sealed


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True, text=True, check=True).stdout


def _pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def test_pdf_has_every_caption_in_order_and_a_stable_page_count(runs, tmp_path):
    """Read back with poppler (make bootstrap installs poppler-utils)."""
    pdf = runs["web"] / "walkthrough" / "walkthrough.pdf"
    text = re.sub(r"\s+", "", _pdf_text(pdf))
    captions = [r.name for r in load_manifest(runs["web"]).steps if r.status != "skipped" and r.walkthrough]
    positions = [text.find(re.sub(r"\s+", "", c)) for c in captions]
    assert all(p >= 0 for p in positions), [c for c, p in zip(captions, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert "tuiding0.2.0" in text and "第1页/共" in text  # title page with the tool version; page numbers
    again = run("walkthrough", runs["web"], "--format", "pdf", "--out", tmp_path / "again")
    assert again.returncode == 0, again.stderr
    assert _pdf_pages(tmp_path / "again" / "walkthrough.pdf") == _pdf_pages(pdf) >= 3


def test_markdown_and_html_are_byte_identical_across_builds(runs, tmp_path):
    for n in (1, 2):
        assert run("walkthrough", runs["web"], runs["app"], "--format", "md,html", "--out", tmp_path / str(n)).returncode == 0
    for name in ("walkthrough.md", "walkthrough.html"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "1" / "images").iterdir()) == sorted(
        p.name for p in (tmp_path / "2" / "images").iterdir()
    )


def test_three_runs_make_three_sections_in_the_order_given(runs, tmp_path):
    r = run(
        "walkthrough", runs["pause"], runs["web"], runs["app"], "--format", "md,html", "--out", tmp_path, "--title", "三种办法"
    )
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "walkthrough.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == ["咪咕会员 · 官网暂停会员", "咪咕会员 · 官网立即退订", "咪咕会员 · 手机 APP 立即退订"]
    assert html.count('<nav class="toc"') == 1 and "<title>三种办法</title>" in html
    assert "http://" not in html.split("<body>")[0] and html.count("data:image/jpeg;base64,") >= 20  # self-contained


def test_a_failed_run_says_where_it_stopped_and_skipped_steps_are_listed(runs):
    guide = guide_from_runs([runs["failing"]])
    part = guide.parts[0]
    assert part.skipped == ["点击「忘记密码」"]
    stopped = [b for b in part.items if getattr(b, "failed", None)]
    assert len(stopped) == 1 and "没有这段文字" in stopped[0].failed and stopped[0].picture is not None


def test_english_captions_for_generated_ones_written_ones_stay(runs):
    guide = guide_from_runs([runs["failing"]], lang="en")
    first = guide.parts[0].items[0]
    assert first.captions == ["Open /login"]
    assert guide.labels["stopped"] == "The journey stopped here"
    web = guide_from_runs([runs["web"]], lang="en")
    assert web.parts[0].items[1].captions[0] == "打开咪咕会员官网登录页"  # named in the scenario: kept as written


def test_redacted_regions_and_secrets_are_absent_from_pictures_and_text(tmp_path):
    scen = tmp_path / "redact.yaml"
    scen.write_text(
        "name: 遮挡演示\nportal: migu\nvars: {account: '13800000001', password: migu-pass-001}\nsecrets: [password]\n"
        "redact: ['138****0001', {css: '.nickname'}]\nsteps:\n"
        "  - goto: /login\n  - fill: {账号: '${account}', 密码: '${password}'}\n  - click: {role: button, name: 登录}\n"
        "  - goto: /member\n    name: 会员中心里显示 138****0001\n    note: 账号 138****0001 已登录\n",
        encoding="utf-8",
    )
    r = run("run", scen, "--out", tmp_path / "runs", "--walkthrough", "md,html")
    assert r.returncode == 0, r.stderr
    d = next((tmp_path / "runs").iterdir())
    md = (d / "walkthrough" / "walkthrough.md").read_text(encoding="utf-8")
    html = (d / "walkthrough" / "walkthrough.html").read_text(encoding="utf-8")
    for text in (md, html):
        assert "138****0001" not in text and "migu-pass-001" not in text and "会员中心里显示 •••" in text
    member = next(r for r in load_manifest(d).steps if r.name.startswith("会员中心里显示"))
    assert len(member.redact) >= 2  # the masked phone number and the nickname, measured on the page
    block = next(b for b in guide_from_runs([d]).parts[0].items if b.captions[0].startswith("会员中心里显示"))
    image = Image.open(d / "walkthrough" / "images" / "01-04.jpg").convert("RGB")
    shrink = image.width / member.shot.width
    for box in member.redact:
        b = member.shot.to_image(box)
        x, y = int((b.x + b.width / 2) * shrink), int((b.y + b.height / 2) * shrink)
        assert max(abs(c - v) for c, v in zip(image.getpixel((x, y)), REDACT, strict=True)) < 40, (box, image.getpixel((x, y)))
    assert block.number == 4


def test_walkthrough_refuses_what_it_cannot_build(tmp_path):
    r = run("walkthrough", tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == f"tuiding: {tmp_path}: no run folders in it"
    r = run("walkthrough", tmp_path, "--format", "doc")
    assert r.returncode == 2 and "unknown format 'doc'" in r.stderr


def test_video_walkthrough_has_one_cue_per_kept_step_in_order_and_no_receipt_shows_an_overlay(tmp_path):
    r = run("run", "scenarios/migu/web_pause.yaml", "--out", tmp_path, "--walkthrough", "video,md")
    assert r.returncode == 0, r.stderr
    d = next(tmp_path.iterdir())
    manifest = load_manifest(d)
    kept = [s for s in manifest.steps if s.status != "skipped" and s.walkthrough]
    vtt = (d / "walkthrough" / "walkthrough.vtt").read_text(encoding="utf-8")
    cues = re.findall(r"^step-(\d+)\n(\S+) --> (\S+)\n(.+)$", vtt, re.M)
    assert [int(c[0]) for c in cues] == [s.index for s in kept]
    assert [c[3] for c in cues] == [s.name for s in kept]

    def secs(stamp):
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    spans = [(secs(a), secs(b)) for _, a, b, _ in cues]
    assert all(b - a >= 1.45 for a, b in spans)  # every caption held long enough to read
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))  # no overlaps
    for suffix in (".webm", ".mp4"):
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
                d / "walkthrough" / f"walkthrough{suffix}",
            ],
            capture_output=True,
            text=True,
        )
        assert float(probe.stdout) >= spans[-1][1] - 0.5
    timeline = json.loads((d / "video" / "timeline.json").read_text(encoding="utf-8"))
    assert timeline["width"] == 1280 and not timeline["narrated"]
    # no blank lead-in: the title card is on a dark backdrop and lasts its 2 s (+ fades), the first step follows
    first = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", d / "walkthrough" / "walkthrough.webm", "-frames:v", "1", "-f", "image2pipe",
         "-vcodec", "png", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert ImageStat.Stat(Image.open(io.BytesIO(first)).convert("L")).mean[0] < 80
    assert timeline["chapters"][0]["end"] < 3.5 and timeline["cues"][0]["start"] < 6
    assert "Encoding the video" in r.stdout or "正在编码视频" in r.stdout  # the encoding is not a silent minute
    # the subtitle bar is in the video, never in a receipt: the bottom rows of every receipt are not the bar's dark grey
    for s in kept:
        if s.screenshot and s.shot.kind == "viewport":
            img = Image.open(d / s.screenshot).convert("RGB")
            assert img.getpixel((img.width // 2, img.height - 5)) != (20, 22, 28)
    assert run("verify", d).returncode == 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by `make bootstrap NARRATION=1` (CI does)")
def test_narration_is_spoken_and_never_cut(tmp_path):
    scen = tmp_path / "short.yaml"
    scen.write_text(
        "name: 朗读\nportal: migu\nsteps:\n  - goto: /login\n    name: 打开咪咕会员官网的登录页面,准备输入账号和密码\n  - see: 登录咪咕账号\n",
        encoding="utf-8",
    )
    r = run("run", scen, "--out", tmp_path / "runs", "--walkthrough", "video", "--narrate")
    assert r.returncode == 0, r.stderr
    d = next((tmp_path / "runs").iterdir())
    timeline = json.loads((d / "video" / "timeline.json").read_text(encoding="utf-8"))
    assert timeline["narrated"]
    from tuiding.video import speak

    long_cue = timeline["cues"][0]
    spoken = speak(long_cue["text"], tmp_path / "check.wav")
    assert long_cue["end"] - long_cue["start"] >= spoken  # held for the whole sentence
    streams = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", d / "walkthrough" / "walkthrough.mp4"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert streams.count("audio") == 1 and streams.count("video") == 1


def test_build_writes_only_what_was_asked(runs, tmp_path):
    written = build(guide_from_runs([runs["pause"]]), tmp_path, ("md",))
    assert (tmp_path / "walkthrough.md").is_file() and not (tmp_path / "walkthrough.html").exists()
    assert all(p.exists() for p in written)
    assert OUTLINE == (255, 98, 0)


def test_a_click_after_a_step_left_out_is_not_outlined_on_a_page_it_never_was_on(tmp_path):
    scen = tmp_path / "hidden.yaml"
    scen.write_text(
        "name: 隐藏的一步\nportal: migu\nsteps:\n"
        "  - goto: /login\n"
        "  - fill: {账号: '13800000001', 密码: migu-pass-001}\n"
        "  - click: {role: button, name: 登录}\n    walkthrough: false\n"
        "  - click: {role: link, name: 会员中心}\n",
        encoding="utf-8",
    )
    r = run("run", scen, "--out", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    d = next((tmp_path / "runs").iterdir())
    blocks = [b for b in guide_from_runs([d]).parts[0].items if hasattr(b, "captions")]
    outlines = {b.number: [o.badge for o in b.picture.outlines] for b in blocks}
    # the filled-in login form shows its own step, and not the 会员中心 link clicked on the page after the login
    assert outlines == {1: [], 2: [2], 3: []}, outlines
    assert blocks[-1].captions == ["点击「会员中心」"]
