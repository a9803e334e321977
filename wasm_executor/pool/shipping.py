"""What of a Python function travels with it to an executor (`function_source`), and why a
function cannot travel (`NotShippable`). Pure: no I/O.

What travels:
- the module's top-level imports of the names it uses (so `math.sqrt` works where `math` is
  imported at the top; an import it does not use, such as a test framework, stays home);
- every module-level function or class it names, recursively, by source;
- every module-level constant it names whose `repr` is a Python literal.
It must be a plain `def` at module level (no lambda, no closure, no method): anything else is
refused here with the reason, before anything is sent.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import types
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
REQUIRES_ATTR = "__wasm_executor_requires__"


def requires(*packages: str) -> Callable[[F], F]:
    """Decorator: the packages `fn` needs where it runs, e.g. ``@requires("sympy")``."""
    def mark(fn: F) -> F:
        setattr(fn, REQUIRES_ATTR, [*getattr(fn, REQUIRES_ATTR, []), *packages])
        return fn
    return mark


def required(fn: Callable[..., Any], extra: Any = None) -> list[str]:
    """The packages `fn` is marked with, then `extra`."""
    return [*getattr(fn, REQUIRES_ATTR, []), *(extra or [])]


class NotShippable(TypeError):
    """A function `Pool` cannot send: the message says why."""


def _literal(value: Any) -> str | None:
    try:
        text = repr(value)
        ast.literal_eval(text)
        return text
    except (ValueError, SyntaxError, RecursionError, TypeError):
        return None


def function_source(fn: Callable[..., Any]) -> str:
    """The code that defines `fn` where it runs: imports, helpers, constants, then `fn` itself."""
    if not isinstance(fn, types.FunctionType) or fn.__name__ == "<lambda>":
        raise NotShippable(f"{fn!r} is not a plain function defined with def: only those can be sent")
    if fn.__closure__:
        raise NotShippable(f"{fn.__name__} uses variables of an enclosing function ({', '.join(fn.__code__.co_freevars)}): "
                           "define it at module level")
    module = sys.modules.get(fn.__module__)
    imports: list[ast.Import | ast.ImportFrom] = []
    if module is not None:
        try:
            tree = ast.parse(inspect.getsource(module))
            imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        except (OSError, TypeError):
            pass  # no source for the module (an interactive session): the function's own imports must do
    parts: list[str] = []
    seen: set[str] = set()
    used_names: set[str] = set()

    def add(obj: Any, name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]
        except (OSError, TypeError, IndexError):
            raise NotShippable(f"no source for {name}: define it in a file, not in an interactive session") from None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            node.decorator_list = []  # a decorator (a pool's own, say) means nothing where it runs
        globals_ = getattr(obj, "__globals__", vars(module) if module else {})
        names = _global_names(obj.__code__) if hasattr(obj, "__code__") else {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        used_names.update(names)
        for used in sorted(names):
            if used in seen or used not in globals_ or (used.startswith("__") and used.endswith("__")):
                continue  # a module's own dunders (__name__, __annotations__) are the running module's
            value = globals_[used]
            if isinstance(value, types.ModuleType):
                continue  # covered by the module's imports
            if isinstance(value, types.FunctionType | type) and getattr(value, "__module__", None) == fn.__module__:
                add(value, used)
            elif (text := _literal(value)) is not None:
                seen.add(used)
                parts.append(f"{used} = {text}")
        parts.append(ast.unparse(node))

    add(fn, fn.__name__)
    kept = [text for node in imports if (text := _import_of(node, used_names))]
    return "\n\n".join([*kept, *parts]) + "\n"


def _global_names(code: types.CodeType) -> set[str]:
    """Names a function's code looks up, its nested functions and comprehensions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _import_of(node: ast.Import | ast.ImportFrom, used: set[str]) -> str:
    """The part of a top-level import statement that binds names in `used` ("" if none)."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return ast.unparse(node)
    keep = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
    if not keep:
        return ""
    if isinstance(node, ast.Import):
        return ast.unparse(ast.Import(names=keep))
    return ast.unparse(ast.ImportFrom(module=node.module, names=keep, level=node.level))
