"""The Python side of a browser slot worker (web/slot.mjs): run jobs, nothing else.

Pyodide only. A slot holds no key and never talks to the server: it gets a job as JSON from
the executor worker and answers with a `JobResult` as JSON.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from .engine.job import Job, JobResult, run_job
from .engine.slots import describe_registry
from .functions import FunctionRegistry, default_registry, load_functions

registry: FunctionRegistry = default_registry()
notes: list[str] = []
_current: asyncio.Future[JobResult] | None = None


def load_own_functions(source: str) -> None:
    """The page owner's web/functions.py; a broken file leaves the built-ins serving."""
    try:
        added = load_functions(source, registry)
        notes.append(f"loaded functions.py: {', '.join(added)}")
    except Exception as exc:
        notes.append(f"functions.py failed to load, serving the built-in functions only: {type(exc).__name__}: {exc}")


def ready_json() -> str:
    return json.dumps({"functions": [f.to_dict() for f in describe_registry(registry)], "notes": notes})


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
