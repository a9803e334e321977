"""The Python side of the executor worker (web/worker.mjs): commands in, events out.

Pyodide only. The page sends commands (`events.parse_command`); everything the page shows
comes back as events (`events.to_message`). This worker holds the executor's key; functions
run in slot workers (`BrowserSlots`), which do not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ._compat import keystore, page_scheme, post_message
from .crypto import CryptoError, gen_id, gen_prvkey
from .engine.browser_slots import BrowserSlots
from .engine.config import ExecutorConfig
from .engine.executor import ColonyExecutor
from .events import (
    CommandError,
    Event,
    Functions,
    FunctionsChanged,
    Hold,
    Identity,
    IdentityReady,
    LogLine,
    Start,
    State,
    StateChanged,
    Stop,
    Visibility,
    parse_command,
    to_message,
)
from .resources import WASM32_HEAP_MIB
from .urls import BadServerURL, check_server_url, check_server_urls

_prvkey = ""  # the executor's own key: loaded from the worker's store, never sent to the page
_executor: ColonyExecutor | None = None


@dataclass
class PageSays:
    """What the page last said of itself, kept for an executor started later."""

    hidden: bool = False  # `Visibility`
    held: bool = False  # `Hold`: the owner paused serving
    held_reason: str = ""

    def tell(self, executor: ColonyExecutor) -> None:
        executor.set_hidden(self.hidden)
        executor.set_held(self.held, self.held_reason)


_page = PageSays()
_background: set[asyncio.Future[None]] = set()
_task: asyncio.Task[None] | None = None
_slots: BrowserSlots | None = None
_functions: asyncio.Future[None] | None = None  # the Functions panel's code being applied


def slots(size: int = 1) -> BrowserSlots:
    global _slots
    if _slots is None:
        _slots = BrowserSlots(size)
    return _slots


def post(event: Event) -> None:
    post_message(to_message(event))


async def identity(legacy: str | None) -> None:
    """Load the stored key, or take the one an older page kept in localStorage, or make one."""
    global _prvkey
    store = keystore()
    notes: list[str] = []  # why this is not the stored identity, for the page to show
    try:
        stored = await store.load()
    except Exception as exc:  # no IndexedDB (some private modes), or a store we cannot decrypt
        stored = None
        notes.append(f"the stored key could not be read ({exc}): a new one was made")
    if legacy and stored is None and not notes:
        try:
            legacy = legacy if int(await store.number()) == 0 else None  # an old page's key is the first tab's
        except Exception:
            legacy = None
    key = str(stored) if stored else (legacy or gen_prvkey())
    try:
        executorid = gen_id(key)
    except CryptoError as exc:
        notes.append(f"the stored key is unusable ({exc}); a new one was made")
        key = gen_prvkey()
        executorid = gen_id(key)
    if key != stored:
        try:
            await store.save(key)
        except Exception as exc:
            notes.append(f"the key could not be stored ({exc}): a reload will be a new executor")
    _prvkey = key
    post(IdentityReady(executorid, "; ".join(notes)))
    post(StateChanged(State.READY, "Fill in the form and click Start Executor.", executorid))


async def apply_functions(source: str) -> None:
    """The Functions panel: every slot serves the new code, then the colony hears of the functions
    added and dropped (no re-registration). Code that fails to load changes nothing."""
    pool = slots()
    result = await pool.set_functions(source)
    if "error" in result:
        post(FunctionsChanged(error=str(result["error"])))
        return
    names = sorted(str(f["name"]) for f in result["functions"])
    added: list[str] = []
    removed: list[str] = []
    if _executor is not None and _executor.registered:
        added, removed = await _executor.membership.sync_functions(await pool.functions())
    post(FunctionsChanged(names, list(result.get("panel") or []), added, removed))


def start(command: Start) -> None:
    global _executor, _task
    if _task is not None and not _task.done():
        post(LogLine("the executor is already running"))
        return
    if not _prvkey:
        post(LogLine("the executor's key is not loaded yet"))
        return
    try:
        server_url = check_server_urls(command.server_url, page_scheme())
        admission_url = check_server_url(command.admission_url, page_scheme(), "Admission URL") if command.invite else ""
        index = check_server_url(command.package_index, page_scheme(), "Package index URL") if command.package_index else ""
        distribution = (check_server_url(command.pyodide_distribution, page_scheme(), "Pyodide distribution URL")
                        if command.pyodide_distribution else "")
    except BadServerURL as exc:
        post(StateChanged(State.ERROR, str(exc)))  # nothing was sent
        return
    config = ExecutorConfig(
        server_url=server_url, colonyname=command.colonyname, executorname=command.executorname,
        executortype=command.executortype or "wasm", prvkey=_prvkey, colony_prvkey=command.colony_prvkey,
        allow_code=command.allow_code, admission_url=admission_url, invite=command.invite,
        locationname=command.locationname, slot_memory_mib=min(command.slot_memory_mib, WASM32_HEAP_MIB),
    )
    pool = slots(command.slots)
    pool.size = command.slots
    pool.set_package_index(index)
    pool.set_distribution(distribution)
    _executor = ColonyExecutor(config, pool, on_event=post)
    _page.tell(_executor)
    _task = asyncio.ensure_future(_run(_executor))


async def _run(executor: ColonyExecutor) -> None:
    try:
        if _functions is not None:  # the panel's code, sent just before Start, is served from the start
            await asyncio.shield(_functions)
        await executor.run()
    except Exception as exc:
        post(LogLine(f"executor stopped: {type(exc).__name__}: {exc}"))
    finally:
        await executor.client.aclose()


def queue_functions(source: str) -> None:
    """Apply the panel's code once any earlier application is over: in the order the page sent them."""
    global _functions
    previous = _functions

    async def after_previous() -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await apply_functions(source)
        except Exception as exc:
            post(FunctionsChanged(error=f"{type(exc).__name__}: {exc}"))

    _functions = asyncio.ensure_future(after_previous())


def handle(message: Any) -> None:
    try:
        command = parse_command(message.to_py() if hasattr(message, "to_py") else dict(message))
    except CommandError as exc:
        post(LogLine(str(exc)))
        return
    if isinstance(command, Identity):
        _background.add(task := asyncio.ensure_future(identity(command.prvkey)))
        task.add_done_callback(_background.discard)
    elif isinstance(command, Start):
        start(command)
    elif isinstance(command, Stop) and _executor is not None:
        _executor.stop(now=command.now)
    elif isinstance(command, Functions):
        queue_functions(command.source)
    elif isinstance(command, Visibility | Hold):
        if isinstance(command, Visibility):
            _page.hidden = command.hidden
        else:
            _page.held, _page.held_reason = command.held, command.reason
        if _executor is not None:
            _page.tell(_executor)
