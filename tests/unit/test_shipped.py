"""The `python` function: snippets, calls, and readable failures, through the slot runtime."""

from __future__ import annotations

import pytest

from wasm_executor.builtins import default_registry
from wasm_executor.engine.job import Job, run_job


async def run(*args: object, **kwargs: object):
    return await run_job(default_registry(), Job("p1", "python", list(args), dict(kwargs)))


async def test_the_last_expression_is_the_output_and_prints_go_to_the_log() -> None:
    result = await run("print('hello')\nsum(range(10))")
    assert (result.output, result.error, result.log) == ([45], "", "hello\n")


async def test_a_list_is_many_outputs_and_none_is_none() -> None:
    assert (await run("[1, 'two', 3.5]")).output == [1, "two", 3.5]
    assert (await run("x = 1")).output == []


async def test_a_call_returns_exactly_one_output_whatever_its_type() -> None:
    source = "def pair(a, b=0):\n    return [a, b]\n"
    result = await run(source, call="pair", args=[1], kwargs={"b": 2})
    assert result.output == [[1, 2]]


async def test_shipped_code_may_define_dataclasses_and_read_their_type_hints() -> None:
    """They look their class's module up in sys.modules: the code runs as a registered module."""
    source = (
        "import dataclasses, typing\n"
        "@dataclasses.dataclass\nclass Point:\n    x: int\n    y: 'int' = 0\n"
        "def make(x):\n    return [dataclasses.asdict(Point(x)), sorted(typing.get_type_hints(Point))]\n"
    )
    result = await run(source, call="make", args=[3])
    assert (result.output, result.error) == ([[{"x": 3, "y": 0}, ["x", "y"]]], "")


async def test_async_functions_are_awaited() -> None:
    source = "import asyncio\nasync def later(x):\n    await asyncio.sleep(0)\n    return x + 1\n"
    assert (await run(source, call="later", args=[41])).output == [42]


@pytest.mark.parametrize(("args", "kwargs", "error"), [
    ((), {}, "python: expects the code as its first argument (text)"),
    ((5,), {}, "python: expects the code as its first argument (text)"),
    (("1", "2"), {}, "python: expects one argument (the code), got 2"),
    (("def f(:\n",), {}, "python: the code does not parse: invalid syntax (line 1)"),
    (("x = 1",), {"call": "f"}, "python: the code defines no function 'f' to call"),
    (("def f(): pass",), {"call": "f", "args": "nope"}, "python: 'args' must be a list and 'kwargs' an object"),
])
async def test_bad_requests_fail_with_a_reason(args: tuple, kwargs: dict, error: str) -> None:
    result = await run(*args, **kwargs)
    assert result.error == error and result.output == []


async def test_an_exception_in_the_code_names_its_type_and_logs_the_traceback() -> None:
    result = await run("def f(x):\n    raise ValueError(f'bad {x}')\n", call="f", args=[3])
    assert result.error == "python raised ValueError: bad 3"
    assert "Traceback" in result.log and "<python sent by the colony #" in result.log
    assert "raise ValueError(f'bad {x}')" in result.log  # the failing line itself is shown


def test_a_pool_call_is_shown_as_a_call_not_as_its_source() -> None:
    from wasm_executor.remote import shown_args

    assert shown_args("python", ["def f(): ..."], {"call": "f", "args": [1, "a"], "kwargs": {"k": [2]}}) == ['f(1, "a", k=[2])']
    assert shown_args("python", ["1 + 1"], {}) == ["1 + 1"]
    assert shown_args("echo", ["x"], {"call": "f"}) == ["x"]


async def test_requires_in_cpython_names_what_is_missing() -> None:
    ok = await run("import ecdsa\n'yes'", requires=["ecdsa>=0.19"])
    assert ok.output == ["yes"]
    missing = await run("1", requires=["surely-not-installed-pkg"])
    assert missing.error == "python: requires surely-not-installed-pkg, which this executor does not have installed"
    bad = await run("1", requires="sympy")
    assert bad.error == "python: 'requires' must be a list of package names"
