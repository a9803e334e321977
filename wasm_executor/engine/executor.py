"""The executor: join a colony, keep every slot busy, enforce deadlines and cancels, deliver every result.

Runs the same in CPython and in the browser's executor worker; it holds the executor's key and is
the only part that talks to the server. Functions run in slots (`SlotPool`), which hold no key.
What happens is reported as typed events (`events.py`) through one callback.

The rules:
- A bad process (unknown function, bad arguments, an exception, output JSON cannot carry) fails
  THAT process with a readable error; serving goes on. A result the server refuses fails the
  process with the server's reason.
- maxexectime and `colonies process cancel` stop the code: the slot is interrupted, and replaced
  if the code does not stop within `kill_grace` seconds. Past the deadline, a process the server
  will retry is left to the server (nothing is sent); one it will not retry is failed here.
- Nothing is lost: results in hand are delivered through any outage (retried with backoff), and
  after a connection error during `assign`, at start and at stop, processes the server assigned
  to us that we are not running are looked for and served.
- `stop()` cuts the long-poll at once and lets running processes finish; `stop(now=True)` also
  interrupts them and fails them as stopped by the owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import shipped
from ..client import ColoniesClient
from ..crypto import gen_id
from ..errors import RequestTimeout, RPCError, ServerError, TransportError
from ..events import (
    Event,
    LogLine,
    Outcome,
    ProcessEnded,
    ProcessStarted,
    Registered,
    SlotChanged,
    State,
    StateChanged,
)
from ..functions import default_registry
from ..joining import AdmissionRefused, join_by_invite
from ..objects import APPROVED, CANCELLED, RUNNING, Executor, Function, Log, Process
from ..platform_info import capabilities
from ..retry import Backoff, Retry, Stopped, pause
from .job import Emit, Job, JobResult
from .slots import FunctionInfo, InlineSlots, SlotLost, SlotPool
from .stream import ChannelWriter

EventSink = Callable[[Event], None]
T = TypeVar("T")

STOPPED_BY_OWNER = "stopped by the executor's owner before it finished"
RECOVER_BATCH = 100


@dataclass
class ExecutorConfig:
    server_url: str
    colonyname: str
    executorname: str
    prvkey: str  # the executor's own key
    executortype: str = "wasm"
    colony_prvkey: str | None = None  # dev convenience: add and approve ourselves
    admission_url: str = ""  # with `invite`: join through the admission service (wasm_executor/joining.py)
    invite: str = ""
    poll_timeout: int = 10
    approval_poll_interval: float = 2.0
    first_backoff: float = 1.0
    max_backoff: float = 30.0
    locationname: str = ""
    kill_grace: float = 1.0  # seconds an interrupted function gets before its slot is replaced
    cancel_watch_after: float = 0.5  # a process running longer than this is watched for cancellation
    allow_code: bool = False  # the owner's consent to run Python code the colony sends (`python`)


def _settle(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def join_command(cfg: ExecutorConfig) -> str:
    """The line an admin runs to let this executor in (its key never leaves the browser)."""
    return (
        f"colonies executor add --name {cfg.executorname} --type {cfg.executortype} "
        f"--executorid {gen_id(cfg.prvkey)} --approve"
    )


def short(value: Any, limit: int = 300) -> str:
    """A value shortened for display (never for the server)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # repr() of a huge integer can itself fail
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shortened(values: list[Any], items: int = 20) -> list[str]:
    """A list shortened for display: the first `items`, each `short`, then how many more."""
    shown = [short(v) for v in values[:items]]
    return [*shown, f"… {len(values) - items} more"] if len(values) > items else shown


class JoinRefused(Exception):
    """The server refused to let us in for a reason a retry will not change."""


