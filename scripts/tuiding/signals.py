"""Ctrl-C and SIGTERM: held through the moments a run folder's manifest is being written, and a suite's policy
(every signal received remembered, Playwright's loggers quieted, the interrupt raised as Ctrl-C does).

A run interrupted inside `ScenarioRun.execute` ends with RunInterrupted, and its caller seals the folder.
A signal that arrives while the folder is set up (before that protection begins) or while its final
manifest is written (after it ends) would leave a folder with a manifest and no report, and sometimes a
temporary file; one that arrives while a step record is appended, a manifest and a steps.jsonl that
disagree. Such a signal is held, and delivered through the handler that was in place once the writing is
done. (Found by the Ctrl-C-at-a-random-moment test: 3 in 240 runs under load.)
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

HELD = (signal.SIGINT, signal.SIGTERM)
_holding = 0  # HeldInterrupts alive in this process (see holding())


def holding() -> bool:
    """Whether signals are being held now. A held section must not let another journey run (parallel.offload
    checks this): that journey's own hold would save this one's stand-in handler as "the" handler and put it
    back after this one restored the real one — and Ctrl-C would be swallowed for the rest of the run."""
    return _holding > 0


class HeldInterrupts:
    def __init__(self) -> None:
        global _holding
        self.pending: list[tuple[int, FrameType | None]] = []
        self.saved: dict[int, Callable[[int, FrameType | None], Any]] = {}
        self.active = False
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only; nothing to hold here
        self.active = True
        _holding += 1
        for signum in HELD:
            handler = signal.getsignal(signum)
            if callable(handler):  # not SIG_IGN / SIG_DFL: those are left as they are
                self.saved[signum] = handler
                signal.signal(signum, self._hold)

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        self.pending.append((signum, frame))

    def release(self) -> None:
        """Put the handlers back and deliver the first signal that came meanwhile (usually: raises)."""
        global _holding
        if self.active:
            self.active = False
            _holding -= 1
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


# ---------------------------------------------------------------- a suite's signal policy (suite.py, cli.py)

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


@dataclass
class Signals:
    """Every SIGINT/SIGTERM a suite received. The KeyboardInterrupt a handler raises can be lost — Python
    drops exceptions raised inside callbacks it calls itself ("Exception ignored in …", e.g. an import lock's
    weakref callback) — while the same Ctrl-C has stopped the browser and the driver (same process group)."""

    received: list[int] = field(default_factory=list)

    @property
    def terminated(self) -> bool:
        """The interrupt came from a CI cancellation (SIGTERM), not Ctrl-C."""
        return signal.SIGTERM in self.received

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.terminated else EXIT_INTERRUPTED


SIGNALS = Signals()


def quiet_playwright() -> None:
    """After an interrupt, Playwright's driver pipe dies and answers to cancelled calls arrive for nobody;
    its loggers say so with tracebacks that are not news to the user."""
    for name in ("asyncio", "playwright"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def raise_interrupt(signum: int, _frame: Any) -> None:
    """SIGINT and SIGTERM during a run: quiet Playwright's loggers first, then interrupt as Ctrl-C does."""
    SIGNALS.received.append(signum)
    quiet_playwright()
    raise KeyboardInterrupt


def install_run_handlers() -> None:
    # A CI cancellation (SIGTERM) ends the run like Ctrl-C: finished steps and the manifest stay valid.
    signal.signal(signal.SIGTERM, raise_interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with Ctrl-C ignored (nohup, &)
        signal.signal(signal.SIGINT, raise_interrupt)
