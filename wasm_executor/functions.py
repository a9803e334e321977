"""The executor's functions: a small registry with a decorator, and the built-in set.

A function receives the process's args (and kwargs) as Python values and returns its output:
a list becomes the output list, ``None`` no output, anything else one output item. Raising
`FunctionError` fails the process with that readable message; any other exception fails it
with the exception's type and text. Either way the executor keeps serving.

    registry = default_registry()

    @registry.register(description="Square a number")
    def square(x):
        return number(x) ** 2
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .crypto import gen_hash
from .objects import FunctionArg
from .platform_info import platform_info

Func = Callable[..., Any] | Callable[..., Awaitable[Any]]


class FunctionError(Exception):
    """Bad input or an unusable request: the message is shown to whoever submitted it."""


@dataclass
class RegisteredFunction:
    name: str
    fn: Func
    description: str = ""
    args: list[FunctionArg] = field(default_factory=list)


def _describe_args(fn: Func) -> list[FunctionArg]:
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            continue
        required = p.default is p.empty and p.kind is not p.VAR_POSITIONAL
        name = f"*{p.name}" if p.kind is p.VAR_POSITIONAL else p.name
        out.append(FunctionArg(name=name, type="any", required=required))
    return out


class FunctionRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, RegisteredFunction] = {}

    def register(self, name: str | None = None, *, description: str = "") -> Callable[[Func], Func]:
        """Decorator: offer `fn` to the colony under `name` (default: the function's own name)."""

        def decorate(fn: Func) -> Func:
            fname = name or fn.__name__
            doc = description or (inspect.getdoc(fn) or "").split("\n")[0]
            self._functions[fname] = RegisteredFunction(fname, fn, doc, _describe_args(fn))
            return fn

        return decorate

    def add(self, name: str, fn: Func, description: str = "") -> None:
        self.register(name, description=description)(fn)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._functions.values())

    def __contains__(self, name: object) -> bool:
        return name in self._functions

    async def call(self, name: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> list[Any]:
        """Run one function; return its output as a list. Bad requests raise `FunctionError`."""
        entry = self._functions.get(name)
        if entry is None:
            raise FunctionError(f"unknown function '{name}'; this executor offers: {', '.join(self.names())}")
        args, kwargs = list(args or []), dict(kwargs or {})
        try:
            inspect.signature(entry.fn).bind(*args, **kwargs)
        except TypeError as exc:
            expected = ", ".join(a.name for a in entry.args) or "no arguments"
            raise FunctionError(f"{name}: wrong arguments ({exc}); expected: {expected}") from None
        result = entry.fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            return []
        if isinstance(result, list | tuple):
            return list(result)
        return [result]


def number(value: Any, what: str = "argument") -> int | float:
    """Parse a CLI argument as a number: ints stay ints ('8', not '8.0'), bools are refused."""
    if isinstance(value, bool):
        raise FunctionError(f"{what} {value!r} is not a number")
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        result = float(text)
    except ValueError:
        raise FunctionError(f"{what} {value!r} is not a number") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise FunctionError(f"{what} {value!r} is not a finite number")
    return result


def _tidy(x: int | float) -> int | float:
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2**53 else x


def default_registry() -> FunctionRegistry:
    """The functions every browser executor offers."""
    from .shipped import FUNCNAME, run_python  # shipped imports FunctionError from here

    reg = FunctionRegistry()
    reg.add(FUNCNAME, run_python, "Run Python code sent by the colony (where the executor's owner allows it)")

    @reg.register(description="Return the arguments unchanged")
    def echo(*args: Any) -> list[Any]:
        return list(args)

    @reg.register(description="Add two numbers")
    def add(a: Any, b: Any) -> int | float:
        return _tidy(number(a, "add: first argument") + number(b, "add: second argument"))

    @reg.register(description="Multiply two numbers")
    def multiply(a: Any, b: Any) -> int | float:
        return _tidy(number(a, "multiply: first argument") * number(b, "multiply: second argument"))

    @reg.register(description="Greet someone by name")
    def greet(name: Any = "World") -> str:
        return f"Hello, {name}! Greetings from Python in the browser."

    @reg.register(description="Facts about the browser that runs this executor (JSON)")
    def browser_info() -> str:
        return json.dumps(platform_info(), sort_keys=True)

    @reg.register(name="sum", description="Sum any count of numbers")
    def sum_(*values: Any) -> int | float:
        return _tidy(sum(number(v, "sum: argument") for v in values))

    @reg.register(description="SHA3-256 of a text, as hex")
    def sha3(text: Any) -> str:
        return gen_hash(str(text))

    @reg.register(description="The n-th Fibonacci number (0 <= n <= 10000)")
    def fibonacci(n: Any) -> str:
        k = number(n, "fibonacci: n")
        if not isinstance(k, int) or not 0 <= k <= 10000:
            raise FunctionError(f"fibonacci: n must be a whole number from 0 to 10000, got {n!r}")
        a, b = 0, 1
        for _ in range(k):
            a, b = b, a + b
        return str(a)  # as text: exact even where a JSON number would lose digits

    @reg.register(description="Wait the given seconds (at most 60), then return them")
    async def sleep(seconds: Any = 1) -> int | float:
        s = number(seconds, "sleep: seconds")
        if not 0 <= s <= 60:
            raise FunctionError(f"sleep: seconds must be between 0 and 60, got {seconds!r}")
        await asyncio.sleep(s)
        return s

    @reg.register(description="Keep one core busy in pure Python for the given seconds (at most 3600); return the loop count")
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

    @reg.register(description="Count the words of a text")
    def wordcount(*text: Any) -> int:
        return len(" ".join(str(t) for t in text).split())

    return reg


def load_functions(source: str, registry: FunctionRegistry, filename: str = "functions.py") -> list[str]:
    """Run a page owner's functions file with `registry` at hand; return the names it added.

    The file sees `registry`, `number` and `FunctionError`, as web/functions.py documents.
    """
    before = set(registry.names())
    namespace = {"registry": registry, "number": number, "FunctionError": FunctionError, "__name__": "user_functions"}
    exec(compile(source, filename, "exec"), namespace)  # the owner's own code, from their own bundle or disk
    return sorted(set(registry.names()) - before)
