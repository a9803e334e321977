"""One process's work as a slot sees it: a `Job` in, a `JobResult` out, never an exception.

`run_job` is the whole slot runtime, shared by every host (a browser slot worker, a CPython
child process, an in-process slot): it calls the function, captures what it prints, turns the
output into JSON the server can store exactly, and turns every failure, an interrupt included,
into a readable result. A slot never holds a key: nothing here can sign.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import remote
from ..functions import FunctionError, FunctionRegistry, item_emitter

# JSON numbers pass through the server as float64: integers beyond this lose digits.
EXACT_INT = 2**53
LOG_LIMIT = 64 * 1024  # characters of printed text sent to the process log


@dataclass(frozen=True)
class Job:
    processid: str
    funcname: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the process's env: os.environ while it runs

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class JobResult:
    output: list[Any] = field(default_factory=list)
    error: str = ""  # empty: success
    log: str = ""  # what the function printed, and the traceback of a failure
    interrupted: bool = False  # stopped from outside (deadline, cancel, stop now)

    @property
    def ok(self) -> bool:
        return not self.error and not self.interrupted

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JobResult:
        return cls(**json.loads(text))


class OutputError(Exception):
    """The function's output cannot travel as JSON exactly."""


def json_safe(value: Any, where: str = "output") -> Any:
    """`value` as JSON the server stores exactly: big integers become their decimal text.

    inf, NaN and objects JSON has no form for are refused with a readable `OutputError`.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if -EXACT_INT <= value <= EXACT_INT:
            return value
        try:
            return str(value)  # exact, where a JSON number would round
        except ValueError:
            raise OutputError(f"{where} is an integer of more than {sys.get_int_max_str_digits()} digits") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutputError(f"{where} is {value}, which JSON cannot carry")
        return value
    if isinstance(value, list | tuple):
        return [json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise OutputError(f"{where} has a key of type {type(k).__name__}; JSON keys are text")
            out[k] = json_safe(v, f"{where}[{k!r}]")
        return out
    raise OutputError(f"{where} is a {type(value).__name__}, which cannot be sent as JSON")


# ---------------------------------------------------------------- streaming

Emit = Callable[[str], None]  # a host's sink for one streamed item, as JSON text


def _json_emitter(emit: Emit) -> Callable[[Any, int], None]:
    return lambda value, index: emit(json.dumps(json_safe(value, f"item {index}")))


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """`env` in os.environ while the job runs, and only then (a slot runs one job at a time)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------- print capture

_capture: contextvars.ContextVar[io.StringIO | None] = contextvars.ContextVar("wasm_executor_capture", default=None)


class _RoutedStream(io.TextIOBase):
    """stdout/stderr that writes into the running job's buffer (per asyncio task), else passes through."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback

    def write(self, text: str) -> int:
        buf = _capture.get()
        return buf.write(text) if buf is not None else self.fallback.write(text)

    def flush(self) -> None:
        if _capture.get() is None:
            with contextlib.suppress(Exception):
                self.fallback.flush()


def _install_capture() -> None:
    if not isinstance(sys.stdout, _RoutedStream):
        sys.stdout = _RoutedStream(sys.stdout)
    if not isinstance(sys.stderr, _RoutedStream):
        sys.stderr = _RoutedStream(sys.stderr)


def _readable(exc: BaseException, funcname: str) -> str:
    if isinstance(exc, FunctionError | OutputError):
        with contextlib.suppress(Exception):
            return str(exc)
    return remote.raised(funcname, exc)


def _clip(text: str) -> str:
    return text if len(text) <= LOG_LIMIT else text[: LOG_LIMIT - 40] + f"\n… ({len(text) - LOG_LIMIT + 40} more characters)"


async def run_job(registry: FunctionRegistry, job: Job, emit: Emit | None = None) -> JobResult:
    """Run `job`; every outcome, an interrupt (KeyboardInterrupt or cancellation) included, is a result.
    `emit` gets each item a streaming function yields, as JSON text, while it runs."""
    import asyncio

    _install_capture()
    buf = io.StringIO()
    token = _capture.set(buf)
    emit_token = item_emitter.set(_json_emitter(emit) if emit is not None else None)
    try:
        with _environment(job.env):
            output = json_safe(await registry.call(job.funcname, job.args, job.kwargs))
        return JobResult(output=output, log=_clip(buf.getvalue()))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return JobResult(error="interrupted", log=_clip(buf.getvalue()), interrupted=True)
    except FunctionError as exc:
        return JobResult(error=_readable(exc, job.funcname), log=_clip(buf.getvalue()))
    except BaseException as exc:  # SystemExit and friends too: a function must not end its slot
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return JobResult(error=_readable(exc, job.funcname), log=_clip(buf.getvalue() + tb))
    finally:
        _capture.reset(token)
        item_emitter.reset(emit_token)
