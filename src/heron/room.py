"""Room in the intake's queue, bounded in events and in bytes, given out in turn.

Sources wait for room (TCP and HTTP slow down) or are told there is none (UDP drops
and counts). Accounted on the event loop's thread only: taken by a submission, given
back when the committer reports its batch done.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Room"]


@dataclass(slots=True)
class _Waiter:
    events: int
    nbytes: int
    future: asyncio.Future[None] = field(repr=False)


class Room:
    """How much is queued or being committed, and who waits for room, first come first."""

    def __init__(
        self, max_events: int, max_bytes: int, on_take: Callable[[int], None] | None = None
    ) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.events = 0
        self.nbytes = 0
        self._waiters: deque[_Waiter] = deque()
        self._on_take = on_take  # sees the events held after each take (a peak gauge)

    def has_room(self, events: int = 1, nbytes: int = 0) -> bool:
        """Whether this much would be taken now, ahead of no one."""
        return not self._waiters and self._fits(events, nbytes)

    def take(self, events: int, nbytes: int) -> None:
        self.events += events
        self.nbytes += nbytes
        if self._on_take is not None:
            self._on_take(self.events)

    async def reserve(self, events: int, nbytes: int, timeout: float | None) -> bool:
        """Wait for room, in turn; False if ``timeout`` passed first. Raises ``error()``
        of ``refuse_all`` when the waiters are turned away."""
        if self.has_room(events, nbytes):
            self.take(events, nbytes)
            return True
        waiter = _Waiter(events, nbytes, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), timeout)
        except TimeoutError:
            self._give_up(waiter)
            return False
        except asyncio.CancelledError:
            self._give_up(waiter)
            raise
        return True

    def release(self, events: int, nbytes: int) -> None:
        """Give back what a submission took; the waiters first in line that now fit go."""
        self.events -= events
        self.nbytes -= nbytes
        while self._waiters:
            waiter = self._waiters[0]
            if waiter.future.done():  # gave up waiting
                self._waiters.popleft()
                continue
            if not self._fits(waiter.events, waiter.nbytes):
                break
            self._waiters.popleft()
            self.take(waiter.events, waiter.nbytes)
            waiter.future.set_result(None)

    def refuse_all(self, error: Callable[[], BaseException]) -> None:
        """Turn every waiter away with ``error()`` (the intake is closing)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_exception(error())

    def _fits(self, events: int, nbytes: int) -> bool:
        # An empty queue takes any one submission, so a single oversized request
        # still gets through instead of waiting forever.
        if self.events == 0:
            return True
        return self.events + events <= self.max_events and self.nbytes + nbytes <= self.max_bytes

    def _give_up(self, waiter: _Waiter) -> None:
        if waiter.future.done() and not waiter.future.cancelled():
            # Room was granted in the same instant the wait gave up: give it back.
            if waiter.future.exception() is None:
                self.release(waiter.events, waiter.nbytes)
        else:
            waiter.future.cancel()
