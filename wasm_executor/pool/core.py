"""`Pool`: hand Python functions to a colony's executors (browsers or CPython) from a program.

    async with ColoniesClient(url) as client:
        pool = Pool(client, colonyname, prvkey, executortype="wasm")
        def square(x): return x * x
        assert await pool.run(square, 7) == 49
        assert await pool.map(square, range(100)) == [x * x for x in range(100)]

A call is a `python` process (see `shipped`): the function's source (`shipping.function_source`)
travels with its JSON arguments, and its return value comes back as JSON. A map is many
(`jobs.MapRun`): one per item, or per chunk of items (`units`), never more in flight than the
fleet has room for, all heard on two connections (`ends.EndWatcher`), and all cancelled if the
map is stopped. A named map (`job=`) can be taken over by another process (`attach`).

Executors that vanish mid-call are covered by the server: each process carries `maxexectime`
and `maxretries`, so an unfinished one is requeued to another executor. A remote exception
arrives as `RemoteError` with the remote type, message and traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from ..client import ColoniesClient
from ..errors import RequestTimeout, RPCError
from ..objects import CANCELLED, FAILED, SUCCESS, FunctionSpec, Process, ProcessGraph, WorkflowSpec
from ..remote import FUNCNAME, STREAM_CHANNEL
from .errors import RemoteError
from .jobs import MapRun, Progress
from .manifest import Manifest
from .provenance import Provenance, provenance
from .shipping import function_source, required
from .streaming import Delivery, read_stream
from .units import failure

log = logging.getLogger(__name__)

COLLECT_CHECK_EVERY = 30  # seconds `collect` waits on the last step before it looks at the whole graph
CALLS_AT_ONCE = 64  # `run` and `stream` calls in flight when the pool has no `concurrency`


class Pool:
    """Run Python functions on the executors of one type in a colony."""

    def __init__(
        self, client: ColoniesClient, colonyname: str, prvkey: str, executortype: str = "wasm",
        *, maxexectime: int = 60, maxretries: int = 3, concurrency: int | None = None,
    ) -> None:
        """`maxexectime` and `maxretries` are each process's (a chunk is one process).
        `concurrency`: processes in flight at most; by default a map keeps twice the slots its
        executors declare in flight."""
        self.client, self.colonyname, self.prvkey, self.executortype = client, colonyname, prvkey, executortype
        self.maxexectime, self.maxretries, self.concurrency = maxexectime, maxretries, concurrency
        self._limit = asyncio.Semaphore(concurrency or CALLS_AT_ONCE)
        self.last_job = ""  # the job of the latest map (for `attach`)
        self.last_cancelled = 0  # processes the latest map cancelled when it was stopped
        self.suspects: set[str] = set()  # executors whose results lost a vote (`replicas`), by name
        self.last_stream: Delivery | None = None  # how the latest stream's items came

    def spec(
        self, fn: Callable[..., Any], args: Iterable[Any], kwargs: dict[str, Any], requires: Iterable[str] | None = None,
    ) -> FunctionSpec:
        spec = FunctionSpec.new(FUNCNAME, self.executortype, self.colonyname)
        spec.args = [function_source(fn)]
        spec.kwargs = {"call": fn.__name__, "args": list(args), "kwargs": kwargs}
        needed = required(fn, requires)
        if needed:
            spec.kwargs["requires"] = needed
        spec.maxexectime, spec.maxretries = self.maxexectime, self.maxretries
        return spec

    async def run(self, fn: Callable[..., Any], *args: Any, requires: Iterable[str] | None = None, **kwargs: Any) -> Any:
        """fn(*args, **kwargs) on one executor; its JSON return value, or `RemoteError`.
        `requires`: packages to install there first (see `requires` for the decorator)."""
        return await self._call(self.spec(fn, args, kwargs, requires))

    async def map(
        self, fn: Callable[..., Any], items: Iterable[Any], *, chunksize: int | None = None,
        return_exceptions: bool = False, replicas: int = 1, job: str | None = None, progress: bool | None = None,
        requires: Iterable[str] | None = None,
    ) -> list[Any]:
        """[fn(item) for item in items], spread over every executor of the type, in order.

        `chunksize`: items per process; by default one at first, then as many as take about a
        second where they run (see `units`). `return_exceptions`: a failed item's place holds its
        `RemoteError` instead of raising it; otherwise the first failure raises, and every process
        of the map not ended yet is cancelled. `replicas`: run each item on this many different
        executors and accept a result only when they agree (see `quorum`; the losers go to
        `suspects`, and `provenance` says who ran what). `job`: a name for the map, so another process can
        `attach` to it (a map that is named again, with the same work, is taken over, not rerun).
        Progress goes to stderr when it is a terminal (or when `progress=True`)."""
        run = self._start(fn, items, chunksize, replicas, job, progress, requires)
        return await self._gather(run, return_exceptions)

    async def as_completed(
        self, fn: Callable[..., Any], items: Iterable[Any], *, chunksize: int | None = None,
        return_exceptions: bool = False, replicas: int = 1, job: str | None = None, progress: bool | None = None,
        requires: Iterable[str] | None = None,
    ) -> AsyncIterator[tuple[int, Any]]:
        """``(index, fn(items[index]))`` as each ends, in the order they end: like `map`, which
        see. Leaving the loop early cancels what has not ended (at once under
        ``contextlib.aclosing``, else when the generator is closed)."""
        run = self._start(fn, items, chunksize, replicas, job, progress, requires)
        try:
            async with contextlib.aclosing(run.results()) as results:
                async for index, outcome in results:
                    if isinstance(outcome, RemoteError) and not return_exceptions:
                        raise outcome
                    yield index, outcome
        finally:
            self._ended_run(run)

    async def attach(self, job: str, *, return_exceptions: bool = False, progress: bool | None = None) -> list[Any]:
        """The results of the named map `job`, in order, started by this or another process on this
        machine (one killed, say): what ended is read, the rest is waited for, and what was never
        submitted is submitted now. Nothing runs twice."""
        manifest = Manifest.load(job)
        self.last_job = job
        name = manifest.spec.get("kwargs", {}).get("call", "map")
        return await self._gather(MapRun(self, manifest, self._progress(name, len(manifest.items), progress)), return_exceptions)

    async def provenance(self, index: int, job: str | None = None) -> list[Provenance]:
        """Who ran item `index` of the map `job` (default: the latest map), read from the server:
        one entry per process that ran it (more than one with replicas or an overtaken
        straggler), each marked `accepted` if its result is the one the map handed back."""
        return await provenance(self.client, self.colonyname, self.prvkey, job or self.last_job, index)

    def _start(
        self, fn: Callable[..., Any], items: Iterable[Any], chunksize: int | None, replicas: int, job: str | None,
        progress: bool | None, requires: Iterable[str] | None,
    ) -> MapRun:
        if not isinstance(replicas, int) or replicas < 1:
            raise ValueError(f"replicas must be a positive int, got {replicas!r}")
        items = list(items)
        spec = self.spec(fn, [], {}, requires).to_dict()
        name = job or f"{fn.__name__}-{secrets.token_hex(6)}"
        try:
            manifest = Manifest.create(name, spec, items, chunksize, replicas)
        except FileExistsError:
            manifest = Manifest.load(name)
            if manifest.spec.get("args") != spec["args"] or manifest.items != items or manifest.replicas != replicas:
                raise ValueError(f"a job {name!r} with other work exists ({Manifest.path_of(name)}): name this one otherwise") from None
        self.last_job = name
        return MapRun(self, manifest, self._progress(fn.__name__, len(items), progress))

    @staticmethod
    def _progress(name: str, total: int, progress: bool | None) -> Progress:
        show = sys.stderr.isatty() if progress is None else progress
        return Progress(name, total, sys.stderr if show else None)

    async def _gather(self, run: MapRun, return_exceptions: bool) -> list[Any]:
        results: list[Any] = [None] * len(run.manifest.items)
        try:
            async with contextlib.aclosing(run.results()) as outcomes:
                async for index, outcome in outcomes:
                    if isinstance(outcome, RemoteError) and not return_exceptions:
                        raise outcome
                    results[index] = outcome
        finally:
            self._ended_run(run)
        return results

    def _ended_run(self, run: MapRun) -> None:
        self.last_cancelled = run.cancelled
        self.suspects |= run.suspects

    def _item_specs(self, fn: Callable[..., Any], items: Iterable[Any], requires: Iterable[str] | None) -> list[FunctionSpec]:
        """One spec of `fn(item)` per item; the source is worked out once."""
        source_spec = self.spec(fn, [], {}, requires)
        specs = []
        for item in items:
            spec = FunctionSpec.from_dict(source_spec.to_dict())
            spec.kwargs = {**spec.kwargs, "args": [item]}
            specs.append(spec)
        return specs

    async def stream(
        self, fn: Callable[..., Any], *args: Any, requires: Iterable[str] | None = None, **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """The items of generator function `fn(*args, **kwargs)`, each as soon as the executor has it:

            async for part in pool.stream(count_up, 5): ...

        They travel through the process's channel while it runs (on every server given: see
        `streaming`). The process's output holds them all, so none is lost if the channel cannot
        be read (the process was quick, the connection dropped, the executor's replica is not
        ours): those come when it ends. `last_stream` says how many came which way. An exception
        in `fn` is `RemoteError` after the items made before it."""
        spec = self.spec(fn, args, kwargs, requires)
        spec.channels = [STREAM_CHANNEL]
        async with self._limit:
            process = await self.client.submit(spec, self.prvkey)
            self.last_stream = delivery = Delivery(process.processid, servers=len(self.client.servers.urls))
            items: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()  # (False, item) ... (True, None)
            reader = asyncio.ensure_future(read_stream(self.client, self.prvkey, process, items))
            received = 0
            try:
                while True:
                    done, item = await items.get()
                    if done:
                        break
                    received += 1
                    yield item
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
            ended = await self._ended(process)
        if ended.state != SUCCESS:
            raise await self._remote_error(ended)
        everything = ended.output[0] if ended.output and isinstance(ended.output[0], list) else []
        delivery.live, delivery.at_end = received, max(len(everything) - received, 0)
        log.info("%s", delivery)
        for item in everything[received:]:  # what the channel did not carry
            yield item

    # ------------------------------------------------------------------ workflows: one graph on the server

    async def submit_map_reduce(
        self, fn: Callable[..., Any], items: Iterable[Any], reducer: Callable[..., Any], *, requires: Iterable[str] | None = None,
    ) -> str:
        """Submit ``reducer(*[fn(item) for item in items])`` as ONE workflow and return its ID at once.

        The server runs the mappers anywhere, then hands their outputs, in order, to the reducer
        (a process's `in`). The driver may go away: `collect(ID)`, from any process, gets the result."""
        specs = self._item_specs(fn, items, requires)
        for i, spec in enumerate(specs):
            spec.nodename = f"{fn.__name__}-{i}"
        last = self.spec(reducer, [], {}, requires)
        last.nodename = f"{reducer.__name__}-reduce"
        last.conditions.dependencies = [s.nodename for s in specs]
        return await self._submit_workflow([*specs, last])

    async def submit_pipeline(self, fns: list[Callable[..., Any]], *args: Any, requires: Iterable[str] | None = None) -> str:
        """Submit ``fns[-1](…fns[1](fns[0](*args)))`` as ONE workflow (each step where the server
        likes) and return its ID; `collect(ID)` gets the last step's result."""
        specs: list[FunctionSpec] = []
        for i, fn in enumerate(fns):
            spec = self.spec(fn, args if i == 0 else [], {}, requires)
            spec.nodename = f"{i}-{fn.__name__}"
            spec.conditions.dependencies = [specs[-1].nodename] if specs else []
            specs.append(spec)
        return await self._submit_workflow(specs)

    async def map_reduce(self, fn: Callable[..., Any], items: Iterable[Any], reducer: Callable[..., Any], **kw: Any) -> Any:
        return await self.collect(await self.submit_map_reduce(fn, items, reducer, **kw))

    async def pipeline(self, fns: list[Callable[..., Any]], *args: Any, **kw: Any) -> Any:
        return await self.collect(await self.submit_pipeline(fns, *args, **kw))

    async def _submit_workflow(self, specs: list[FunctionSpec]) -> str:
        graph = await self.client.submit_workflow(WorkflowSpec(colonyname=self.colonyname, functionspecs=specs), self.prvkey)
        return graph.processgraphid

    async def collect(self, graph_id: str) -> Any:
        """The result of a workflow's last step (Pool's workflows end in one), however long it takes.

        A step that fails ends the wait with its `RemoteError`, and the rest of the graph is
        cancelled on the server: nothing is left WAITING for parents that will never finish."""
        graph = await self.client.get_processgraph(graph_id, self.prvkey)
        last = await self._last_step(graph)
        while True:  # the last step ends even when a step before it fails; the graph is looked at now and then too
            with contextlib.suppress(RequestTimeout):
                ended = await self.client.wait_for_end(last, COLLECT_CHECK_EVERY, self.prvkey)
                break
            graph = await self.client.get_processgraph(graph_id, self.prvkey)
            if graph.state == FAILED:
                return await self._graph_failed(graph)
        if ended.state == SUCCESS:
            return ended.output[0] if ended.output else None
        if ended.state == FAILED and not ended.errors:  # failed because a step before it did: say that one's error
            return await self._graph_failed(graph)
        raise await self._remote_error(ended)

    async def _last_step(self, graph: ProcessGraph) -> Process:
        """The one process of the graph without children (the server keeps no order of the graph's ids)."""
        for pid in reversed(graph.processids):
            process = await self.client.get_process(pid, self.prvkey)
            if not process.children:
                return process
        raise RemoteError("", f"workflow {graph.processgraphid} has no last step")

    async def _graph_failed(self, graph: ProcessGraph) -> Any:
        with contextlib.suppress(RPCError):
            await self.client.cancel_processgraph(graph.processgraphid, self.prvkey)
        for pid in graph.processids:
            process = await self.client.get_process(pid, self.prvkey)
            if process.state == FAILED and process.errors:
                raise await self._remote_error(process)
        raise RemoteError("", f"workflow {graph.processgraphid} failed")

    async def _call(self, spec: FunctionSpec) -> Any:
        async with self._limit:
            process = await self.client.submit(spec, self.prvkey)
            ended = await self._ended(process)
        if ended.state == SUCCESS:
            return ended.output[0] if ended.output else None
        raise await self._remote_error(ended)

    async def _ended(self, process: Process) -> Process:
        """Wait until the process succeeded, failed or was cancelled, however long that takes."""
        while True:
            with contextlib.suppress(RequestTimeout):
                return await self.client.wait_for_end(process, 300, self.prvkey)

    async def _remote_error(self, process: Process) -> RemoteError:
        return failure(process, "" if process.state == CANCELLED else await self.traceback_of(process))

    async def traceback_of(self, process: Process) -> str:
        """What the process logged (a failed call's remote traceback), or "" if it cannot be read."""
        try:
            logs = await self.client.get_logs(self.colonyname, process.processid, "", 100, 0, self.prvkey)
        except RPCError:
            return ""
        return "".join(log.message for log in logs)
