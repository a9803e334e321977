"""web/functions.py, the page owner's own functions: loaded into a registry, and into a browser slot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_executor import slot_worker
from wasm_executor.builtins import default_registry
from wasm_executor.engine.job import Job, JobResult
from wasm_executor.functions import FunctionError, load_functions

SOURCE = (Path(__file__).parents[2] / "web" / "functions.py").read_text()


async def test_user_functions_file_registers_its_functions() -> None:
    registry = default_registry()
    assert load_functions(SOURCE, registry) == ["mean", "now", "reverse"]
    assert "add" in registry.names()  # the built-ins stay
    assert await registry.call("reverse", ["stressed"]) == ["desserts"]
    assert await registry.call("mean", ["1", "2", "6"]) == [3.0]
    with pytest.raises(FunctionError, match="at least one number"):
        await registry.call("mean", [])


def test_a_broken_file_raises_with_its_name() -> None:
    with pytest.raises(SyntaxError) as info:
        load_functions("def broken(:\n", default_registry(), "functions.py")
    assert info.value.filename == "functions.py"


async def test_a_slot_loads_the_file_says_so_and_runs_jobs_as_json() -> None:
    slot = slot_worker.BrowserSlot()
    slot.load_own_functions(SOURCE)
    slot.load_own_functions("def broken(:\n")
    ready = json.loads(slot.ready_json())
    assert {"reverse", "echo", "spin"} <= {f["name"] for f in ready["functions"]}
    assert ready["notes"][0] == "loaded functions.py: mean, now, reverse"
    assert ready["notes"][1].startswith("functions.py failed to load, serving the built-in functions only: SyntaxError")
    result = JobResult.from_json(await slot.run(Job("p1", "reverse", ["stressed"]).to_json()))
    assert result == JobResult(output=["desserts"])
