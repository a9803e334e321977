"""`ProcessSlots`: each slot a CPython child process, so runaway code can always be stopped.

Interrupt is SIGINT (KeyboardInterrupt in the function); replace is SIGKILL and a new child.
Children run in their own session, so Ctrl-C in the terminal reaches only the executor, which
then decides what to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys

from . import slot_protocol
from .job import Emit, Job, JobResult
from .slots import FunctionInfo, SlotLost, SlotPool

STARTUP_TIMEOUT = 60.0
LINE_LIMIT = 64 * 1024 * 1024  # one JobResult line; outputs larger than this are refused as a slot failure


class _Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lock = asyncio.Lock()

    async def read_line(self) -> str:
        assert self.proc.stdout is not None
        try:
            line = await self.proc.stdout.readline()
        except ValueError as exc:  # longer than the limit
            raise SlotLost(f"the slot's answer was too long ({exc})") from None
        if not line:
            raise SlotLost(f"the slot process ended (exit code {await self.proc.wait()})")
        return line.decode("utf-8")

    async def read_message(self) -> tuple[str, str]:
        try:
            return slot_protocol.decode(await self.read_line())
        except slot_protocol.SlotProtocolError as exc:
            raise SlotLost(str(exc)) from None


class ProcessSlots(SlotPool):
    def __init__(self, size: int = 1, functions_file: str | None = None) -> None:
        self.size = size
        self.functions_file = functions_file
        self._children: dict[int, _Child] = {}
        self._functions: list[FunctionInfo] = []

    async def _spawn(self, slot: int) -> _Child:
        cmd = [sys.executable, "-m", "wasm_executor.engine.slot_process"]
        if self.functions_file:
            cmd += ["--functions", self.functions_file]
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True, limit=LINE_LIMIT,
        )
        child = _Child(proc)
        kind, info = await asyncio.wait_for(child.read_message(), STARTUP_TIMEOUT)
        if kind != slot_protocol.READY:
            raise SlotLost(f"the slot process said {kind!r} before it was ready")
        ready = json.loads(info)
        self._functions = [FunctionInfo.from_dict(f) for f in ready["functions"]]
        self._children[slot] = child
        return child

    async def start(self) -> None:
        missing = [i for i in range(self.size) if i not in self._children]
        await asyncio.gather(*(self._spawn(i) for i in missing))

    async def functions(self) -> list[FunctionInfo]:
        if not self._functions:
            await self.start()
        return self._functions

    async def run(self, slot: int, job: Job, on_emit: Emit | None = None) -> JobResult:
        child = self._children.get(slot) or await self._spawn(slot)
        async with child.lock:
            assert child.proc.stdin is not None
            try:
                child.proc.stdin.write((job.to_json() + "\n").encode("utf-8"))
                await child.proc.stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise SlotLost(f"the slot process is gone ({exc})") from None
            while True:  # a streaming function's items come first, then the result (slot_protocol)
                kind, text = await child.read_message()
                if kind == slot_protocol.RESULT:
                    return JobResult.from_json(text)
                if kind == slot_protocol.EMIT and on_emit is not None:
                    on_emit(text)

    async def interrupt(self, slot: int) -> None:
        child = self._children.get(slot)
        if child is not None and child.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.proc.pid, signal.SIGINT)

    async def _kill(self, child: _Child) -> None:
        if child.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.proc.kill()
        await child.proc.wait()

    async def replace(self, slot: int) -> None:
        child = self._children.pop(slot, None)
        if child is not None:
            await self._kill(child)
        await self._spawn(slot)

    async def aclose(self) -> None:
        children, self._children = list(self._children.values()), {}
        for child in children:
            if child.proc.stdin is not None:
                child.proc.stdin.close()
            await self._kill(child)
