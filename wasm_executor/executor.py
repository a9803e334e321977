"""The executor runtime: join a colony, register functions, long-poll, run, close.

Runs the same in CPython and in the browser's Web Worker. What happens is reported through
one callback, `on_event(kind, data)`, which the worker forwards to the page and tests record.

Failure rules:
- a bad process (unknown function, bad arguments, an exception) fails THAT process with a
  readable error and the loop goes on;
- a lost connection or a restarting server is retried with capped exponential backoff; the
  result of a process in hand is kept and delivered once the server is back;
- `stop()` ends the loop after the current poll/process, never in the middle of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .client import ColoniesClient
from .crypto import gen_id
from .errors import RPCError, ServerError
from .functions import FunctionError, FunctionRegistry, default_registry
from .objects import APPROVED, Executor, Function, Log, Process
from .platform_info import capabilities

EventSink = Callable[[str, dict[str, Any]], None]
REGISTER_WITH_KEY = "registering with the colony key"

# Executor states shown on the page.
LOADING, REGISTERING, WAITING_APPROVAL, POLLING, RUNNING, STOPPING, STOPPED, ERROR = (
    "loading", "registering", "waiting for approval", "polling", "running", "stopping", "stopped", "error",
)


@dataclass
class ExecutorConfig:
    server_url: str
    colonyname: str
    executorname: str
    prvkey: str  # the executor's own key
    executortype: str = "wasm"
    colony_prvkey: str | None = None  # dev convenience: add and approve ourselves
    poll_timeout: int = 10
    approval_poll_interval: float = 2.0
    max_backoff: float = 30.0
    locationname: str = ""


class Backoff:
    """1, 2, 4 … seconds, capped; reset after a success."""

    def __init__(self, cap: float, first: float = 1.0) -> None:
        self.cap, self.first, self.current = cap, first, first

    def next(self) -> float:
        delay = self.current
        self.current = min(self.current * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.current = self.first


def join_command(cfg: ExecutorConfig) -> str:
    """The line an admin runs to let this executor in (its key never leaves the browser)."""
    return (
        f"colonies executor add --name {cfg.executorname} --type {cfg.executortype} "
        f"--executorid {gen_id(cfg.prvkey)} --approve"
    )


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ColonyExecutor:
    def __init__(
        self,
        config: ExecutorConfig,
        functions: FunctionRegistry | None = None,
        on_event: EventSink | None = None,
        client: ColoniesClient | None = None,
    ) -> None:
        self.config = config
        self.functions = functions or default_registry()
        self.client = client or ColoniesClient(config.server_url)
        self.executorid = gen_id(config.prvkey)
        self._on_event = on_event or (lambda _kind, _data: None)
        self._stop = asyncio.Event()
        self.state = STOPPED
        self._detail = ""
        self.done = 0
        self.failed = 0

    # ------------------------------------------------------------------ reporting

    def emit(self, kind: str, **data: Any) -> None:
        with contextlib.suppress(Exception):
            self._on_event(kind, data)

    def _set_state(self, state: str, detail: str = "") -> None:
        if (state, detail) == (self.state, self._detail):
            return  # a new long-poll is no news
        self.state, self._detail = state, detail
        self.emit("state", state=state, detail=detail, executorid=self.executorid)

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        """Ask the loop to end after the current poll or process."""
        self._stop.set()
        if self.state not in (STOPPED, ERROR):
            self._set_state(STOPPING, "finishing the current poll")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when stop() is called."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def run(self) -> None:
        """Register, then serve until stop(). Never raises for network or server trouble."""
        self._stop.clear()
        try:
            if await self.register():
                await self.serve()
        except Exception as exc:
            self._set_state(ERROR, f"{type(exc).__name__}: {exc}")
            raise
        if self.state != ERROR:  # an error stays on screen until the next start
            self._set_state(STOPPED)

    async def register(self) -> bool:
        """Join the colony; True once approved, False if stopped before that."""
        cfg = self.config
        self._set_state(REGISTERING, cfg.server_url)
        backoff = Backoff(cfg.max_backoff)
        if cfg.colony_prvkey:
            while not self.stopping:
                try:
                    await self._self_register()
                    break
                except RPCError as exc:
                    if not exc.conn_err():
                        self._set_state(ERROR, self._explain(exc, REGISTER_WITH_KEY))
                        return False
                    self._set_state(REGISTERING, f"server unreachable ({exc}); retrying")
                    await self._pause(backoff.next())
        if not await self._wait_for_approval():
            return False
        await self._announce()
        return not self.stopping

    async def _self_register(self) -> None:
        cfg = self.config
        assert cfg.colony_prvkey
        executor = Executor.new(cfg.executorname, self.executorid, cfg.executortype, cfg.colonyname)
        executor.locationname = cfg.locationname
        try:
            await self.client.add_executor(executor, cfg.colony_prvkey)
        except ServerError as exc:
            if exc.status == 403:  # not the colony owner's key
                raise
            # A server without re-registration refuses an existing name: approving it may still work.
            self.emit("log", message=f"add executor: {exc.message}")
        await self.client.approve_executor(cfg.colonyname, cfg.executorname, cfg.colony_prvkey)

    async def _wait_for_approval(self) -> bool:
        cfg = self.config
        backoff = Backoff(cfg.max_backoff)
        while not self.stopping:
            try:
                me = await self.client.get_executor(cfg.colonyname, cfg.executorname, cfg.prvkey)
                if me.state == APPROVED and me.executorid == self.executorid:
                    return True
            except RPCError as exc:
                if exc.conn_err():
                    self._set_state(REGISTERING, f"server unreachable ({exc}); retrying")
                    await self._pause(backoff.next())
                    continue
                if exc.status not in (403, 404, 500):
                    self._set_state(ERROR, self._explain(exc, "checking approval"))
                    return False
            if self.state != WAITING_APPROVAL:  # say it once, and again after a connection error
                self._set_state(WAITING_APPROVAL, join_command(cfg))
            await self._pause(cfg.approval_poll_interval)
        return False

    async def _announce(self) -> None:
        """Register functions and report capabilities; neither failure stops the executor."""
        cfg = self.config
        try:
            known = {f.funcname for f in await self.client.get_functions_by_executor(cfg.colonyname, cfg.executorname, cfg.prvkey)}
        except RPCError:
            known = set()
        for entry in self.functions:
            if entry.name in known:
                continue
            fn = Function(
                executorname=cfg.executorname, executortype=cfg.executortype, colonyname=cfg.colonyname,
                funcname=entry.name, description=entry.description, args=entry.args,
            )
            try:
                await self.client.add_function(fn, cfg.prvkey)
            except RPCError as exc:
                self.emit("log", message=f"add function {entry.name}: {exc}")
        try:
            await self.client.update_executor(cfg.colonyname, cfg.executorname, capabilities(), cfg.prvkey)
        except RPCError as exc:
            self.emit("log", message=f"report capabilities: {exc}")
        self.emit("registered", executorid=self.executorid, functions=self.functions.names())

    def _explain(self, exc: RPCError, doing: str) -> str:
        if exc.status == 403 and doing == REGISTER_WITH_KEY:
            return f"access denied while {doing}: it is not the owner key of colony '{self.config.colonyname}' ({exc.message})"
        return f"{doing} failed: {exc}"

    # ------------------------------------------------------------------ serving

    async def serve(self) -> None:
        cfg = self.config
        backoff = Backoff(cfg.max_backoff)
        while not self.stopping:
            self._set_state(POLLING)
            try:
                process = await self.client.assign(cfg.colonyname, cfg.poll_timeout, cfg.prvkey)
            except RPCError as exc:
                if exc.status == 403:
                    # Removed, rejected, or set unregistered after a long silence: join again
                    # (by itself with the colony key, else by waiting for an admin's approval).
                    self.emit("log", message=f"no longer a member ({exc.message}); joining again")
                    if not await self.register():
                        return
                    continue
                delay = backoff.next()
                if exc.conn_err():
                    self._set_state(POLLING, f"server unreachable ({exc}); retrying in {delay:g} s")
                else:
                    self._set_state(POLLING, f"{self._explain(exc, 'polling')}; retrying in {delay:g} s")
                await self._pause(delay)
                continue
            backoff.reset()
            if process is not None:
                await self.execute(process)

    async def execute(self, process: Process) -> None:
        """Run one assigned process and close it; its failure is the process's, not ours."""
        spec = process.spec
        self._set_state(RUNNING, spec.funcname)
        shown_args = [_short(a) for a in spec.args]
        self.emit("process", processid=process.processid, funcname=spec.funcname, args=shown_args, status="running")
        started = time.perf_counter()
        output: list[Any] = []
        error = ""
        limit = spec.maxexectime if spec.maxexectime > 0 else None
        try:
            # Past maxexectime the server gives the process to someone else: stop waiting for it too.
            output = await asyncio.wait_for(self.functions.call(spec.funcname, spec.args, spec.kwargs), limit)
        except TimeoutError:
            error = f"{spec.funcname} did not finish within maxexectime {spec.maxexectime} s"
        except FunctionError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"{spec.funcname} raised {type(exc).__name__}: {exc}"
        millis = round((time.perf_counter() - started) * 1000, 1)
        line = f"{spec.funcname}({', '.join(shown_args)}) -> {error or _short(output)} in {millis} ms"
        await self._deliver("add log", self.client.add_log, Log(processid=process.processid, message=line), self.config.prvkey)
        if error:
            ok = await self._deliver("fail", self.client.fail, process.processid, self.config.prvkey, [error])
            self.failed += 1
        else:
            ok = await self._deliver("close", self.client.close, process.processid, self.config.prvkey, output)
            self.done += 1
        self.emit(
            "process", processid=process.processid, funcname=spec.funcname, args=shown_args,
            status="failed" if error else "done", output=[_short(o) for o in output], error=error,
            millis=millis, delivered=ok, done=self.done, failed=self.failed,
        )

    async def _deliver(self, what: str, call: Callable[..., Any], *args: Any) -> bool:
        """Send a result until the server takes it; connection trouble never loses it."""
        backoff = Backoff(self.config.max_backoff)
        while True:
            try:
                await call(*args)
                return True
            except RPCError as exc:
                if not exc.conn_err():
                    # e.g. the process was requeued or removed meanwhile: nothing left to deliver to.
                    self.emit("log", message=f"{what}: {exc}")
                    return False
                delay = backoff.next()
                self.emit("log", message=f"{what}: server unreachable, retrying in {delay:g} s")
                await asyncio.sleep(delay)
