"""`BrowserSlots`: each slot a Web Worker with its own Pyodide, owned by the executor worker.

The JS side (web/worker.mjs) registers the module `wasm_slot_host`: it spawns slot workers
(web/slot.mjs), runs jobs there, interrupts them (Pyodide's interrupt buffer when the page is
cross-origin isolated, plus a cancel message for code that is awaiting) and replaces them
(`Worker.terminate()` and a fresh worker). Jobs and results cross as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from .._compat import create_proxy, js_exception_type, slot_host
from .job import Emit, Job, JobResult
from .slots import FunctionInfo, SlotLost, SlotPool


class BrowserSlots(SlotPool):
    def __init__(self, size: int) -> None:
        self.size = size
        self._host = slot_host()

    async def start(self) -> None:
        await self._host.resize(self.size)

    async def functions(self) -> list[FunctionInfo]:
        ready = json.loads(str(await self._host.functions()))
        return [FunctionInfo.from_dict(f) for f in ready["functions"]]

    async def run(self, slot: int, job: Job, on_emit: Emit | None = None) -> JobResult:
        # A Python callable handed to JS lives only for the call unless proxied: this one must
        # outlive it (items arrive while the job runs), and is destroyed once the job is over.
        emit = create_proxy(lambda text: on_emit(str(text))) if on_emit is not None else None
        try:
            text = await self._host.run(slot, job.to_json(), emit)
        except js_exception_type() as exc:
            raise SlotLost(str(getattr(exc, "message", exc))) from None
        finally:
            if emit is not None:
                emit.destroy()
        return JobResult.from_json(str(text))

    async def set_functions(self, source: str) -> dict[str, Any]:
        """Every slot serves `source` (the page's Functions panel) besides its own functions, or
        none does: {"functions": [...], "panel": names} or {"error": why it did not load}."""
        return dict(json.loads(str(await self._host.setFunctions(source))))

    def set_package_index(self, url: str) -> None:
        """Where slots may install `requires` their bundle lacks from ("" for nowhere)."""
        self._host.setPackageIndex(url)

    def set_distribution(self, url: str) -> None:
        """The owner's mirror of a Pyodide release ("" for none): slots load packages their bundle
        lacks from its lock and wheels (web/pyodide-boot.mjs); slots booted otherwise start again."""
        self._host.setDistribution(url)

    async def interrupt(self, slot: int) -> None:
        self._host.interrupt(slot)

    async def replace(self, slot: int) -> None:
        self._host.replace(slot)  # the fresh worker boots in the background; run() waits for it
