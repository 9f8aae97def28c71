"""Several journeys at once on one Playwright driver and one browser (`tuiding run -j N`).

Playwright's sync API waits for the driver by switching to its dispatcher greenlet, which runs the
event loop until the awaited call settles (playwright/_impl/_greenlets.py: `wait_for_future`). It runs
its own event handlers the same way, each in a greenlet of its own. A journey in its own greenlet is
therefore suspended in every Playwright call while the other journeys go on — cooperative
concurrency with no threads, no second driver (0.4–0.6 s and ~300 MB each) and no rewrite of the
runner onto the async API. What must not block the loop (starting an embedded portal hashes
passwords for ~0.8 s) goes through `offload`.

Ctrl-C: the signal reaches the greenlet that started Playwright — the pool's caller, waiting here —
or a journey running Python at that moment. Either way every running journey gets a
KeyboardInterrupt at its current Playwright call (so it seals its folder as a sequential run would),
no journey is started after it, and `run_concurrently` raises KeyboardInterrupt once all have ended.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

import greenlet

from .signals import holding

T = TypeVar("T")

_current: Pool[Any] | None = None  # the pool whose journeys are running (one at a time per process)


class DriverGone(RuntimeError):
    pass


class Pool(Generic[T]):
    def __init__(self, playwright: Any, workers: int) -> None:
        impl = playwright._impl_obj  # the loop and dispatcher every sync call of this driver uses
        self.loop: asyncio.AbstractEventLoop = impl._loop
        self.dispatcher: greenlet.greenlet = impl._dispatcher_fiber
        self.workers = max(1, workers)
        self.stopping = False  # no new journeys
        self.interrupted = False  # Ctrl-C or SIGTERM
        self._greenlets: list[greenlet.greenlet] = []
        self._threads = concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="tuiding-offload")
        self._handlers: dict[int, Any] = {}  # signal handlers set aside while interrupted journeys seal

    def _wait(self, future: asyncio.Future[Any]) -> None:
        wait(self.loop, self.dispatcher, future)

    def run(self, jobs: Sequence[Callable[[], T]]) -> list[T | BaseException]:
        """Each job's result (or the exception it raised), in the order given. At most `workers` at once."""
        results: list[T | BaseException | None] = [None] * len(jobs)
        queue = list(enumerate(jobs))
        done: asyncio.Future[None] = self.loop.create_future()
        live = 0

        def worker() -> None:
            nonlocal live
            try:
                while queue and not self.stopping:
                    index, job = queue.pop(0)
                    try:
                        results[index] = job()
                    except KeyboardInterrupt as exc:
                        results[index] = exc
                        self.interrupt()
                    except BaseException as exc:  # a job's own failure is its result; the pool goes on
                        results[index] = exc
            finally:
                live -= 1
                if live == 0 and not done.done():
                    done.set_result(None)

        for _ in range(min(self.workers, len(queue))):
            # The dispatcher is the parent: a finished journey hands control back to the event loop.
            g = greenlet.greenlet(worker, parent=self.dispatcher)
            self._greenlets.append(g)
            live += 1
            self.loop.call_soon(g.switch)
        interrupted = False
        while not done.done():
            if self.dispatcher.dead:
                # The driver is gone (Ctrl-C in a terminal reaches it too, or it crashed): nothing will resume
                # the journeys from the event loop, so end each here; its folder is sealed on the way out.
                self.stopping = True
                self._end_orphans(interrupted)
                break
            try:
                self._wait(done)
            except KeyboardInterrupt:
                interrupted = True
                self.interrupt()
                done = self._renew(done)
            except Exception:
                if not self.dispatcher.dead:
                    raise
        if interrupted or self.interrupted:
            raise KeyboardInterrupt
        if self.stopping:
            raise DriverGone(
                "the Playwright driver exited during the run (crashed or killed); the journeys it was running are recorded as errors"
            )
        return cast("list[T | BaseException]", results)  # every job ran: none is left None

    def _renew(self, done: asyncio.Future[None]) -> asyncio.Future[None]:
        """wait_for_future cancels the future it was interrupted on: wait on a fresh one for the same event."""
        if not done.cancelled():
            return done
        fresh: asyncio.Future[None] = self.loop.create_future()
        if all(g.dead for g in self._greenlets):
            fresh.set_result(None)
        else:

            def settle() -> None:
                if all(g.dead for g in self._greenlets) and not fresh.done():
                    fresh.set_result(None)
                else:
                    self.loop.call_later(0.05, settle)

            self.loop.call_soon(settle)
        return fresh

    def _end_orphans(self, interrupted: bool) -> None:
        from playwright._impl._greenlets import connection_closed_error

        for g in self._greenlets:
            if g:  # started, suspended in a Playwright call; its parent (the dispatcher) is dead, so it returns here
                g.throw(KeyboardInterrupt() if interrupted else connection_closed_error())

    def interrupt(self) -> None:
        """Stop starting journeys; interrupt the running ones at their current Playwright call."""
        if self.interrupted:
            return
        self.stopping = self.interrupted = True
        # A second Ctrl-C (or SIGTERM) must not tear the folders being sealed in half (until the pool ends).
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._handlers.setdefault(signum, signal.signal(signum, signal.SIG_IGN))
        current = greenlet.getcurrent()
        for g in self._greenlets:
            if g is not current and g:  # started and not finished
                self.loop.call_soon(_throw_into, g)

    def offload(self, fn: Callable[[], T]) -> T:
        """Run a blocking function in a thread while the other journeys go on."""
        work = self._threads.submit(fn)
        try:
            self._wait(asyncio.wrap_future(work, loop=self.loop))
        except BaseException:
            # Ctrl-C (or the driver's end) reached this journey meanwhile. A thread cannot be stopped: let it
            # finish before the journey goes on to seal its folder, so nothing it writes is left half done.
            concurrent.futures.wait([work])
            raise
        return work.result()


