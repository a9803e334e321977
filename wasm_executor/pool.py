"""`Pool`: hand Python functions to a colony's executors (browsers or CPython) from a program.

    async with ColoniesClient(url) as client:
        pool = Pool(client, colonyname, prvkey, executortype="wasm")
        def square(x): return x * x
        assert await pool.run(square, 7) == 49
        assert await pool.map(square, range(100)) == [x * x for x in range(100)]

Each call is one `python` process (see `shipped`): the function's source travels with its
JSON arguments, and its return value comes back as JSON. What of its module travels with it
(`function_source`):
- the module's top-level imports of the names it uses (so `math.sqrt` works where `math` is
  imported at the top; an import it does not use, such as a test framework, stays home);
- every module-level function or class it names, recursively, by source;
- every module-level constant it names whose `repr` is a Python literal.
It must be a plain `def` at module level (no lambda, no closure, no method): anything else is
refused here with the reason, before anything is sent.

Executors that vanish mid-call are covered by the server: each process carries `maxexectime`
and `maxretries`, so an unfinished one is requeued to another executor. A remote exception
arrives as `RemoteError` with the remote type, message and traceback.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import json
import sys
import textwrap
import types
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from .client import ColoniesClient
from .errors import RequestTimeout, RPCError
from .objects import CANCELLED, FAILED, RUNNING, SUCCESS, ChannelEntry, FunctionSpec, Process, ProcessGraph, WorkflowSpec
from .remote import END, ERROR, FUNCNAME, STREAM_CHANNEL, parse_raised

F = TypeVar("F", bound=Callable[..., Any])
REQUIRES_ATTR = "__wasm_executor_requires__"
COLLECT_CHECK_EVERY = 30  # seconds `collect` waits on the last step before it looks at the whole graph


def requires(*packages: str) -> Callable[[F], F]:
    """Decorator: the packages `fn` needs where it runs, e.g. ``@requires("sympy")``."""
    def mark(fn: F) -> F:
        setattr(fn, REQUIRES_ATTR, [*getattr(fn, REQUIRES_ATTR, []), *packages])
        return fn
    return mark


class RemoteError(Exception):
    """The shipped function raised (or could not run) on the executor."""

    def __init__(self, type_name: str, message: str, traceback: str = "", processid: str = "") -> None:
        super().__init__(f"{type_name}: {message}" if type_name else message)
        self.type_name, self.message, self.traceback, self.processid = type_name, message, traceback, processid

    def __str__(self) -> str:
        head = super().__str__()
        return f"{head}\n\nRemote traceback:\n{self.traceback}" if self.traceback else head


class NotShippable(TypeError):
    """A function `Pool` cannot send: the message says why."""


def _literal(value: Any) -> str | None:
    try:
        text = repr(value)
        ast.literal_eval(text)
        return text
    except (ValueError, SyntaxError, RecursionError, TypeError):
        return None


def function_source(fn: Callable[..., Any]) -> str:
    """The code that defines `fn` where it runs: imports, helpers, constants, then `fn` itself."""
    if not isinstance(fn, types.FunctionType) or fn.__name__ == "<lambda>":
        raise NotShippable(f"{fn!r} is not a plain function defined with def: only those can be sent")
    if fn.__closure__:
        raise NotShippable(f"{fn.__name__} uses variables of an enclosing function ({', '.join(fn.__code__.co_freevars)}): "
                           "define it at module level")
    module = sys.modules.get(fn.__module__)
    imports: list[ast.Import | ast.ImportFrom] = []
    if module is not None:
        try:
            tree = ast.parse(inspect.getsource(module))
            imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        except (OSError, TypeError):
            pass  # no source for the module (an interactive session): the function's own imports must do
    parts: list[str] = []
    seen: set[str] = set()
    used_names: set[str] = set()

    def add(obj: Any, name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]
        except (OSError, TypeError, IndexError):
            raise NotShippable(f"no source for {name}: define it in a file, not in an interactive session") from None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            node.decorator_list = []  # a decorator (a pool's own, say) means nothing where it runs
        globals_ = getattr(obj, "__globals__", vars(module) if module else {})
        names = _global_names(obj.__code__) if hasattr(obj, "__code__") else {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        used_names.update(names)
        for used in sorted(names):
            if used in seen or used not in globals_:
                continue
            value = globals_[used]
            if isinstance(value, types.ModuleType):
                continue  # covered by the module's imports
            if isinstance(value, types.FunctionType | type) and getattr(value, "__module__", None) == fn.__module__:
                add(value, used)
            elif (text := _literal(value)) is not None:
                seen.add(used)
                parts.append(f"{used} = {text}")
        parts.append(ast.unparse(node))

    add(fn, fn.__name__)
    kept = [text for node in imports if (text := _import_of(node, used_names))]
    return "\n\n".join([*kept, *parts]) + "\n"


def _global_names(code: types.CodeType) -> set[str]:
    """Names a function's code looks up, its nested functions and comprehensions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _import_of(node: ast.Import | ast.ImportFrom, used: set[str]) -> str:
    """The part of a top-level import statement that binds names in `used` ("" if none)."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return ast.unparse(node)
    keep = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
    if not keep:
        return ""
    if isinstance(node, ast.Import):
        return ast.unparse(ast.Import(names=keep))
    return ast.unparse(ast.ImportFrom(module=node.module, names=keep, level=node.level))


class Pool:
    """Run Python functions on the executors of one type in a colony."""

    def __init__(
        self, client: ColoniesClient, colonyname: str, prvkey: str, executortype: str = "wasm",
        *, maxexectime: int = 60, maxretries: int = 3, concurrency: int = 32,
    ) -> None:
        self.client, self.colonyname, self.prvkey, self.executortype = client, colonyname, prvkey, executortype
        self.maxexectime, self.maxretries = maxexectime, maxretries
        self._limit = asyncio.Semaphore(concurrency)

    def spec(
        self, fn: Callable[..., Any], args: Iterable[Any], kwargs: dict[str, Any], requires: Iterable[str] | None = None,
    ) -> FunctionSpec:
        spec = FunctionSpec.new(FUNCNAME, self.executortype, self.colonyname)
        spec.args = [function_source(fn)]
        spec.kwargs = {"call": fn.__name__, "args": list(args), "kwargs": kwargs}
        needed = [*getattr(fn, REQUIRES_ATTR, []), *(requires or [])]
        if needed:
            spec.kwargs["requires"] = needed
        spec.maxexectime, spec.maxretries = self.maxexectime, self.maxretries
        return spec

    async def run(self, fn: Callable[..., Any], *args: Any, requires: Iterable[str] | None = None, **kwargs: Any) -> Any:
        """fn(*args, **kwargs) on one executor; its JSON return value, or `RemoteError`.
        `requires`: packages to install there first (see `requires` for the decorator)."""
        return await self._call(self.spec(fn, args, kwargs, requires))

    async def map(
        self, fn: Callable[..., Any], items: Iterable[Any], *, progress: bool | None = None, requires: Iterable[str] | None = None,
    ) -> list[Any]:
        """[fn(item) for item in items], spread over every executor of the type, in order.
        Progress goes to stderr when it is a terminal (or when `progress=True`)."""
        specs = self._item_specs(fn, items, requires)
        show = sys.stderr.isatty() if progress is None else progress
        done = 0

        async def one(spec: FunctionSpec) -> Any:
            nonlocal done
            try:
                return await self._call(spec)
            finally:
                done += 1
                if show:
                    print(f"\r{fn.__name__}: {done}/{len(specs)} done", end="", file=sys.stderr, flush=True)

        try:
            return list(await asyncio.gather(*(one(s) for s in specs)))
        finally:
            if show:
                print(file=sys.stderr)

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

        They travel through the process's channel while it runs. The process's output holds them
        all, so none is lost if the channel cannot be read (the process was quick, or the
        connection dropped): those come when it ends. An exception in `fn` is `RemoteError`
        after the items made before it."""
        spec = self.spec(fn, args, kwargs, requires)
        spec.channels = [STREAM_CHANNEL]
        async with self._limit:
            process = await self.client.submit(spec, self.prvkey)
            items: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()  # (False, item) ... (True, None)
            reader = asyncio.ensure_future(self._read_stream(process, items))
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
        for item in everything[received:]:  # what the channel did not carry
            yield item

    async def _read_stream(self, process: Process, items: asyncio.Queue[tuple[bool, Any]]) -> None:
        """Put the channel's items in `items` until the stream ends or the process does; then (True, None)."""
        after, ended = 0, False

        def take(entries: list[ChannelEntry]) -> bool:
            """Queue the new items; False (stop listening) once the end or the error is there."""
            nonlocal after, ended
            for entry in entries:
                if entry.sequence <= after:
                    continue
                after = entry.sequence
                if entry.type in (END, ERROR):
                    ended = True
                    return False
                items.put_nowait((False, json.loads(entry.payload_bytes())))
            return True

        try:
            while True:
                current = await self.client.get_process(process.processid, self.prvkey)
                if current.state in (SUCCESS, FAILED, CANCELLED):
                    return
                if current.state != RUNNING:  # the channel exists once an executor has the process
                    with contextlib.suppress(RequestTimeout):
                        await self.client.subscribe_process(process, RUNNING, 10, self.prvkey)
                    continue
                try:
                    await self.client.subscribe_channel(process.processid, STREAM_CHANNEL, after, 30, self.prvkey, take)
                except RPCError:
                    await asyncio.sleep(0.5)  # the channel is gone (the process ended) or the server is away: look again
                if ended:
                    return
        finally:
            items.put_nowait((True, None))

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
        error = process.errors[0] if process.errors else "the process failed without a message"
        if process.state == CANCELLED:
            return RemoteError("Cancelled", "the process was cancelled", processid=process.processid)
        traceback = ""
        try:
            logs = await self.client.get_logs(self.colonyname, process.processid, "", 100, 0, self.prvkey)
            traceback = "".join(log.message for log in logs)
        except (RPCError, RequestTimeout):
            pass
        parsed = parse_raised(error)
        if parsed is not None:
            return RemoteError(*parsed, traceback, process.processid)
        return RemoteError("", error, traceback, process.processid)
