"""CPython slots: child processes that an interrupt stops, and that are replaced when it does not."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from wasm_executor.engine.job import Job
from wasm_executor.engine.process_slots import ProcessSlots

STUBBORN = '''
import time

@registry.register()
def stubborn():
    while True:
        try:
            time.sleep(0.01)
        except KeyboardInterrupt:
            print("not stopping")
'''


async def test_interrupt_stops_pure_python_and_replace_kills_what_will_not_stop(tmp_path: Path) -> None:
    functions = tmp_path / "functions.py"
    functions.write_text(STUBBORN)
    slots = ProcessSlots(2, str(functions))
    try:
        await slots.start()
        assert {"stubborn", "spin", "echo"} <= {f.name for f in await slots.functions()}
        spin = asyncio.ensure_future(slots.run(0, Job("a", "spin", [30])))
        stubborn = asyncio.ensure_future(slots.run(1, Job("b", "stubborn")))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await slots.interrupt(0)
        result = await asyncio.wait_for(spin, 2)
        assert result.interrupted and time.monotonic() - started < 1
        await slots.interrupt(1)
        await asyncio.sleep(0.2)
        assert not stubborn.done()
        await slots.replace(1)
        assert isinstance(stubborn.exception(), Exception)
        assert (await slots.run(1, Job("c", "echo", ["fresh"]))).output == ["fresh"]
        assert (await slots.run(0, Job("d", "add", ["1", "2"]))).output == [3]
    finally:
        await slots.aclose()
