"""A map's record on the driver's disk, so `Pool.attach(job)` in a new process can take it over.

One JSON-lines file per job in `jobs_dir()` (``$WASM_EXECUTOR_JOBS``, else
``~/.cache/wasm-executor/jobs``). Its first line holds what the work is: the function's spec
(source included), the items, the chunk size and the replicas. Then, per unit (or copy of
one), a line before it is submitted (``"unit"``) and one after, with its process ID (``"unit"``
and ``"processid"``). A unit with the first line only
was maybe submitted: its process carries the job as label and the unit as node name, so
`attach` asks the server before it submits that unit again. The server keeps the processes and
their outputs; this file keeps only where they are.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .units import Unit

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def jobs_dir() -> Path:
    return Path(os.environ.get("WASM_EXECUTOR_JOBS") or Path.home() / ".cache" / "wasm-executor" / "jobs")


@dataclass
class Manifest:
    job: str
    spec: dict[str, Any]
    items: list[Any]
    chunksize: int | None = None
    replicas: int = 1
    submitted: dict[Unit, str] = field(default_factory=dict)  # unit -> its process
    intended: set[Unit] = field(default_factory=set)  # units that may have been submitted without a record

    @staticmethod
    def path_of(job: str) -> Path:
        if not NAME.match(job):
            raise ValueError(f"a job name is letters, digits, '.', '_' and '-' (up to 100), not {job!r}")
        return jobs_dir() / f"{job}.jsonl"

    @classmethod
    def create(cls, job: str, spec: dict[str, Any], items: list[Any], chunksize: int | None, replicas: int = 1) -> Manifest:
        path = cls.path_of(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        head = {"job": job, "spec": spec, "items": items, "chunksize": chunksize, "replicas": replicas}
        with path.open("x", encoding="utf-8") as out:  # "x": never over another job's record
            out.write(json.dumps(head) + "\n")
        return cls(job, spec, items, chunksize, replicas)

    @classmethod
    def load(cls, job: str) -> Manifest:
        path = cls.path_of(job)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise LookupError(f"no job {job!r} in {jobs_dir()} (a job is attached on the machine that started it)") from None
        head = json.loads(lines[0])
        manifest = cls(job, head["spec"], head["items"], head.get("chunksize"), head.get("replicas", 1))
        for line in lines[1:]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # the last line of a driver killed while writing it
            unit = Unit(*entry["unit"])
            if "processid" in entry:
                manifest.submitted[unit] = entry["processid"]
                manifest.intended.discard(unit)
            else:
                manifest.intended.add(unit)
        return manifest

    def _append(self, entry: dict[str, Any]) -> None:
        with self.path_of(self.job).open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def intend(self, unit: Unit) -> None:
        self.intended.add(unit)
        self._append({"unit": unit.to_json()})

    def record(self, unit: Unit, processid: str) -> None:
        self.intended.discard(unit)
        self.submitted[unit] = processid
        self._append({"unit": unit.to_json(), "processid": processid})

    def copies(self, unit: Unit) -> dict[Unit, str]:
        """Every recorded copy of `unit`'s items, with its process."""
        return {u: pid for u, pid in self.submitted.items() if u.items == unit.items}

    def covered(self) -> int:
        """Where the units recorded so far end: the next unit starts here."""
        return max((u.stop for u in [*self.submitted, *self.intended]), default=0)