def wait(loop: asyncio.AbstractEventLoop, dispatcher: greenlet.greenlet, future: asyncio.Future[Any]) -> None:
    """Suspend this greenlet until `future` settles, letting the event loop (and other journeys) run —
    what every sync Playwright call does (Playwright ≥ 1.51 does it this way; newer ones name it
    `wait_for_future`, which is private, hence this copy)."""
    me = greenlet.getcurrent()
    waiting = True

    def resume(_: asyncio.Future[Any]) -> None:
        if waiting:
            me.switch()

    future.add_done_callback(resume)
    try:
        while not future.done():
            if dispatcher.dead:
                raise DriverGone("the Playwright driver exited")
            dispatcher.switch()
    except BaseException:
        future.cancel()
        raise
    finally:
        waiting = False
        future.remove_done_callback(resume)
        if not dispatcher.dead:
            asyncio._set_running_loop(loop)  # as Playwright's own wait leaves it between sync calls


def _throw_into(g: greenlet.greenlet) -> None:
    if g:  # it may have finished since
        g.throw(KeyboardInterrupt)


def run_concurrently(playwright: Any, jobs: Sequence[Callable[[], T]], workers: int) -> list[T | BaseException]:
    """Run jobs (each a function that drives the browser with the sync API) `workers` at a time."""
    global _current
    pool: Pool[T] = Pool(playwright, workers)
    _current = pool
    try:
        return pool.run(jobs)
    finally:
        _current = None
        pool._threads.shutdown(wait=True)
        # Put the handlers back: an ignored signal would be inherited by every process started later
        # (the caller decides what a second Ctrl-C does from here).
        for signum, handler in pool._handlers.items():
            signal.signal(signum, handler)


def offload(fn: Callable[[], T]) -> T:
    """`fn()`, in a thread when journeys are running concurrently (so it does not stall the others) — but
    not while signals are held (a manifest being written): no other journey may run then (signals.holding)."""
    pool = _current
    if pool is None or greenlet.getcurrent().parent is not pool.dispatcher or holding():
        return fn()
    return pool.offload(fn)
