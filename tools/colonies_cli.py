"""Running the real `colonies` CLI: the one runner for build.py, tests, demo and bench."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from .layout import COLONIES_BIN


def exe() -> str:
    return str(COLONIES_BIN) if COLONIES_BIN.exists() else (shutil.which("colonies") or str(COLONIES_BIN))


def run_cli(args: Sequence[str], env: dict[str, str], prvkey: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`colonies ARGS` with the colony's settings (as its user, or with `prvkey`)."""
    full = {**os.environ, **env}
    if prvkey:
        full["COLONIES_PRVKEY"] = prvkey
    return subprocess.run([exe(), *args], env=full, capture_output=True, text=True, timeout=timeout)


def exec_argv(func: str, args: Sequence[str], executortype: str) -> list[str]:
    """`colonies function exec` arguments that wait for the process and print its output."""
    argv = ["function", "exec", "--func", func]
    for a in args:
        argv += ["--args", a]
    return [*argv, "--targettype", executortype, "--wait", "--out"]


# The five lines a person tries first (build.py demo prints them, demo --headless runs them).
DEMO_CALLS: list[tuple[str, list[str]]] = [
    ("echo", ["Hello from browser!"]),
    ("add", ["5", "3"]),
    ("multiply", ["7", "6"]),
    ("greet", ["World"]),
    ("browser_info", []),
]
