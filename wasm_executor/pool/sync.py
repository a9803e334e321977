"""`PoolExecutor`: `Pool` for plain scripts and notebooks, shaped like `concurrent.futures`.

    with PoolExecutor(server_url, colonyname, prvkey) as ex:
        squares = list(ex.map(square, range(100)))
        future = ex.submit(square, 7)
        print(future.result())

The same core as `Pool`: an event loop in a thread of its own runs it; each call hands its
coroutine there and waits. `shutdown` (or leaving the `with`) cancels what has not ended on the
server, then closes the connection and stops the thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from ..client import ColoniesClient
from .core import Pool

T = TypeVar("T")


class PoolExecutor(concurrent.futures.Executor):
    def __init__(self, server_url: str, colonyname: str, prvkey: str, executortype: str = "wasm", **pool_options: Any) -> None:
        """`pool_options` go to `Pool` (maxexectime, maxretries, concurrency)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wasm-executor-pool", daemon=True)
        self._thread.start()

        async def make() -> ColoniesClient:  # in the loop that will use it (its HTTP session binds to it)
            return ColoniesClient(server_url)

        self._client = asyncio.run_coroutine_threadsafe(make(), self._loop).result()
        self.pool = Pool(self._client, colonyname, prvkey, executortype, **pool_options)
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._shut = False

    def _run(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._shut:
            coro.close()
            raise RuntimeError("cannot schedule new work after shutdown")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        """fn(*args, **kwargs) on one executor of the colony: a future of its result."""
        return self._run(self.pool.run(fn, *args, **kwargs))

    def map(  # type: ignore[override]
        self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: float | None = None, chunksize: int | None = None,
        **map_options: Any,
    ) -> Iterator[T]:
        """Like `concurrent.futures.Executor.map`: results in order (one argument per call when one
        iterable is given; a tuple of arguments is not unpacked otherwise, so give one iterable).
        Runs as one `Pool.map`; `map_options` are its (job, return_exceptions, progress, requires)."""
        if len(iterables) != 1:
            raise TypeError("PoolExecutor.map takes one iterable (the items are fn's one argument)")
        items = list(iterables[0])
        future = self._run(self.pool.map(fn, items, chunksize=chunksize, **map_options))
        try:
            results = future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise
        return iter(results)

    def attach(self, job: str, timeout: float | None = None) -> list[Any]:
        """`Pool.attach`: the results of a named map, in order."""
        return self._run(self.pool.attach(job)).result(timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._shut:
            return
        self._shut = True
        pending = list(self._futures)
        if cancel_futures:
            for future in pending:
                future.cancel()  # cancels the task in the loop: a map cancels its processes
        if wait:
            for future in pending:
                with contextlib.suppress(BaseException):
                    future.result()
        asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # An error in the `with` body: what was still running is of no use to anyone.
        self.shutdown(wait=True, cancel_futures=exc_type is not None)
