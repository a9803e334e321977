"""An in-memory colony behind `MockTransport`, for fast tests of the executor's rules.

It implements just what an executor uses, with the real server's rules where they matter
(assign only to approved members of the type, close only by the assigned executor while
RUNNING, 404 on an empty poll, cancel). Tests script faults on top: outages, lost replies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from wasm_executor import ColoniesClient
from wasm_executor.errors import ConnectionFailed, ServerError
from wasm_executor.objects import CANCELLED, FAILED, RUNNING, SUCCESS, WAITING, FunctionSpec, Process
from wasm_executor.transport.mock import MockTransport, Request


@dataclass
class FakeColony:
    name: str = "dev"
    executors: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> executor JSON
    processes: dict[str, Process] = field(default_factory=dict)
    logs: dict[str, list[str]] = field(default_factory=dict)
    functions: list[dict[str, Any]] = field(default_factory=list)
    channels: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)  # processid -> (sequence, type, text)
    down: bool = False  # every request fails as if the network were gone
    lose_next_assign_reply: bool = False  # the server assigns, the reply never arrives
    refuse_close: str = ""  # the server refuses closes with this message (HTTP 400)
    fail_next_assign_reply: bool = False  # the server assigns, then answers 500 (seen: a panic resolving a workflow)
    paused: bool = False  # `colonies process pause`: assigns are held until resume, then 408
    stale_listing: float = 0.0  # getprocesses answers this many seconds late, with the list as it was
    hold_closes: bool = False  # closes wait until a listing has been read (then go through while it is on its way)
    _closes_open: asyncio.Event = field(default_factory=asyncio.Event)
    assigns: list[dict[str, Any]] = field(default_factory=list)  # every assign's payload, as sent
    assigned_count: dict[str, int] = field(default_factory=dict)  # processid -> times assigned
    calls: list[str] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _state_change: asyncio.Event = field(default_factory=asyncio.Event)

    def client(self) -> ColoniesClient:
        return ColoniesClient("http://fake", transport=MockTransport(self.handle, self.subscribe))

    # ------------------------------------------------------------ what tests do

    def approve(self, name: str, executorid: str, executortype: str) -> None:
        self.executors[name] = {
            "executorid": executorid, "executortype": executortype, "executorname": name, "colonyname": self.name, "state": 1,
        }

    def submit(self, funcname: str, *args: Any, executortype: str = "wasm", **spec_fields: Any) -> Process:
        spec = FunctionSpec.new(funcname, executortype, self.name)
        spec.args = list(args)
        for k, v in spec_fields.items():
            setattr(spec, k, v)
        p = Process(processid=secrets.token_hex(32), spec=spec, state=WAITING)
        self.processes[p.processid] = p
        self._wake.set()
        return p

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def remove_executor(self, name: str) -> None:
        """What an admin's `colonies executor remove` does: its RUNNING processes go back to the queue."""
        ex = self.executors.pop(name)
        for p in self.processes.values():
            if p.state == RUNNING and p.assignedexecutorid == ex["executorid"]:
                p.state, p.assignedexecutorid, p.isassigned = WAITING, "", False
        self._wake.set()

    def cancel(self, processid: str) -> None:
        self.processes[processid].state = CANCELLED
        self._changed()

    def requeue(self, processid: str) -> None:
        """What the server does past maxexectime with retries left."""
        p = self.processes[processid]
        p.state, p.assignedexecutorid, p.isassigned = WAITING, "", False
        p.retries += 1
        self._changed()
        self._wake.set()

    async def wait_until(self, predicate: Any, timeout: float = 5.0) -> None:
        async def loop() -> None:
            while not predicate():
                self._state_change.clear()
                await self._state_change.wait()

        await asyncio.wait_for(loop(), timeout)

    def state(self, processid: str) -> int:
        return self.processes[processid].state

    def _changed(self) -> None:
        self._state_change.set()

    # ------------------------------------------------------------ the server

    def _member(self, request: Request) -> dict[str, Any]:
        for ex in self.executors.values():
            if ex["executorid"] == request.signer and ex["state"] == 1:
                return ex
        raise ServerError("Access denied, not a member of Colony", 403)

    def _owned(self, request: Request) -> Process:
        p = self.processes.get(request.payload["processid"])
        if p is None:
            raise ServerError("Process not found", 404)
        if p.state != RUNNING or p.assignedexecutorid != request.signer:
            raise ServerError("Access denied, process not assigned to this executor or not running", 403)
        return p

    async def handle(self, request: Request) -> Any:
        self.calls.append(request.msgtype)
        self._changed()  # `wait_until` may wait for a request too
        if self.down:
            raise ConnectionFailed("cannot reach http://fake: connection refused")
        msg, body = request.msgtype, request.payload
        if msg == "addexecutormsg":
            ex = dict(body["executor"], state=0)
            self.executors[ex["executorname"]] = ex
            return ex
        if msg == "approveexecutormsg":
            self.executors[body["executorname"]]["state"] = 1
            return None
        if msg == "getexecutormsg":
            ex = self.executors.get(body["executorname"])
            if ex is None:
                raise ServerError("Executor not found", 404)
            return ex
        if msg in ("getfunctionsmsg",):
            return [f for f in self.functions if f["executorname"] == body["executorname"]]
        if msg == "addfunctionmsg":
            fun = dict(body["fun"], functionid=secrets.token_hex(32))
            self.functions.append(fun)
            return fun
        if msg == "removefunctionmsg":
            self.functions = [f for f in self.functions if f["functionid"] != body["functionid"]]
            return None
        if msg == "updateexecutormsg":
            ex = self.executors.get(body["executorname"])
            if ex is not None:
                ex["capabilities"] = body["capabilities"]
            return None
        if msg == "assignprocessmsg":
            return await self._assign(request)
        if msg == "getpausestatusmsg":
            self._member(request)
            return {"colonyname": body["colonyname"], "ispaused": self.paused}
        if msg == "getprocessesmsg":
            self._member(request)
            listed = [p.to_dict() for p in self.processes.values() if p.state == body["state"]]
            self._closes_open.set()
            if self.stale_listing:
                await asyncio.sleep(self.stale_listing)  # a slow database: the reply tells the past
            return listed
        if msg == "getprocessmsg":
            return self.processes[body["processid"]].to_dict()
        if msg == "addlogmsg":
            self._owned(request)
            self.logs.setdefault(body["processid"], []).append(body["message"])
            return None
        if msg == "channelappendmsg":
            p = self._owned(request)
            if body["name"] not in p.spec.channels:
                raise ServerError("Channel not found", 404)
            entry = (body["sequence"], body.get("payloadtype", ""), base64.b64decode(body["payload"]).decode())
            self.channels.setdefault(p.processid, []).append(entry)
            return None
        if msg == "closesuccessfulmsg":
            if self.hold_closes:
                await self._closes_open.wait()
            p = self._owned(request)
            if self.refuse_close:
                raise ServerError(self.refuse_close, 400)
            p.state, p.output = SUCCESS, body.get("out", [])
            self._changed()
            return None
        if msg == "closefailedmsg":
            p = self._owned(request)
            p.state, p.errors = FAILED, body["errors"]
            self._changed()
            return None
        raise ServerError(f"the fake colony does not know {msg}", 400)

    async def _assign(self, request: Request) -> Any:
        self.assigns.append(request.payload)
        deadline = asyncio.get_running_loop().time() + request.payload["timeout"]
        cpu, mem = _millicores(request.payload["availablecpu"]), _bytes(request.payload["availablemem"])
        while True:
            me = self._member(request)  # checked on every wake: a removed executor's poll ends in 403
            for p in [] if self.paused else self.processes.values():
                cond = p.spec.conditions
                if (p.state == WAITING and cond.executortype == me["executortype"]
                        and _millicores(cond.cpu, 0) <= cpu and _bytes(cond.mem, 0) <= mem):
                    p.state, p.assignedexecutorid, p.isassigned = RUNNING, me["executorid"], True
                    self.assigned_count[p.processid] = self.assigned_count.get(p.processid, 0) + 1
                    self._changed()
                    if self.lose_next_assign_reply:
                        self.lose_next_assign_reply = False
                        raise ConnectionFailed("connection reset while reading the reply")
                    if self.fail_next_assign_reply:
                        self.fail_next_assign_reply = False
                        raise ServerError("runtime error: invalid memory address or nil pointer dereference", 500)
                    return p.to_dict()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                if self.paused:
                    raise ServerError("Assignment timeout: colony assignments are paused", 408)
                raise ServerError("No process available for assignment", 404)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), left)

    async def subscribe(self, request: Request) -> AsyncIterator[Any]:
        self.calls.append(request.msgtype)  # our SDK never sends subscribeprocessmsg: tests look here
        body = request.payload
        while True:
            p = self.processes.get(body["processid"])
            if p is not None and p.state == body["state"]:
                yield p.to_dict()
                return
            self._state_change.clear()
            await self._state_change.wait()


_MEM_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "K": 1000, "M": 1000**2, "G": 1000**3}


def _millicores(text: str, unset: int = 2**63 - 1) -> int:
    """The server's reading of a CPU text: "" is unlimited, "N m" millicores, anything else 0."""
    if not text:
        return unset
    return int(text[:-1]) if text.endswith("m") else 0


def _bytes(text: str, unset: int = 2**63 - 1) -> int:
    if not text:
        return unset
    for unit in sorted(_MEM_UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return int(text[: -len(unit)]) * _MEM_UNITS[unit]
    raise ServerError(f"error converting memory to int: {text}", 400)
