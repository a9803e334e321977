"""The wire contract of the `python` function, shared by the side that sends code (`Pool`) and
the side that runs it (the engine and its slots). Pure: no I/O, no imports of either side.

A process runs shipped code when its funcname is `FUNCNAME`; its args are ``[source]`` and its
kwargs say what to call (`shipped.run_python` documents the forms). A generator's items travel
on the process's `STREAM_CHANNEL`, closed by an `END` entry (or `ERROR` with the error). A
failure travels as text in the process's errors: `raised` writes it, `parse_raised` reads it.
"""

from __future__ import annotations

import json
import re
from typing import Any

FUNCNAME = "python"
STREAM_CHANNEL = "stream"  # a process with this channel gets a generator's items there as they are made
END, ERROR = "end", "error"  # payload types of the stream's last entry
SPREAD = "spread"  # kwargs["outputs"]: a tuple returned is many outputs, None none (pycolonies' rule)
NOT_ALLOWED = (
    "this executor does not run Python code sent by the colony: its owner has not allowed it "
    "(the page's 'Run Python code sent by the colony' box, or `python -m wasm_executor --allow-code`)"
)

_RAISED = re.compile(r"^(\S+) raised ([A-Za-z_][\w.]*): (.*)$", re.S)


def raised(funcname: str, exc: BaseException) -> str:
    """The error text of a function that raised `exc` (read back by `parse_raised`)."""
    try:
        return f"{funcname} raised {type(exc).__name__}: {exc}"
    except Exception:  # an exception whose str() itself fails
        return f"{funcname} raised {type(exc).__name__}"


def parse_raised(text: str, funcname: str = FUNCNAME) -> tuple[str, str] | None:
    """(exception type, message) of a `raised` text by `funcname`, or None for any other error."""
    match = _RAISED.match(text)
    if match is None or match.group(1) != funcname:
        return None
    return match.group(2), match.group(3)


def shown_args(funcname: str, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """What a person is shown of a process's arguments: a shipped call as `name(arguments)`, not
    its source; anything else as it is."""
    call = kwargs.get("call") if funcname == FUNCNAME else None
    if not isinstance(call, str):
        return args
    parts = [json.dumps(a) for a in kwargs.get("args") or []]
    parts += [f"{k}={json.dumps(v)}" for k, v in (kwargs.get("kwargs") or {}).items() if k != "ctx"]
    return [f"{call}({', '.join(parts)})"]
