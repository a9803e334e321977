"""The one retry rule: try again with capped exponential backoff until it works or we are stopped.

Every loop of the executor that talks to the server uses `Retry.run`; what differs between them
is only which errors are worth another try (`retry_if`) and what to say meanwhile (`on_retry`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .errors import TransportError

T = TypeVar("T")


class Stopped(Exception):
    """The stop signal came while we were waiting to try again."""


class Backoff:
    """first, twice that, four times … seconds, capped; `reset` after a success."""

    def __init__(self, cap: float, first: float = 1.0) -> None:
        self.cap, self.first, self.current = cap, first, first

    def next(self) -> float:
        delay = self.current
        self.current = min(self.current * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.current = self.first


def settle(future: asyncio.Future[None] | None) -> None:
    """Resolve a stop signal kept as a future (once; a second call does nothing)."""
    if future is not None and not future.done():
        future.set_result(None)


async def unless_stopped(work: Awaitable[T], stopped: asyncio.Future[None]) -> T:
    """Await `work`, but give it up (cancelled: its request aborted) the moment `stopped` resolves:
    then `Stopped`. A future, not an Event: waiting on an Event costs a task per wait."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    raise Stopped()


def is_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, TransportError)


async def pause(stop: asyncio.Event | None, seconds: float) -> bool:
    """Sleep `seconds`, waking early when `stop` is set; True if stopped."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


class Retry:
    """Capped backoff shared by one loop: a success resets it, a failure lengthens it."""

    def __init__(self, cap: float, first: float = 1.0, stop: asyncio.Event | None = None) -> None:
        self.backoff = Backoff(cap, first)
        self.stop = stop

    async def run(
        self,
        call: Callable[[], Awaitable[T]],
        *,
        retry_if: Callable[[BaseException], bool] = is_transport_error,
        on_retry: Callable[[BaseException, float], None] | None = None,
    ) -> T:
        """`call()` until it returns; errors that `retry_if` rejects propagate; `Stopped` if stopped while waiting."""
        while True:
            try:
                result = await call()
            except Exception as exc:
                if not retry_if(exc):
                    raise
                await self.failed(exc, on_retry)
                continue
            self.succeeded()
            return result

    async def failed(self, exc: BaseException, on_retry: Callable[[BaseException, float], None] | None = None) -> None:
        """After a failure: say so, then wait the next backoff; `Stopped` if stopped meanwhile."""
        delay = self.backoff.next()
        if on_retry is not None:
            on_retry(exc, delay)
        if await pause(self.stop, delay):
            raise Stopped() from None

    def succeeded(self) -> None:
        self.backoff.reset()
