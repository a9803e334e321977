"""The function registry and the built-in functions, in plain CPython."""

from __future__ import annotations

import json

import pytest

from wasm_executor.builtins import default_registry
from wasm_executor.functions import FunctionError, FunctionRegistry, number

REG = default_registry()


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("echo", ["Hello from browser!"], ["Hello from browser!"]),
        ("echo", ["a", "b"], ["a", "b"]),
        ("add", ["5", "3"], [8]),
        ("add", ["2.5", "-1"], [1.5]),
        ("add", [0.1, 0.2], [0.30000000000000004]),
        ("multiply", ["7", "6"], [42]),
        ("multiply", ["1.5", "2"], [3]),
        ("greet", ["World"], ["Hello, World! Greetings from Python in the browser."]),
        ("sum", ["1", "2", "3.5"], [6.5]),
        ("fibonacci", ["90"], ["2880067194370816120"]),
        ("wordcount", ["a b", "c"], [3]),
        ("sleep", ["0"], [0]),
    ],
)
async def test_builtins(name: str, args: list, expected: list) -> None:
    assert await REG.call(name, args) == expected


async def test_browser_info_in_cpython_is_json() -> None:
    (out,) = await REG.call("browser_info")
    info = json.loads(out)
    assert info["runtime"] == "cpython" and info["hardwareConcurrency"] >= 1


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("add", ["x", "3"], "add: first argument 'x' is not a number"),
        ("add", ["1", "nan"], "not a finite number"),
        ("add", ["1"], "add: wrong arguments"),
        ("multiply", [], "expected: a, b"),
        ("greet", ["a", "b"], "greet: wrong arguments"),
        ("fibonacci", ["-1"], "from 0 to 10000"),
        ("fibonacci", ["1.5"], "whole number"),
        ("sleep", ["100"], "between 0 and 60"),
        ("nope", [], "unknown function 'nope'; this executor offers: add, browser_info"),
    ],
)
async def test_bad_input_is_a_readable_function_error(name: str, args: list, message: str) -> None:
    with pytest.raises(FunctionError, match=message.replace("(", r"\(")):
        await REG.call(name, args)


async def test_decorator_api() -> None:
    reg = FunctionRegistry()

    @reg.register(description="Square a number")
    def square(x: object) -> float:
        return number(x) ** 2

    @reg.register("shout")
    async def loud(text: str, times: int = 1) -> list[str]:
        return [text.upper()] * int(times)

    assert reg.names() == ["shout", "square"]
    assert await reg.call("square", ["4"]) == [16]
    assert await reg.call("shout", ["hi"], {"times": 2}) == ["HI", "HI"]
    assert [a.name for a in next(f for f in reg if f.name == "shout").args] == ["text", "times"]
    assert next(f for f in reg if f.name == "square").description == "Square a number"


async def test_none_means_no_output_and_errors_propagate() -> None:
    reg = FunctionRegistry()
    reg.add("nothing", lambda: None)
    reg.add("crash", lambda: 1 / 0)
    assert await reg.call("nothing") == []
    with pytest.raises(ZeroDivisionError):
        await reg.call("crash")


def test_number_refuses_bools() -> None:
    with pytest.raises(FunctionError):
        number(True)
