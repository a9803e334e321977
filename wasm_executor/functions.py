"""The executor's functions: a small registry with a decorator (the built-in set is `builtins`).

A function receives the process's args (and kwargs) as Python values and returns its output:
a list becomes the output list, ``None`` no output, anything else one output item. Raising
`FunctionError` fails the process with that readable message; any other exception fails it
with the exception's type and text. Either way the executor keeps serving.

    registry = FunctionRegistry()

    @registry.register(description="Square a number")
    def square(x):
        return number(x) ** 2
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .objects import FunctionArg

Func = Callable[..., Any] | Callable[..., Awaitable[Any]]


class FunctionError(Exception):
    """Bad input or an unusable request: the message is shown to whoever submitted it."""


# Where a streaming function's items go while it runs: the slot runtime (`engine.job.run_job`)
# sets it for each job; nobody listens outside a job.
Emitter = Callable[[Any, int], None]
item_emitter: contextvars.ContextVar[Emitter | None] = contextvars.ContextVar("wasm_executor_emit", default=None)


def emit_item(value: Any, index: int) -> None:
    """Pass item `index` of a streaming function on as it is made, if anyone listens."""
    emit = item_emitter.get()
    if emit is not None:
        emit(value, index)


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

    def copy(self) -> FunctionRegistry:
        """A registry with the same functions, to add to without changing this one."""
        fresh = FunctionRegistry()
        fresh._functions = dict(self._functions)
        return fresh

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
    """Parse an argument as a number: ints stay ints ('8', not '8.0'), bools are refused."""
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


def load_functions(source: str, registry: FunctionRegistry, filename: str = "functions.py") -> list[str]:
    """Run a page owner's functions file with `registry` at hand; return the names it added.

    The file sees `registry`, `number` and `FunctionError`, as web/functions.py documents.
    """
    before = set(registry.names())
    namespace = {"registry": registry, "number": number, "FunctionError": FunctionError, "__name__": "user_functions"}
    exec(compile(source, filename, "exec"), namespace)  # the owner's own code, from their own bundle or disk
    return sorted(set(registry.names()) - before)
