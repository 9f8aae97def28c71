"""The video formats of a walkthrough: WebM and MP4 of each recorded run, WebVTT subtitles timed from
the recorded steps, and spoken narration laid at each caption's start (never cut: the recording held
every caption as long as its sentence takes to say)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..i18n import gettext_for
from ..video import Timeline, ffmpeg, speak
from .guide import Guide, WalkthroughError


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def webvtt(timeline: Timeline) -> str:
    """One cue per captioned step, in order, never overlapping."""
    lines = ["WEBVTT", ""]
    last_end = 0.0
    for cue in sorted(timeline.cues, key=lambda c: c.start):
        start = max(cue.start, last_end)
        end = max(cue.end, start + 0.1)
        lines += [f"step-{cue.step}", f"{_stamp(start)} --> {_stamp(end)}", cue.text, ""]
        last_end = end
    return "\n".join(lines)


def _narration(timeline: Timeline, work: Path, lang: str) -> Path | None:
    """One audio track: each caption spoken from its cue's start (espeak-ng), silence between."""
    if not timeline.narrated or not timeline.cues:
        return None
    inputs: list[str] = []
    filters: list[str] = []
    for i, cue in enumerate(timeline.cues):
        wav = work / f"say-{i:03d}.wav"
        speak(cue.text, wav, lang)
        inputs += ["-i", str(wav)]
        delay = round(cue.start * 1000)
        filters.append(f"[{i}:a]adelay={delay}|{delay}[a{i}]")
    mix = (
        "".join(f"[a{i}]" for i in range(len(timeline.cues)))
        + f"amix=inputs={len(timeline.cues)}:normalize=0:duration=longest[out]"
    )
    target = work / "narration.wav"
    subprocess.run(
        [
            ffmpeg(),
            "-v",
            "error",
            "-y",
            *inputs,
            "-filter_complex",
            ";".join([*filters, mix]),
            "-map",
            "[out]",
            "-t",
            f"{timeline.duration:.3f}",
            str(target),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return target


def _encode(source: Path, audio: Path | None, target: Path) -> None:
    cmd = [ffmpeg(), "-v", "error", "-y", "-i", str(source)]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a"]
    if target.suffix == ".mp4":
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
        cmd += ["-c:a", "aac", "-b:a", "96k"] if audio is not None else []
    else:
        cmd += ["-c:v", "copy"] + (["-c:a", "libopus", "-b:a", "64k"] if audio is not None else [])
    if audio is not None:
        cmd.append("-shortest")
    subprocess.run([*cmd, str(target)], check=True, capture_output=True, timeout=900)


def build_videos(guide: Guide, out: Path, *, name: str = "walkthrough", say: Callable[[str], None] | None = None) -> list[Path]:
    """WebM, MP4 and WebVTT for every part whose run was recorded (`tuiding run --walkthrough video`)."""
    recorded = [
        p for p in guide.parts if p.want_video and p.run_dir is not None and (p.run_dir / "video" / "timeline.json").is_file()
    ]
    if not recorded:
        raise WalkthroughError("no run here was recorded as video: record one with tuiding run … --walkthrough video [--narrate]")
    ffmpeg()
    written: list[Path] = []
    work = Path(tempfile.mkdtemp(prefix="tuiding-guide-video-"))
    try:
        for i, part in enumerate(recorded, 1):
            assert part.run_dir is not None
            stem = name if len(recorded) == 1 else f"{name}-{i:02d}"
            timeline = Timeline.load(part.run_dir / "video" / "timeline.json")
            if say is not None:
                _ = gettext_for(guide.lang)
                text = _("Encoding {name} ({seconds} s of video) as WebM and MP4 …")
                say(text.format(name=stem, seconds=round(timeline.duration)))
            vtt = out / f"{stem}.vtt"
            vtt.write_text(webvtt(timeline), encoding="utf-8")
            audio = _narration(timeline, work, guide.lang)
            for suffix in (".webm", ".mp4"):
                _encode(part.run_dir / "video" / "screencast.webm", audio, out / f"{stem}{suffix}")
            part.videos = {"webm": f"{stem}.webm", "mp4": f"{stem}.mp4", "vtt": f"{stem}.vtt"}
            written += [out / f"{stem}.webm", out / f"{stem}.mp4", vtt]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return written