class ColonyExecutor:
    def __init__(
        self,
        config: ExecutorConfig,
        slots: SlotPool | None = None,
        on_event: EventSink | None = None,
        client: ColoniesClient | None = None,
    ) -> None:
        self.config = config
        self.slots = slots or InlineSlots(default_registry())
        self.client = client or ColoniesClient(config.server_url)
        self.executorid = gen_id(config.prvkey)
        self._on_event = on_event or (lambda _event: None)
        self._stop = asyncio.Event()
        self._stop_now = asyncio.Event()
        # The same two signals as futures, for asyncio.wait on the hot path: waiting on an Event
        # needs a task per wait, and in Pyodide every task costs several scheduled callbacks.
        self._stopped: asyncio.Future[None] | None = None
        self._stopped_now: asyncio.Future[None] | None = None
        self.state = State.STOPPED
        self._detail = ""
        self.done = 0
        self.failed = 0
        self._in_hand: set[str] = set()  # processids from assign until their result is delivered
        self._free: asyncio.Queue[int] = asyncio.Queue()
        self._handlers: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ reporting

    def emit(self, event: Event) -> None:
        self._on_event(event)

    def log(self, message: str) -> None:
        self.emit(LogLine(message))

    def _set_state(self, state: State, detail: str = "") -> None:
        if (state, detail) == (self.state, self._detail):
            return  # a new long-poll is no news
        self.state, self._detail = state, detail
        self.emit(StateChanged(state, detail, self.executorid))

    def _say_unreachable(self, state: State) -> Callable[[BaseException, float], None]:
        def on_retry(exc: BaseException, delay: float) -> None:
            if isinstance(exc, TransportError):
                self._set_state(state, f"server unreachable ({exc}); retrying in {delay:g} s")
            else:
                self._set_state(state, f"the server answered {exc}; retrying in {delay:g} s")

        return on_retry

    # ------------------------------------------------------------------ lifecycle

    def stop(self, now: bool = False) -> None:
        """Stop taking work at once; running processes finish (or, with `now`, are interrupted and failed)."""
        self._stop.set()
        _settle(self._stopped)
        if now:
            self._stop_now.set()
            _settle(self._stopped_now)
        if self.state not in (State.STOPPED, State.ERROR):
            busy = len(self._in_hand)
            detail = f"interrupting {busy} running process(es)" if now and busy else (
                f"finishing {busy} running process(es)" if busy else "")
            self._set_state(State.STOPPING, detail)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _retry(self) -> Retry:
        return Retry(self.config.max_backoff, self.config.first_backoff, self._stop)

    def _delivery_retry(self) -> Retry:
        """For what a process sends (its result, its streamed items): given up only on stop-now."""
        return Retry(self.config.max_backoff, self.config.first_backoff, self._stop_now)

    async def run(self) -> None:
        """Register, then serve until stop(). Never raises for network or server trouble."""
        self._stop.clear()
        self._stop_now.clear()
        loop = asyncio.get_running_loop()
        self._stopped, self._stopped_now = loop.create_future(), loop.create_future()
        try:
            await self.slots.start()
            if await self.register():
                await self.serve()
        except JoinRefused as exc:
            self._set_state(State.ERROR, str(exc))
        except Exception as exc:
            self._set_state(State.ERROR, f"{type(exc).__name__}: {exc}")
            raise
        if self.state != State.ERROR:  # an error stays on screen until the next start
            self._set_state(State.STOPPED)

    async def register(self) -> bool:
        """Join the colony; True once approved, False if stopped before that."""
        cfg = self.config
        self._set_state(State.REGISTERING, cfg.server_url)
        retry = self._retry()
        try:
            if cfg.colony_prvkey:
                await retry.run(self._self_register, on_retry=self._say_unreachable(State.REGISTERING))
            elif cfg.invite:
                await retry.run(self._join_by_invite, on_retry=self._say_unreachable(State.REGISTERING))
            await self._wait_for_approval(retry)
            await self._announce()
        except Stopped:
            return False
        return not self.stopping

    async def _self_register(self) -> None:
        cfg = self.config
        assert cfg.colony_prvkey
        executor = Executor.new(cfg.executorname, self.executorid, cfg.executortype, cfg.colonyname)
        executor.locationname = cfg.locationname
        try:
            await self.client.add_executor(executor, cfg.colony_prvkey)
        except ServerError as exc:
            if exc.status == 403:
                raise JoinRefused(
                    f"access denied while registering with the colony key: it is not the owner key of colony "
                    f"'{cfg.colonyname}' ({exc.message})"
                ) from None
            # A server without re-registration refuses an existing name: approving it may still work.
            self.log(f"add executor: {exc.message}")
        try:
            await self.client.approve_executor(cfg.colonyname, cfg.executorname, cfg.colony_prvkey)
        except ServerError as exc:
            raise JoinRefused(f"approving this executor with the colony key failed: {exc}") from None

    async def _join_by_invite(self) -> None:
        """Ask the admission service to let us in, unless we are in already (a reload)."""
        cfg = self.config
        with contextlib.suppress(ServerError):  # not a member (yet)
            if await self._approved():
                return
        try:
            await join_by_invite(self.client.transport, cfg.admission_url, cfg.invite, cfg.prvkey, cfg.colonyname,
                                 cfg.executorname, cfg.executortype, cfg.locationname)
        except AdmissionRefused as exc:
            raise JoinRefused(f"the admission service refused this executor ({exc.reason}): {exc}") from None
        self.log(f"admitted to colony '{cfg.colonyname}' by the admission service")

    async def _approved(self) -> bool:
        """Whether the colony has this executor, under this key, approved (ServerError: not a member)."""
        cfg = self.config
        me = await self.client.get_executor(cfg.colonyname, cfg.executorname, cfg.prvkey)
        return me.state == APPROVED and me.executorid == self.executorid

    async def _wait_for_approval(self, retry: Retry) -> None:
        cfg = self.config

        while True:
            try:
                if await retry.run(self._approved, on_retry=self._say_unreachable(State.REGISTERING)):
                    return
            except ServerError as exc:
                if exc.status not in (403, 404, 500):  # these mean: not (yet) a member
                    raise JoinRefused(f"checking approval failed: {exc}") from None
            if self.state != State.WAITING_APPROVAL:  # say it once, and again after a connection error
                self._set_state(State.WAITING_APPROVAL, join_command(cfg))
            if await pause(self._stop, cfg.approval_poll_interval):
                raise Stopped()

    async def _announce(self) -> None:
        """Register functions and report capabilities; neither failure stops the executor."""
        cfg = self.config
        offered = await self.slots.functions()
        await self.sync_functions(offered)
        try:
            await self.client.update_executor(cfg.colonyname, cfg.executorname, capabilities(), cfg.prvkey)
        except RPCError as exc:
            self.log(f"report capabilities: {exc}")
        self.emit(Registered(self.executorid, sorted(f.name for f in offered), self.slots.size))

    async def sync_functions(self, offered: list[FunctionInfo]) -> tuple[list[str], list[str]]:
        """Make the colony's list of our functions what the slots offer, without re-registering:
        `add_function` for new ones, `remove_function` for ones no longer offered. (added, removed);
        a refused call is logged and the rest goes on."""
        cfg = self.config
        try:
            known = {f.funcname: f for f in await self.client.get_functions_by_executor(cfg.colonyname, cfg.executorname, cfg.prvkey)}
        except RPCError:
            known = {}
        names = {info.name for info in offered}
        added, removed = [], []
        for info in offered:
            if info.name in known:
                continue
            fn = Function(
                executorname=cfg.executorname, executortype=cfg.executortype, colonyname=cfg.colonyname,
                funcname=info.name, description=info.description, args=info.args,
            )
            try:
                await self.client.add_function(fn, cfg.prvkey)
                added.append(info.name)
            except RPCError as exc:
                self.log(f"add function {info.name}: {exc}")
        for name, fn in known.items():
            if name in names:
                continue
            try:
                await self.client.remove_function(fn.functionid, cfg.prvkey)
                removed.append(name)
            except RPCError as exc:
                self.log(f"remove function {name}: {exc}")
        return added, removed

    @property
    def registered(self) -> bool:
        """Joined and announced: the colony knows our functions."""
        return self.state in (State.POLLING, State.STOPPING)

    # ------------------------------------------------------------------ serving

    async def _until_stopped(self, work: Awaitable[T]) -> T:
        """Await `work`, but give it up (cancelled, its request aborted) the moment stop() is called."""
        task = asyncio.ensure_future(work)
        assert self._stopped is not None
        await asyncio.wait({task, self._stopped}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise Stopped()

    async def serve(self) -> None:
        cfg = self.config
        self._free = asyncio.Queue()
        for slot in range(self.slots.size):
            self._free.put_nowait(slot)
        self._set_state(State.POLLING)
        await self._recover()
        retry = self._retry()
        suspect = False  # a poll broke in transit: the server may have assigned us a process we never saw
        try:
            while not self.stopping:
                if suspect:
                    try:
                        await self._recover(raise_transport=True)
                        suspect = False
                        retry.succeeded()
                        self._set_state(State.POLLING)  # the server answers again
                    except TransportError as exc:
                        await retry.failed(exc, self._say_unreachable(State.POLLING))
                        continue
                slot = self._free.get_nowait() if not self._free.empty() else await self._until_stopped(self._free.get())
                try:
                    process = await self._until_stopped(self.client.assign(cfg.colonyname, cfg.poll_timeout, cfg.prvkey))
                except ServerError as exc:
                    self._free.put_nowait(slot)
                    if exc.status != 403:
                        await retry.failed(exc, self._say_unreachable(State.POLLING))
                        continue
                    # Removed, rejected, or unregistered after a long silence: join again.
                    self.log(f"no longer a member of the colony ({exc.message}); joining again")
                    if not await self.register():
                        break
                    continue
                except RPCError as exc:
                    self._free.put_nowait(slot)
                    suspect = suspect or isinstance(exc, TransportError)
                    await retry.failed(exc, self._say_unreachable(State.POLLING))
                    continue
                except BaseException:
                    self._free.put_nowait(slot)
                    raise
                retry.succeeded()
                self._set_state(State.POLLING)
                if process is None:
                    self._free.put_nowait(slot)
                else:
                    self._start(slot, process)
        except Stopped:
            pass
        # Stopping: the poll is cut. Anything the server assigned meanwhile is served, not left RUNNING.
        await self._recover()
        while self._handlers:
            await asyncio.gather(*list(self._handlers), return_exceptions=True)

    async def _recover(self, raise_transport: bool = False) -> None:
        """Serve processes the server has assigned to us that we are not running (a lost assign reply)."""
        cfg = self.config
        try:
            running = await self.client.get_processes(cfg.colonyname, RECOVER_BATCH, RUNNING, cfg.prvkey, executortype=cfg.executortype)
        except RPCError as exc:
            if raise_transport and isinstance(exc, TransportError):
                raise
            self.log(f"looking for processes assigned to this executor: {exc}")
            return
        orphans = [p for p in running if p.assignedexecutorid == self.executorid and p.processid not in self._in_hand]
        for process in orphans:
            self.log(f"process {process.processid} was assigned to this executor but never reached it; running it now")
            slot = await self._free.get()  # even when stopping: it must not stay RUNNING
            self._start(slot, process)

    def _start(self, slot: int, process: Process) -> None:
        self._in_hand.add(process.processid)
        task = asyncio.ensure_future(self._handle(slot, process))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle(self, slot: int, process: Process) -> None:
        """One process: run it in its slot, free the slot, deliver the result. Its failure is its own."""
        spec = process.spec
        args = shortened(shipped.shown_args(spec.funcname, spec.args, spec.kwargs))
        self.emit(ProcessStarted(process.processid, spec.funcname, args, slot))
        self.emit(SlotChanged(slot, spec.funcname, process.processid))
        started = time.perf_counter()
        stream = None
        if shipped.STREAM_CHANNEL in spec.channels:  # Pool.stream reads the items there as they come
            stream = ChannelWriter(self.client, process.processid, shipped.STREAM_CHANNEL, self.config.prvkey,
                                   self._delivery_retry)
        try:
            outcome, result = await self._execute(slot, process, stream.put if stream else None)
        except Exception as exc:  # a bug of ours must not leave the process RUNNING
            outcome, result = Outcome.FAILED, JobResult(error=f"the executor failed running it: {type(exc).__name__}: {exc}")
        millis = round((time.perf_counter() - started) * 1000, 1)
        self.emit(SlotChanged(slot))
        self._free.put_nowait(slot)  # the next assign need not wait for this delivery
        if stream is not None:
            await stream.finish(outcome == Outcome.DONE, result.error)  # all items in the channel before the close
        try:
            outcome, error = await self._deliver(process, outcome, result)
        finally:
            self._in_hand.discard(process.processid)
        if outcome == Outcome.DONE:
            self.done += 1
        elif outcome == Outcome.FAILED:
            self.failed += 1
        output = shortened(result.output) if outcome == Outcome.DONE else []
        self.emit(ProcessEnded(
            process.processid, spec.funcname, args, slot, outcome, output, error, millis, self.done, self.failed,
        ))

    async def _execute(self, slot: int, process: Process, on_emit: Emit | None = None) -> tuple[Outcome, JobResult]:
        """Run the job; stop it at its deadline, on cancel, or on stop-now. `on_emit`: streamed items."""
        spec = process.spec
        if spec.funcname == shipped.FUNCNAME and not self.config.allow_code:
            return Outcome.FAILED, JobResult(error=shipped.NOT_ALLOWED)  # refused before any slot sees it
        job = Job(process.processid, spec.funcname, list(spec.args), dict(spec.kwargs))
        run = asyncio.ensure_future(self.slots.run(slot, job, on_emit))
        assert self._stopped_now is not None
        stop_now = self._stopped_now
        limit = spec.maxexectime if spec.maxexectime > 0 else None
        # Most processes end within cancel_watch_after: only a longer one gets a cancel watch.
        first = self.config.cancel_watch_after if limit is None else min(limit, self.config.cancel_watch_after)
        await asyncio.wait({run, stop_now}, timeout=first, return_when=asyncio.FIRST_COMPLETED)
        cancelled: asyncio.Future[None] | None = None
        if not run.done() and not stop_now.done():
            cancelled = asyncio.ensure_future(self._watch_cancel(process))
            try:
                await asyncio.wait({run, cancelled, stop_now}, timeout=None if limit is None else max(0.0, limit - first),
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                cancelled.cancel()
        if run.done():
            return self._finished(run)
        await self._halt(slot, run)
        if stop_now.done():
            return Outcome.FAILED, JobResult(error=STOPPED_BY_OWNER)
        if cancelled is not None and cancelled.done() and not cancelled.cancelled():
            return Outcome.CANCELLED, JobResult(error="cancelled")
        # The deadline passed. The server retries it when retries are left (-1 = no limit): leave it to the server.
        if spec.maxretries < 0 or process.retries < spec.maxretries:
            return Outcome.RELEASED, JobResult(error=f"maxexectime {spec.maxexectime} s passed; the server retries it")
        return Outcome.FAILED, JobResult(error=f"{spec.funcname} did not finish within maxexectime {spec.maxexectime} s")

    @staticmethod
    def _finished(run: asyncio.Future[JobResult]) -> tuple[Outcome, JobResult]:
        try:
            result = run.result()
        except SlotLost as exc:
            return Outcome.FAILED, JobResult(error=f"the slot running it failed: {exc}")
        return (Outcome.DONE if result.ok else Outcome.FAILED), result

    async def _halt(self, slot: int, run: asyncio.Future[JobResult]) -> None:
        """Interrupt the code in `slot`; if it does not stop within kill_grace, replace the slot."""
        await self.slots.interrupt(slot)
        try:
            await asyncio.wait_for(asyncio.shield(run), self.config.kill_grace)
            return
        except (TimeoutError, SlotLost, asyncio.CancelledError):
            pass
        self.log(f"slot {slot} did not stop within {self.config.kill_grace:g} s: replacing it")
        try:
            await self.slots.replace(slot)
        finally:
            run.cancel()
            with contextlib.suppress(BaseException):
                await run

    async def _watch_cancel(self, process: Process) -> None:
        """Return when the server says the process was cancelled."""
        backoff = Backoff(self.config.max_backoff, self.config.first_backoff)
        while True:
            try:
                await self.client.subscribe_process(process, CANCELLED, 60, self.config.prvkey)
                return
            except RequestTimeout:
                continue  # the subscription's own time ran out: subscribe again
            except RPCError:
                await asyncio.sleep(backoff.next())

    async def _deliver(self, process: Process, outcome: Outcome, result: JobResult) -> tuple[Outcome, str]:
        """Tell the server how it ended; returns the outcome as it stands afterwards and the error shown."""
        cfg = self.config
        if outcome in (Outcome.CANCELLED, Outcome.RELEASED):
            return outcome, result.error  # the server has it already; nothing of ours to send
        # The server takes logs only while the process RUNS: what was printed goes just before the close.
        # PostgreSQL text cannot hold NUL: the server refuses the whole line. Show it as \x00.
        log = Log(processid=process.processid, message=result.log.replace("\x00", "\\x00"))
        if result.log:
            refused = await self._send(process, "add log", lambda: self.client.add_log(log, cfg.prvkey))
            if refused is None:
                return Outcome.LOST, "no longer assigned to this executor"
            if refused:
                self.log(f"the log of process {process.processid[:12]} was refused by the server: {refused}")
        if outcome == Outcome.DONE:
            refused = await self._send(process, "close", lambda: self.client.close(process.processid, cfg.prvkey, result.output))
            if refused == "":
                return Outcome.DONE, ""
            if refused is None:
                return Outcome.LOST, "no longer assigned to this executor"
            outcome, result = Outcome.FAILED, JobResult(error=f"the server refused the output: {refused}")
        refused = await self._send(process, "fail", lambda: self.client.fail(process.processid, cfg.prvkey, [result.error]))
        if refused is None:
            return Outcome.LOST, "no longer assigned to this executor"
        return Outcome.FAILED, result.error if refused == "" else f"{result.error} (the server refused even that: {refused})"

    async def _send(self, process: Process, what: str, call: Callable[[], Awaitable[Any]]) -> str | None:
        """Deliver through any outage. "" when taken, the server's reason when refused, None when no longer ours."""
        retry = self._delivery_retry()

        def on_retry(exc: BaseException, delay: float) -> None:
            self.log(f"{what} {process.processid[:12]}: server unreachable, retrying in {delay:g} s")

        try:
            await retry.run(call, on_retry=on_retry)
            return ""
        except Stopped:
            self.log(f"{what} {process.processid[:12]}: given up by stop-now; it will be found at the next start")
            return None
        except ServerError as exc:
            if exc.status in (403, 404):  # requeued, cancelled, removed, or assigned elsewhere meanwhile
                self.log(f"{what} {process.processid[:12]}: {exc}")
                return None
            return exc.message
        except RPCError as exc:  # a reply we could not read: as good as a refusal
            return str(exc)
