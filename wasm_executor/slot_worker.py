"""The Python side of a browser slot worker (web/slot.mjs): run jobs, nothing else.

Pyodide only. A slot holds no key and never talks to the server: it gets a job as JSON from
the executor worker and answers with a `JobResult` as JSON.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from typing import Any

from . import shipped
from .engine.job import Job, JobResult, run_job
from .engine.slots import describe_registry
from .functions import FunctionRegistry, default_registry, load_functions

registry: FunctionRegistry = default_registry()
notes: list[str] = []
_current: asyncio.Future[JobResult] | None = None
_own_source = ""  # web/functions.py, as loaded at boot
_panel: list[str] = []  # the names the Functions panel's code added
PANEL_FILE = "Functions panel"


def load_own_functions(source: str) -> None:
    """The page owner's web/functions.py; a broken file leaves the built-ins serving."""
    global _own_source
    try:
        added = load_functions(source, registry)
        _own_source = source
        notes.append(f"loaded functions.py: {', '.join(added)}")
    except Exception as exc:
        notes.append(f"functions.py failed to load, serving the built-in functions only: {type(exc).__name__}: {exc}")


def ready_json() -> str:
    return json.dumps({"functions": [f.to_dict() for f in describe_registry(registry)], "notes": notes, "panel": _panel})


def set_package_index(url: str) -> None:
    """The page owner's package index, for `requires` the bundle cannot meet (see shipped)."""
    shipped.set_package_index(url)


def set_panel_functions(source: str) -> str:
    """Serve the built-ins, functions.py and `source` (the page's Functions panel) from now on.
    `ready_json()` on success; {"error": …} if the code fails to load, and then nothing changes."""
    global registry, _panel
    fresh = default_registry()
    if _own_source:
        load_functions(_own_source, fresh)
    try:
        added = load_functions(source, fresh, PANEL_FILE) if source.strip() else []
    except BaseException as exc:  # the owner's code may raise anything, SystemExit included
        return json.dumps({"error": _load_error(exc)})
    registry, _panel = fresh, added
    return ready_json()


def _load_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == PANEL_FILE]
    where = f"line {lines[-1]}: " if lines else ""
    return f"{where}{type(exc).__name__}: {exc}"


async def run(job_json: str, emit: Any = None) -> str:
    """`emit`: a JS function that takes each streamed item (JSON text) to the executor worker."""
    global _current
    _current = asyncio.ensure_future(run_job(registry, Job.from_json(job_json), emit))
    try:
        result = await _current
    except asyncio.CancelledError:  # cancelled before it even started
        result = JobResult(error="interrupted", interrupted=True)
    finally:
        _current = None
    return result.to_json()


def cancel() -> None:
    """Stop a job that is awaiting (the interrupt buffer stops one that computes)."""
    if _current is not None:
        _current.cancel()
