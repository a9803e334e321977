"""The Functions panel's rules without a browser: what a slot serves after new code
(wasm_executor/slot_worker.py, which imports nothing of Pyodide), and how the executor brings the
colony's list of its functions in line (add_function, remove_function) on a mock transport."""

from __future__ import annotations

import json

import pytest

from tests.helpers.fake_colony import FakeColony
from tests.helpers.serving import serving
from wasm_executor import slot_worker
from wasm_executor.engine.job import Job
from wasm_executor.engine.slots import FunctionInfo

TRIPLE = '''
@registry.register(description="Three times x")
def triple(x):
    return number(x, "triple: x") * 3
'''


@pytest.fixture
def slot() -> slot_worker.BrowserSlot:
    return slot_worker.BrowserSlot()


async def run(slot: slot_worker.BrowserSlot, funcname: str, *args: object) -> dict[str, object]:
    return json.loads(await slot.run(Job("p", funcname, list(args)).to_json()))


async def test_code_that_loads_is_served_and_replaces_the_panels_earlier_code(slot: slot_worker.BrowserSlot) -> None:
    slot.load_own_functions("@registry.register()\ndef own():\n    return 'mine'\n")
    ready = json.loads(slot.set_panel_functions(TRIPLE))
    assert ready["panel"] == ["triple"] and {"triple", "own", "echo"} <= {f["name"] for f in ready["functions"]}
    assert (await run(slot, "triple", 4))["output"] == [12]
    ready = json.loads(slot.set_panel_functions(""))
    assert ready["panel"] == [] and "triple" not in {f["name"] for f in ready["functions"]}
    assert (await run(slot, "own"))["output"] == ["mine"]  # functions.py stays


@pytest.mark.parametrize(("source", "error"), [
    ("@registry.register()\ndef oops(x)\n    return x\n", "line 2: expected ':'"),
    ("x = 1\nraise RuntimeError('no')\n", "line 2: RuntimeError: no"),
    ("import sys\nsys.exit(3)\n", "line 2: SystemExit: 3"),
])
async def test_code_that_fails_to_load_changes_nothing(slot: slot_worker.BrowserSlot, source: str, error: str) -> None:
    slot.set_panel_functions(TRIPLE)
    assert json.loads(slot.set_panel_functions(source)) == {"error": error}
    assert (await run(slot, "triple", 2))["output"] == [6]


async def test_the_executor_adds_new_functions_and_removes_dropped_ones_without_re_registering() -> None:
    colony = FakeColony()
    async with serving(colony) as running:
        executor = running.executor
        assert executor.registered
        before = {f["funcname"] for f in colony.functions}
        calls = len(colony.calls)
        offered = [FunctionInfo(n) for n in sorted(before - {"sum"})] + [FunctionInfo("triple")]
        assert await executor.membership.sync_functions(offered) == (["triple"], ["sum"])
        assert {f["funcname"] for f in colony.functions} == before - {"sum"} | {"triple"}
        assert "addexecutormsg" not in colony.calls[calls:]
        assert await executor.membership.sync_functions(offered) == ([], [])  # nothing to do twice
