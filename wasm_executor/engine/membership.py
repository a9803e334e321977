"""Membership: join the colony (self-register, invite, or wait for an admin), then announce what we offer.

Handed what it needs (config, session, reporter, slots, stop signal), it never serves: the
executor calls `register` at start and again when the server says we are no longer a member.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from ..crypto import gen_id
from ..errors import RPCError, ServerError
from ..events import Registered, State
from ..joining import AdmissionRefused, join_by_invite
from ..objects import APPROVED, Capabilities, Executor, Function
from ..platform_info import capabilities
from ..retry import Retry, Stopped, pause
from .config import ExecutorConfig, Session
from .farewell import farewell_for
from .report import Reporter
from .slots import FunctionInfo, SlotPool


class JoinRefused(Exception):
    """The server refused to let us in for a reason a retry will not change."""


def join_command(cfg: ExecutorConfig) -> str:
    """The line an admin runs to let this executor in (its key never leaves the browser)."""
    return (
        f"colonies executor add --name {cfg.executorname} --type {cfg.executortype} "
        f"--executorid {gen_id(cfg.prvkey)} --approve"
    )


class Membership:
    def __init__(
        self, config: ExecutorConfig, session: Session, report: Reporter, slots: SlotPool,
        stop: asyncio.Event, retry: Callable[[], Retry], slot_memory_mib: Callable[[], int],
        report_presence: Callable[[], Awaitable[None]],
    ) -> None:
        """`report_presence`: tell the colony our capabilities and how we stand (PresenceReporter)."""
        self.config, self.session, self.report, self.slots = config, session, report, slots
        self._stop, self._retry, self._slot_memory_mib = stop, retry, slot_memory_mib
        self._report_presence = report_presence
        self._admitted_at = ""  # the admission service's mark of our join (binds our farewell to it)

    async def register(self) -> bool:
        """Join the colony; True once approved and announced, False if stopped before that."""
        cfg = self.config
        self.report.set_state(State.REGISTERING, cfg.server_url)
        retry = self._retry()
        say = self.report.say_unreachable(State.REGISTERING)
        try:
            if cfg.colony_prvkey:
                await retry.run(self._self_register, on_retry=say)
            elif cfg.invite:
                await retry.run(self._join_by_invite, on_retry=say)
            await self._wait_for_approval(retry)
            await self.announce()
        except Stopped:
            return False
        return not self._stop.is_set()

    async def _self_register(self) -> None:
        cfg, s = self.config, self.session
        assert cfg.colony_prvkey
        executor = Executor.new(s.executorname, s.executorid, s.executortype, s.colonyname)
        executor.locationname = cfg.locationname
        try:
            await s.client.add_executor(executor, cfg.colony_prvkey)
        except ServerError as exc:
            if exc.status == 403:
                raise JoinRefused(
                    f"access denied while registering with the colony key: it is not the owner key of colony "
                    f"'{s.colonyname}' ({exc.message})"
                ) from None
            # A server without re-registration refuses an existing name: approving it may still work.
            self.report.log(f"add executor: {exc.message}")
        try:
            await s.client.approve_executor(s.colonyname, s.executorname, cfg.colony_prvkey)
        except ServerError as exc:
            raise JoinRefused(f"approving this executor with the colony key failed: {exc}") from None

    async def _join_by_invite(self) -> None:
        """Ask the admission service to let us in, unless we are in already (a reload)."""
        cfg, s = self.config, self.session
        with contextlib.suppress(ServerError):  # not a member (yet)
            if await self.approved():
                return
        try:
            reply = await join_by_invite(s.client.transport, cfg.admission_url, cfg.invite, s.prvkey, s.colonyname,
                                         s.executorname, s.executortype, cfg.locationname)
            self._admitted_at = str(reply.get("admitted_at") or "")
        except AdmissionRefused as exc:
            raise JoinRefused(f"the admission service refused this executor ({exc.reason}): {exc}") from None
        self.report.log(f"admitted to colony '{s.colonyname}' by the admission service")

    async def approved(self) -> bool:
        """Whether the colony has this executor, under this key, approved (ServerError: not a member)."""
        s = self.session
        me = await s.client.get_executor(s.colonyname, s.executorname, s.prvkey)
        return me.state == APPROVED and me.executorid == s.executorid

    async def _wait_for_approval(self, retry: Retry) -> None:
        while True:
            try:
                if await retry.run(self.approved, on_retry=self.report.say_unreachable(State.REGISTERING)):
                    return
            except ServerError as exc:
                if exc.status not in (403, 404, 500):  # these mean: not (yet) a member
                    raise JoinRefused(f"checking approval failed: {exc}") from None
            if self.report.state != State.WAITING_APPROVAL:  # say it once, and again after a connection error
                self.report.set_state(State.WAITING_APPROVAL, join_command(self.config))
            if await pause(self._stop, self.config.approval_poll_interval):
                raise Stopped()

    def capabilities(self) -> Capabilities:
        """The device, what it gives processes, the runtime, the invite we joined with."""
        return capabilities(self.slots.size, self._slot_memory_mib(), self.config.invite.partition(".")[0])

    async def announce(self) -> None:
        """Register functions and report capabilities; neither failure stops the executor."""
        s = self.session
        offered = await self.slots.functions()
        await self.sync_functions(offered)
        await self._report_presence()
        self.report.emit(Registered(s.executorid, sorted(f.name for f in offered), self.slots.size))
        self.report.emit(farewell_for(self.config, s, self._admitted_at))

    async def sync_functions(self, offered: list[FunctionInfo]) -> tuple[list[str], list[str]]:
        """Make the colony's list of our functions what the slots offer, without re-registering:
        `add_function` for new ones, `remove_function` for ones no longer offered. (added, removed);
        a refused call is logged and the rest goes on."""
        s = self.session
        try:
            known = {f.funcname: f for f in await s.client.get_functions_by_executor(s.colonyname, s.executorname, s.prvkey)}
        except RPCError:
            known = {}
        names = {info.name for info in offered}
        added, removed = [], []
        for info in offered:
            if info.name in known:
                continue
            fn = Function(executorname=s.executorname, executortype=s.executortype, colonyname=s.colonyname,
                          funcname=info.name, description=info.description, args=info.args)
            try:
                await s.client.add_function(fn, s.prvkey)
                added.append(info.name)
            except RPCError as exc:
                self.report.log(f"add function {info.name}: {exc}")
        for name, fn in known.items():
            if name in names:
                continue
            try:
                await s.client.remove_function(fn.functionid, s.prvkey)
                removed.append(name)
            except RPCError as exc:
                self.report.log(f"remove function {name}: {exc}")
        return added, removed
