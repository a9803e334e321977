"""What a test needs to act on the real colony, and small helpers shared by the test suites."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from dataclasses import dataclass

from tools.colonies_cli import exec_argv, run_cli
from wasm_executor import gen_id


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Colony:
    url: str
    name: str
    colony_prvkey: str
    user_prvkey: str
    server_prvkey: str
    env: dict[str, str]

    def cli(self, *args: str, prvkey: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run the real `colonies` CLI as the colony's user (or with another key)."""
        return run_cli(args, self.env, prvkey, timeout)

    async def exec(self, executortype: str, func: str, *args: str) -> tuple[int, str, str]:
        """`colonies function exec … --wait --out` off the event loop: (exit code, stdout stripped, stderr)."""
        proc = await asyncio.to_thread(self.cli, *exec_argv(func, args, executortype))
        return proc.returncode, proc.stdout.strip(), proc.stderr


@dataclass
class TestExecutor:
    name: str
    executortype: str
    prvkey: str

    @property
    def executorid(self) -> str:
        return gen_id(self.prvkey)
