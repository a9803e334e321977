"""web/functions.py, the page owner's own functions, loads through the worker bridge (CPython part)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasm_executor import worker
from wasm_executor.functions import FunctionError, default_registry

SOURCE = (Path(__file__).parents[2] / "web" / "functions.py").read_text()


async def test_user_functions_file_registers_its_functions() -> None:
    registry = default_registry()
    assert worker.load_functions(SOURCE, into=registry) == ["mean", "now", "reverse"]
    assert "add" in registry.names()  # the built-ins stay
    assert await registry.call("reverse", ["stressed"]) == ["desserts"]
    assert await registry.call("mean", ["1", "2", "6"]) == [3.0]
    with pytest.raises(FunctionError, match="at least one number"):
        await registry.call("mean", [])


def test_a_broken_file_raises_with_its_name() -> None:
    with pytest.raises(SyntaxError) as info:
        worker.load_functions("def broken(:\n", "functions.py", into=default_registry())
    assert info.value.filename == "functions.py"
