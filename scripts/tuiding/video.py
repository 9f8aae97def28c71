"""Recording a video walkthrough while a scenario runs (Playwright's page.screencast), and narration.

The scenario is the storyboard: each `section:` becomes a chapter card (show_chapter), each step's
caption a subtitle bar (show_overlay) held long enough to read (>= 1.5 s, or as long as its spoken
narration), the pointer and the highlighted target come from show_actions. Frames arrive through
on_frame with the browser's wall-clock timestamps and are encoded here with exact durations, so the
subtitle cues (timed on the same clock) match the picture. Overlays are shown only after a step's
screenshot and removed before the next action: receipts never contain them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from .i18n import gettext_for
from .redaction import FRAME_WATCH_JS, FrameRedactor

TITLE_BACKDROP = "<html><body style='margin:0;height:100vh;background:#1f2329'></body></html>"
HOLD_S = 1.5  # every step's last frame stays at least this long
CHAPTER_S = 2.0
SPEECH_RATE = 190  # words per minute for espeak-ng: calm, but not slow
VOICES = {"zh": "cmn", "en": "en", "de": "de"}
CAPTION_HTML = (
    '<div style="position:fixed;left:0;right:0;bottom:0;padding:14px 28px;background:#14161c;color:#fff;'
    "font:500 {size}px/1.45 'Noto Sans CJK SC','PingFang SC',sans-serif;text-align:center;z-index:2147483647\">"
    '<span style="display:inline-block;min-width:1.6em;margin-right:.6em;border-radius:1em;background:#e5005a;'
    'padding:0 .45em">{number}</span>{text}</div>'
)


class VideoUnavailable(RuntimeError):
    """ffmpeg (or espeak-ng for narration) is missing; the message says what to install."""


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        raise VideoUnavailable("video walkthroughs need ffmpeg: apt-get install ffmpeg (make bootstrap installs it)")
    return path


def speech_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, wav: Path, lang: str = "zh") -> float:
    """Synthesize `text` with espeak-ng (offline, Mandarin by default) into `wav`; returns its length in seconds."""
    if not speech_available():
        raise VideoUnavailable("spoken narration needs espeak-ng: apt-get install espeak-ng (or: make bootstrap NARRATION=1)")
    subprocess.run(
        ["espeak-ng", "-v", VOICES.get(lang, lang), "-s", str(SPEECH_RATE), "-w", str(wav), text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with wave.open(str(wav)) as w:
        return w.getnframes() / float(w.getframerate())


@dataclass
class Cue:
    start: float  # seconds from the start of the video
    end: float
    text: str
    step: int


@dataclass
class Timeline:
    width: int
    height: int
    duration: float
    cues: list[Cue] = field(default_factory=list)
    chapters: list[Cue] = field(default_factory=list)
    narrated: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path: Path) -> Timeline:
        from .record import parse_json, read_bounded

        data = parse_json(read_bounded(path).decode("utf-8"), str(path))
        return cls(
            width=data["width"],
            height=data["height"],
            duration=data["duration"],
            cues=[Cue(**c) for c in data["cues"]],
            chapters=[Cue(**c) for c in data["chapters"]],
            narrated=data.get("narrated", False),
        )


class VideoRecorder:
    """Records one page while the runner drives it; `finish()` writes video/screencast.webm and timeline.json."""

    def __init__(
        self,
        page: Any,
        folder: Path,
        *,
        narrate: bool,
        size: dict[str, int],
        lang: str = "zh",
        redact: dict[str, Any] | None = None,
    ) -> None:
        """`redact`: what every frame hides (redaction.find_config), watched in the page while it records."""
        ffmpeg()
        if narrate and not speech_available():
            raise VideoUnavailable("spoken narration needs espeak-ng: apt-get install espeak-ng (or: make bootstrap NARRATION=1)")
        self.page, self.folder, self.narrate, self.size, self.lang = page, folder, narrate, size, lang
        self.frames: list[tuple[float, bytes]] = []
        self.cues: list[Cue] = []
        self.chapters: list[Cue] = []
        self._tmp = Path(tempfile.mkdtemp(prefix="tuiding-video-"))
        self._started = time.time()
        self._actions: Any = None
        if page.url == "about:blank":
            # The title card comes before the journey's first page: on a dark backdrop, painted before the first
            # frame is taken (a blank white page was the video's first seconds).
            page.set_content(TITLE_BACKDROP)
            page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        self.redactor: FrameRedactor | None = None
        if redact is not None:
            self.redactor = FrameRedactor()
            page.expose_function("__tuidingRedact", self.redactor.report)
            page.add_init_script(FRAME_WATCH_JS.replace("%CFG%", json.dumps(redact)))
        page.screencast.start(on_frame=self._frame, size=size, quality=85)
        self.show_actions()

    def _frame(self, frame: Any) -> None:
        self.frames.append((float(frame["timestamp"]) / 1000.0, bytes(frame["data"])))

    def _now(self) -> float:
        return time.time() - self._started

    def show_actions(self) -> None:
        # Our own subtitle bar says what happens, in the scenario's words: Playwright's English title is hidden.
        self._actions = self.page.screencast.show_actions(cursor="pointer", duration=700, style={"title": "display: none"})

    def hide_actions(self) -> None:
        self.page.screencast.hide_actions()

    def chapter(self, title: str, step: int, description: str | None = None) -> float:
        """A title card for a section (step 0: the journey's own); returns the seconds it took (not the journey's time)."""
        start = self._now()
        # show_chapter returns once the card has faded out: no wait of our own on top (the cards lasted twice as long)
        self.page.screencast.show_chapter(title, description=description, duration=CHAPTER_S * 1000)
        self.chapters.append(Cue(start, self._now(), title, step))
        return self._now() - start

    def caption(self, number: int, text: str, lang: str | None = None) -> None:
        """Show the step's caption as a subtitle bar over its final frame, as long as it takes to read (or say)."""
        hold = HOLD_S
        if self.narrate:
            hold = max(hold, speak(text, self._tmp / f"{number:03d}.wav", lang or self.lang) + 0.4)
        size = 30 if self.size["width"] >= 900 else 20
        overlay = self.page.screencast.show_overlay(CAPTION_HTML.format(size=size, number=number, text=escape(text)))
        start = self._now()
        self.page.wait_for_timeout(hold * 1000)
        end = self._now()
        overlay.__exit__(None, None, None)
        self.cues.append(Cue(round(start, 3), round(end, 3), text, number))

    def _caption_top(self, t: float) -> float | None:
        """Where the subtitle bar begins (CSS px from the top) when a frame at `t` may show one: redaction stops there
        if the frame's pixels show the opaque bar (redaction.bar_shown), which hides what is beneath and stays readable."""
        for cue in self.cues:
            if self._started + cue.start - 0.5 <= t <= self._started + cue.end + 0.5:
                size = 30 if self.size["width"] >= 900 else 20
                return self.size["height"] - (size * 1.45 + 28)
        return None

    def finish(self, say: Callable[[str], None] | None = None) -> Path | None:
        """Stop recording; encode the frames with their real durations into video/screencast.webm.
        `say`: told what is being done (encoding takes a while: about a third of the video's length here)."""
        try:
            self.page.screencast.stop()
        except Exception:
            pass
        if not self.frames:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        end = time.time()
        if say is not None:
            _ = gettext_for(self.lang)
            text = _("Encoding the video ({seconds} s, {frames} frames) …")
            say(text.format(seconds=round(end - self.frames[0][0]), frames=len(self.frames)))
        frames = sorted(self.frames)
        listing = []
        for i, (t, data) in enumerate(frames):
            name = self._tmp / f"{i:05d}.jpg"
            name.write_bytes(self.redactor.apply(t, data, self._caption_top(t)) if self.redactor is not None else data)
            nxt = frames[i + 1][0] if i + 1 < len(frames) else end
            listing.append(f"file '{name}'\nduration {max(0.04, nxt - t):.3f}\n")
        listing.append(f"file '{self._tmp / f'{len(frames) - 1:05d}.jpg'}'\n")  # the concat demuxer needs the last file twice
        (self._tmp / "frames.txt").write_text("".join(listing))
        target = self.folder / "screencast.webm"
        offset = frames[0][0] - self._started  # the first frame's time on the cue clock
        subprocess.run(
            [ffmpeg(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(self._tmp / "frames.txt"),
             "-vf", "fps=25,pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime",
             "-cpu-used", "8", str(target)],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        for cue in [*self.cues, *self.chapters]:
            cue.start, cue.end = round(max(0.0, cue.start - offset), 3), round(max(0.0, cue.end - offset), 3)
        timeline = Timeline(
            self.size["width"], self.size["height"], round(end - frames[0][0], 3), self.cues, self.chapters, self.narrate
        )
        (self.folder / "timeline.json").write_text(timeline.to_json(), encoding="utf-8")
        shutil.rmtree(self._tmp, ignore_errors=True)
        return target
