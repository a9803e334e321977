"""The built-in functions every executor offers, `python` (shipped code) among them."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .crypto import gen_hash
from .functions import FunctionError, FunctionRegistry, number
from .platform_info import platform_info
from .remote import FUNCNAME
from .shipped import run_python


def _tidy(x: int | float) -> int | float:
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2**53 else x


_BUILTINS = FunctionRegistry()
_BUILTINS.add(FUNCNAME, run_python, "Run Python code sent by the colony (where the executor's owner allows it)")


@_BUILTINS.register(description="Return the arguments unchanged")
def echo(*args: Any) -> list[Any]:
    return list(args)


@_BUILTINS.register(description="Add two numbers")
def add(a: Any, b: Any) -> int | float:
    return _tidy(number(a, "add: first argument") + number(b, "add: second argument"))


@_BUILTINS.register(description="Multiply two numbers")
def multiply(a: Any, b: Any) -> int | float:
    return _tidy(number(a, "multiply: first argument") * number(b, "multiply: second argument"))


@_BUILTINS.register(description="Greet someone by name")
def greet(name: Any = "World") -> str:
    return f"Hello, {name}! Greetings from Python in the browser."


@_BUILTINS.register(description="Facts about the browser that runs this executor (JSON)")
def browser_info() -> str:
    return json.dumps(platform_info(), sort_keys=True)


@_BUILTINS.register(name="sum", description="Sum any count of numbers")
def sum_(*values: Any) -> int | float:
    return _tidy(sum(number(v, "sum: argument") for v in values))


@_BUILTINS.register(description="SHA3-256 of a text, as hex")
def sha3(text: Any) -> str:
    return gen_hash(str(text))


@_BUILTINS.register(description="The n-th Fibonacci number (0 <= n <= 10000)")
def fibonacci(n: Any) -> str:
    k = number(n, "fibonacci: n")
    if not isinstance(k, int) or not 0 <= k <= 10000:
        raise FunctionError(f"fibonacci: n must be a whole number from 0 to 10000, got {n!r}")
    a, b = 0, 1
    for _ in range(k):
        a, b = b, a + b
    return str(a)  # as text: exact even where a JSON number would lose digits


@_BUILTINS.register(description="Wait the given seconds (at most 60), then return them")
async def sleep(seconds: Any = 1) -> int | float:
    s = number(seconds, "sleep: seconds")
    if not 0 <= s <= 60:
        raise FunctionError(f"sleep: seconds must be between 0 and 60, got {seconds!r}")
    await asyncio.sleep(s)
    return s


@_BUILTINS.register(description="Keep one core busy in pure Python for the given seconds (at most 3600); return the loop count")
def spin(seconds: Any = 1) -> int:
    s = number(seconds, "spin: seconds")
    if not 0 <= s <= 3600:
        raise FunctionError(f"spin: seconds must be between 0 and 3600, got {seconds!r}")
    end = time.monotonic() + s
    count = 0
    while time.monotonic() < end:  # bytecode all the way: an interrupt stops it
        for _ in range(1000):
            count += 1
    return count


@_BUILTINS.register(description="Count the words of a text")
def wordcount(*text: Any) -> int:
    return len(" ".join(str(t) for t in text).split())


def default_registry() -> FunctionRegistry:
    """The functions every executor offers (in the browser and in CPython), in a registry of its own."""
    return _BUILTINS.copy()
