"""The Python side of a browser slot worker (web/slot.mjs): run jobs, nothing else.

Pyodide only. A slot holds no key and never talks to the server: it gets a job as JSON from
the executor worker and answers with a `JobResult` as JSON. Its state (the functions it serves,
what it noted while loading them, the job in progress) lives in one `BrowserSlot`; the module's
functions are what JS calls, on the one instance of this worker.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from typing import Any

from . import shipped
from .builtins import default_registry
from .engine.job import Job, JobResult, run_job
from .engine.slots import describe_registry
from .functions import FunctionRegistry, load_functions

PANEL_FILE = "Functions panel"


class BrowserSlot:
    def __init__(self) -> None:
        self.registry: FunctionRegistry = default_registry()
        self.notes: list[str] = []
        self.own_source = ""  # web/functions.py, as loaded at boot
        self.panel: list[str] = []  # the names the Functions panel's code added
        self._current: asyncio.Future[JobResult] | None = None

    def load_own_functions(self, source: str) -> None:
        """The page owner's web/functions.py; a broken file leaves the built-ins serving."""
        try:
            added = load_functions(source, self.registry)
            self.own_source = source
            self.notes.append(f"loaded functions.py: {', '.join(added)}")
        except Exception as exc:
            self.notes.append(f"functions.py failed to load, serving the built-in functions only: {type(exc).__name__}: {exc}")

    def ready_json(self) -> str:
        functions = [f.to_dict() for f in describe_registry(self.registry)]
        return json.dumps({"functions": functions, "notes": self.notes, "panel": self.panel})

    def set_panel_functions(self, source: str) -> str:
        """Serve the built-ins, functions.py and `source` (the page's Functions panel) from now on.
        `ready_json()` on success; {"error": …} if the code fails to load, and then nothing changes."""
        fresh = default_registry()
        if self.own_source:
            load_functions(self.own_source, fresh)
        try:
            added = load_functions(source, fresh, PANEL_FILE) if source.strip() else []
        except BaseException as exc:  # the owner's code may raise anything, SystemExit included
            return json.dumps({"error": _load_error(exc)})
        self.registry, self.panel = fresh, added
        return self.ready_json()

    async def run(self, job_json: str, emit: Any = None) -> str:
        """`emit`: a JS function that takes each streamed item (JSON text) to the executor worker."""
        self._current = asyncio.ensure_future(run_job(self.registry, Job.from_json(job_json), emit))
        try:
            result = await self._current
        except asyncio.CancelledError:  # cancelled before it even started
            result = JobResult(error="interrupted", interrupted=True)
        finally:
            self._current = None
        return result.to_json()

    def cancel(self) -> None:
        """Stop a job that is awaiting (the interrupt buffer stops one that computes)."""
        if self._current is not None:
            self._current.cancel()


def _load_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == PANEL_FILE]
    where = f"line {lines[-1]}: " if lines else ""
    return f"{where}{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- what web/slot.mjs calls

_slot = BrowserSlot()


def load_own_functions(source: str) -> None:
    _slot.load_own_functions(source)


def ready_json() -> str:
    return _slot.ready_json()


def set_package_index(url: str) -> None:
    """The page owner's package index, for `requires` the bundle cannot meet (see shipped)."""
    shipped.set_package_index(url)


def set_panel_functions(source: str) -> str:
    return _slot.set_panel_functions(source)


async def run(job_json: str, emit: Any = None) -> str:
    return await _slot.run(job_json, emit)


def cancel() -> None:
    _slot.cancel()
