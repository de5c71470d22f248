"""Steps side by side on one clock: the services of a release's wave.

Each step runs in a thread, but only one at a time: a step runs until it
sleeps (a watch's poll interval), then the step that wakes first goes on. The
calling thread owns the time: it does every sleep, so a signal (SIGTERM, Ctrl-C)
reaches it at once, and on a virtual clock (the harness's) time moves only
when every step waits, as it would for processes running side by side. AWS
sees the calls of one step at a time, in an order that depends only on when
each step wakes: a release replayed on the simulator is deterministic.

A step that raises an exception ends alone (its result is the exception). A
step that is killed (a BaseException other than `Cancelled`: the fault
harness's kill, a stop) stops every other step at its next sleep, and the
kill is raised in the calling thread.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Generic, Sequence, TypeVar

from .clock import Clock

T = TypeVar("T")


class Cancelled(BaseException):
    """Raised in a step at its next sleep once the run is stopped. A BaseException: the
    tool's handlers (which catch its own errors) let it through, as they would SIGKILL."""


class Outcome(Generic[T]):
    __slots__ = ("value", "error")

    def __init__(self) -> None:
        self.value: T | None = None
        self.error: BaseException | None = None


class Lockstep:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._holder: int | None = None
        self._wake: dict[int, tuple[float, int]] = {}  # step -> (when it wakes, order of asking)
        self._asked = 0
        self._stop: BaseException | None = None
        self._running = 0
        self._outcomes: list[Outcome[Any]] = []  # of every run() so far, whatever each step returns
        self._threads: list[threading.Thread] = []

    def run(self, steps: Sequence[Callable[[Clock], T]]) -> list[Outcome[T]]:
        """Run `steps` (each given its clock) side by side; their outcomes, in order."""
        outcomes = [self._start(step) for step in steps]
        try:
            self._drive()
        except BaseException as stop:  # a signal in the calling thread: stop every step, then say it
            self._cancel(stop)
            raise
        finally:
            for thread in list(self._threads):
                thread.join()
        killed = next((o.error for o in self._outcomes
                       if o.error is not None and not isinstance(o.error, (Exception, Cancelled))), None)
        if killed is not None:
            raise killed
        return outcomes

    def spawn(self, step: Callable[[Clock], T]) -> Outcome[T]:
        """Add a step while the run goes on (called from a step, in its turn): it runs
        side by side with the others from now, and `run` waits for it too."""
        return self._start(step)

    def _start(self, step: Callable[[Clock], T]) -> Outcome[T]:
        outcome: Outcome[T] = Outcome()
        with self._cond:
            index = len(self._outcomes)
            self._outcomes.append(outcome)
            self._ask(index, self.clock.now())
            self._running += 1
            thread = threading.Thread(target=self._step, args=(index, step, outcome), daemon=True,
                                      name=f"lockstep-{index}")
            self._threads.append(thread)
        thread.start()
        return outcome

    def clock_for(self, index: int) -> Clock:
        return Clock(self.clock.now, lambda seconds: self._sleep(index, seconds))

    # -- the calling thread ------------------------------------------------------

    def _drive(self) -> None:
        while True:
            with self._cond:
                while self._holder is not None:
                    self._cond.wait()
                if not self._wake:
                    return
                index, (when, _) = min(self._wake.items(), key=lambda item: item[1])
            delay = when - self.clock.now()
            if delay > 0:
                self.clock.sleep(delay)
            with self._cond:
                del self._wake[index]
                self._holder = index
                self._cond.notify_all()

    def _cancel(self, stop: BaseException) -> None:
        """Wake every waiting step with Cancelled and wait for the running one to yield."""
        with self._cond:
            self._stop = self._stop or stop
            while self._running:
                if self._holder is None and self._wake:
                    index = min(self._wake, key=lambda i: self._wake[i])
                    del self._wake[index]
                    self._holder = index
                    self._cond.notify_all()
                self._cond.wait()

    # -- the steps' threads --------------------------------------------------------

    def _ask(self, index: int, when: float) -> None:
        self._wake[index] = (when, self._asked)
        self._asked += 1

    def _await_turn(self, index: int) -> None:
        while self._holder != index:
            self._cond.wait()
        if self._stop is not None:
            raise Cancelled()

    def _step(self, index: int, step: Callable[[Clock], T], outcome: Outcome[T]) -> None:
        try:
            with self._cond:
                self._await_turn(index)
            outcome.value = step(self.clock_for(index))
        except BaseException as err:  # noqa: BLE001 - handed to the calling thread
            outcome.error = err
            if not isinstance(err, (Exception, Cancelled)):
                with self._cond:
                    self._stop = self._stop or err
        finally:
            with self._cond:
                self._running -= 1
                if self._holder == index:
                    self._holder = None
                self._cond.notify_all()

    def _sleep(self, index: int, seconds: float) -> None:
        with self._cond:
            if self._stop is not None:
                raise Cancelled()
            self._ask(index, self.clock.now() + max(0.0, seconds))
            self._holder = None
            self._cond.notify_all()
            self._await_turn(index)


__all__ = ["Cancelled", "Lockstep", "Outcome"]
