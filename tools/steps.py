"""Named set-up steps: run a command, say what happens, fail with the step's name and output.

Standard library only, like build.py: it runs on a fresh machine before anything is installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .layout import HOST


class StepFailed(RuntimeError):
    """A set-up step failed; the message names the step, the command and its output."""


def say(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def run(
    step: str,
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    capture: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one command of a named step; on failure raise with its output attached."""
    started = time.monotonic()
    proc = subprocess.run(
        cmd,
        env=env,
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
    )
    elapsed = time.monotonic() - started
    if elapsed > 5:
        say(f"{step}: {'done' if proc.returncode == 0 else 'ended'} after {elapsed:.0f} s")
    if check and proc.returncode != 0:
        out = (proc.stdout or "")[-4000:]
        raise StepFailed(f"step '{step}' failed (exit {proc.returncode}): {' '.join(cmd)}\n{out}")
    return proc


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(step: str, packages: list[str]) -> None:
    prefix = [] if is_root() else ["sudo"]
    stamp = Path("/var/lib/apt/lists")
    fresh = any(stamp.glob("*Packages*")) if stamp.exists() else False
    if not fresh:
        say(f"{step}: apt-get update")
        run(step, [*prefix, "apt-get", "update", "-q"])
    say(f"{step}: apt-get install {' '.join(packages)} (this can take a few minutes)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = run(step, [*prefix, "apt-get", "install", "-y", "-q", *packages], env=env, check=False)
    if proc.returncode != 0:
        # An old package list is the usual cause: refresh once and retry.
        run(step, [*prefix, "apt-get", "update", "-q"])
        run(step, [*prefix, "apt-get", "install", "-y", "-q", *packages], env=env)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection in TIME_WAIT does not hold the port
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def answers_200(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False
