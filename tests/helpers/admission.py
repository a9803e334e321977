"""A real admission service for a test: `python -m wasm_executor.admission serve` in a child process,
on a free port with its own SQLite file, against the real colony; and its CLI."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.colony import Colony
from tools.layout import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Admission:
    url: str
    db: Path
    env: dict[str, str]
    serve_args: list[str]
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wasm_executor.admission", "--db", str(self.db), *args],
                              env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=60)

    def invite(self, *args: str) -> tuple[str, str, str]:
        """(invite id, invite text, join link) of a new invite."""
        out = self.cli("invite", *args)
        assert out.returncode == 0, out.stderr
        lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
        text = lines["invite"]
        return text.split(".", 1)[0], text, lines["join link"]

    def start(self) -> None:
        cmd = [sys.executable, "-m", "wasm_executor.admission", "--db", str(self.db), "serve", *self.serve_args]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the admission service exited {self.proc.returncode}: {self.proc.stdout.read()}")  # type: ignore[union-attr]
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{self.url}/health", timeout=1).close()
                return
            time.sleep(0.1)
        raise RuntimeError("the admission service did not answer /health within 10 s")

    def stop(self) -> str:
        """Stop it; what it printed (its journal lines)."""
        assert self.proc is not None
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        self.output.append(out)
        self.proc = None
        return out


@contextlib.contextmanager
def admission_service(colony: Colony, db: Path, page_url: str = "http://127.0.0.1:8000/",
                      rate: float | None = None, burst: float | None = None, server: str | None = None,
                      admin_token: str = "") -> Iterator[Admission]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **colony.env, "WASM_ADMISSION_DB": str(db), "WASM_ADMISSION_URL": url, "WASM_PAGE_URL": page_url,
           "WASM_ADMISSION_ADMIN_TOKEN": admin_token}
    origin = page_url.split("/", 3)
    args = ["--port", str(port), "--allow-origin", f"{origin[0]}//{origin[2]}"]
    if rate is not None:
        args += ["--rate", str(rate)]
    if burst is not None:
        args += ["--burst", str(burst)]
    if server is not None:  # else the colony's own, from its COLONIES_SERVER_*
        args += ["--server", server]
    service = Admission(url, db, env, args)
    service.start()
    try:
        yield service
    finally:
        if service.proc is not None:
            service.stop()
