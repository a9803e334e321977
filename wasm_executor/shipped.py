"""Python code a colony sends: the `python` function, run in a slot (which holds no key).

Two forms, both plain JSON on the wire:
- a snippet: ``args = [source]``. The value of the last expression is the result (as for any
  function: a list is many outputs, None is none); what the code prints goes to the log.
  ``colonies function exec --func python --args "sum(range(10))"`` prints 45.
- a call (what `Pool` sends): ``args = [source]``, ``kwargs = {"call": name, "args": [...],
  "kwargs": {...}}``. The source defines `name`; its return value is the one output, exactly,
  whatever its type (a list stays one list).

Either form may add ``"requires": ["sympy", …]`` to kwargs: pure-Python packages made
importable before the code runs. A browser slot loads them, with their dependencies, from the
wheels its bundle carries (`python build.py build --with sympy` adds them to the bundle and its
lock): nothing is fetched from elsewhere. In CPython they must already be installed. A
package that cannot be had fails the process with the reason.

Whether an executor runs it at all is its owner's choice (`ExecutorConfig.allow_code`), checked
by the engine before anything reaches a slot.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import inspect
import itertools
import linecache
import re
import sys
import types
from collections import deque
from typing import Any

from ._compat import in_pyodide, js_exception_type, load_package
from .functions import FunctionError, emit_item
from .remote import SPREAD

_numbers = itertools.count(1)
_cached: deque[str] = deque()


def _remember(source: str) -> str:
    """A file name for this code, with its lines in linecache, so a traceback shows the lines
    that failed. The last few are kept: a traceback is formatted after the call returns."""
    name = f"<python sent by the colony #{next(_numbers)}>"
    linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
    _cached.append(name)
    while len(_cached) > 8:
        linecache.cache.pop(_cached.popleft(), None)
    return name


def _compile_snippet(source: str) -> tuple[Any, Any]:
    """(body, last expression or None), compiled: the last expression's value is the result."""
    filename = _remember(source)
    try:
        tree = ast.parse(source, filename, "exec")
    except SyntaxError as exc:
        raise FunctionError(f"python: the code does not parse: {exc.msg} (line {exc.lineno})") from None
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, filename, "exec")
    return body, (compile(last, filename, "eval") if last is not None else None)


_package_index = ""  # a package index the page's owner allows (PEP 503/691 simple API), or none


def set_package_index(url: str) -> None:
    """Where a slot may install what its bundle lacks from (the page's "Package index URL")."""
    global _package_index
    _package_index = url.strip().rstrip("/")


async def ensure_packages(requires: Any) -> None:
    """Make the distributions `requires` names importable, or fail with a readable reason."""
    if not isinstance(requires, list) or not all(isinstance(r, str) and r.strip() for r in requires):
        raise FunctionError("python: 'requires' must be a list of package names")
    names = [_dist_name(r) for r in requires]
    if in_pyodide():
        # From the bundle's own pyodide-lock.json, dependencies included: nothing is fetched
        # from anywhere else. A name the lock lacks raises ("No known package"): reported below.
        for name in names:
            with contextlib.suppress(js_exception_type()):
                await load_package([name])
    missing = [n for n in names if not _installed(n)]
    why = ""
    if missing and in_pyodide() and _package_index:
        why = await _install_from_index([r for r, n in zip(requires, names, strict=True) if n in missing])
        missing = [n for n in missing if not _installed(n)]
    if missing:
        if not in_pyodide():
            where = "this executor does not have installed"
        elif _package_index:
            where = f"neither this page's bundle nor its package index {_package_index} has ({why})"
        else:
            where = ("this page's bundle does not carry (its owner adds it with `python build.py build --with NAME`, "
                     "or names a Pyodide distribution that has it)")
        raise FunctionError(f"python: requires {', '.join(missing)}, which {where}")


async def _install_from_index(requirements: list[str]) -> str:
    """micropip (bundled) installs pure-Python wheels, dependencies included, from the owner's index
    only: never from PyPI or a CDN. "" when it worked, else why not (the caller names what is missing)."""
    with contextlib.suppress(js_exception_type()):
        await load_package(["micropip"])
    try:
        import micropip  # type: ignore[import-not-found]
    except ImportError:
        return "the bundle has no micropip"
    try:
        await micropip.install(requirements, index_urls=[_package_index])
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ""


def _dist_name(requirement: str) -> str:
    """'more-itertools>=10' -> 'more-itertools': the name; version specifiers are not checked."""
    return re.split(r"[\s<>=!~\[;]", requirement.strip(), maxsplit=1)[0]


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


async def run_python(
    source: Any = None, *extra: Any, call: Any = None, args: Any = None, kwargs: Any = None, requires: Any = None,
    inputs: Any = None, outputs: Any = None,
) -> Any:
    """The `python` function. Raising is the code's own business: the slot reports it.
    `inputs`: a workflow's parent outputs (engine/intake.py): a call's arguments, a snippet's `inputs`.
    `outputs="spread"`: a call's tuple is its outputs and None none, as pycolonies has it."""
    if not isinstance(source, str) or not source.strip():
        raise FunctionError("python: expects the code as its first argument (text)")
    if extra:
        raise FunctionError(f"python: expects one argument (the code), got {1 + len(extra)}")
    if requires is not None:
        await ensure_packages(requires)
    body, last = _compile_snippet(source)
    namespace = _fresh_module().__dict__
    if inputs is not None:
        if not isinstance(inputs, list):
            raise FunctionError("python: 'inputs' must be a list")
        namespace["inputs"] = inputs
        args = inputs if call is not None else args
    exec(body, namespace)  # running the colony's code is this function's job; the engine checked consent
    if call is None:
        result = eval(last, namespace) if last is not None else None
        return await result if inspect.isawaitable(result) else result
    if not isinstance(call, str) or not callable(namespace.get(call)):
        raise FunctionError(f"python: the code defines no function {call!r} to call")
    if not isinstance(args if args is not None else [], list) or not isinstance(kwargs if kwargs is not None else {}, dict):
        raise FunctionError("python: 'args' must be a list and 'kwargs' an object")
    result = namespace[call](*(args or []), **(kwargs or {}))
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        result = await _stream(result)
    elif inspect.isawaitable(result):
        result = await result
    if outputs == SPREAD:
        return [] if result is None else list(result) if isinstance(result, tuple) else [result]
    return [result]  # one output, exactly the value returned


SHIPPED_MODULE = "__colony__"


def _fresh_module() -> types.ModuleType:
    """The module shipped code runs as, new for each process and registered under its name: a
    dataclass, pickle or typing.get_type_hints looks a class's module up in sys.modules."""
    module = types.ModuleType(SHIPPED_MODULE)
    sys.modules[SHIPPED_MODULE] = module
    return module


async def _stream(gen: Any) -> list[Any]:
    """A generator's items, each sent on as it is made (`emit_item`); all of them as the output."""
    items: list[Any] = []
    if inspect.isasyncgen(gen):
        async for item in gen:
            emit_item(item, len(items))
            items.append(item)
    else:
        for item in gen:
            emit_item(item, len(items))
            items.append(item)
    return items
