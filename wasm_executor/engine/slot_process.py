"""A CPython slot: `python -m wasm_executor.engine.slot_process [--functions FILE]`.

Speaks `slot_protocol` with its parent (`ProcessSlots`), one JSON line a message: `ready` once
booted, then for each `Job` line read, an `emit` per item a streaming function yields and one
`result`. The protocol runs on a private copy of
stdout; the function's own prints are captured, and anything written to fd 1 lands on stderr.
SIGINT interrupts the running job (KeyboardInterrupt); the parent kills us if that is not enough.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from ..builtins import default_registry
from ..functions import load_functions
from . import slot_protocol
from .job import Job, JobResult, run_job
from .slot_protocol import EMIT, READY, RESULT
from .slots import describe_registry


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", default=None, help="a functions file, as web/functions.py")
    args = parser.parse_args(argv)
    # Our own handler, so asyncio.run does not install its own (which only cancels the main task and
    # so cannot stop code that computes): SIGINT is KeyboardInterrupt wherever the job is.
    signal.signal(signal.SIGINT, _interrupt)
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray writes to fd 1 must not corrupt the protocol
    registry = default_registry()
    if args.functions:
        load_functions(Path(args.functions).read_text(), registry, args.functions)
    protocol.write(slot_protocol.encode(READY, json.dumps({"functions": [f.to_dict() for f in describe_registry(registry)]})))
    protocol.flush()

    def emit(item: str) -> None:
        protocol.write(slot_protocol.encode(EMIT, item))
        protocol.flush()

    while True:
        try:
            line = sys.stdin.readline()
            if not line:
                return 0
            job = Job.from_json(line)
            try:
                result = asyncio.run(run_job(registry, job, emit))
            except KeyboardInterrupt:  # asyncio.run turns an interrupt of an awaiting job into this
                result = JobResult(error="interrupted", interrupted=True)
        except KeyboardInterrupt:
            continue  # an interrupt that came between jobs
        protocol.write(slot_protocol.encode(RESULT, result.to_json()))
        protocol.flush()


if __name__ == "__main__":
    sys.exit(main())
