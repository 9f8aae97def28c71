"""Holding Ctrl-C and SIGTERM through the moments a run folder's manifest is being written.

A run interrupted inside `ScenarioRun.execute` ends with RunInterrupted, and its caller seals the folder.
A signal that arrives while the folder is set up (before that protection begins) or while its final
manifest is written (after it ends) would leave a folder with a manifest and no report, and sometimes a
temporary file; one that arrives while a step record is appended, a manifest and a steps.jsonl that
disagree. Such a signal is held, and delivered through the handler that was in place once the writing is
done. (Found by the Ctrl-C-at-a-random-moment test: 3 in 240 runs under load.)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

HELD = (signal.SIGINT, signal.SIGTERM)


class HeldInterrupts:
    def __init__(self) -> None:
        self.pending: list[tuple[int, FrameType | None]] = []
        self.saved: dict[int, Callable[[int, FrameType | None], Any]] = {}
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only; nothing to hold here
        for signum in HELD:
            handler = signal.getsignal(signum)
            if callable(handler):  # not SIG_IGN / SIG_DFL: those are left as they are
                self.saved[signum] = handler
                signal.signal(signum, self._hold)

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        self.pending.append((signum, frame))

    def release(self) -> None:
        """Put the handlers back and deliver the first signal that came meanwhile (usually: raises)."""
        saved, self.saved = self.saved, {}
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        if self.pending:
            signum, frame = self.pending[0]
            self.pending = []
            if signum in saved:
                saved[signum](signum, frame)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """The block runs to its end; a SIGINT/SIGTERM that came meanwhile is delivered after it."""
    held = HeldInterrupts()
    try:
        yield
    finally:
        held.release()
