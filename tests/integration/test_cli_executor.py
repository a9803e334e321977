"""`python -m wasm_executor`: the runtime from a terminal, driven by the real CLI, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from tests.helpers.colony import unique
from tools.colonies_cli import exec_argv
from tools.layout import ROOT
from wasm_executor import FunctionSpec

pytestmark = pytest.mark.server


async def read_until(stream: asyncio.StreamReader, text: str, seen: list[str], timeout: float = 30) -> None:
    async def loop() -> None:
        while not any(text in line for line in seen):
            line = await stream.readline()
            if not line:
                raise AssertionError(f"output ended before {text!r}: {seen}")
            seen.append(line.decode())

    await asyncio.wait_for(loop(), timeout)


async def test_terminal_executor_serves_and_stops_on_ctrl_c(colony, client) -> None:
    name, executortype = unique("term"), unique("termtype")
    env = {**os.environ, **colony.env, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wasm_executor", "--name", name, "--type", executortype, "--poll-timeout", "2", "--slots", "2",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        await read_until(proc.stdout, "[polling]", seen)
        cli = await asyncio.to_thread(colony.cli, *exec_argv("add", ["5", "3"], executortype))
        assert (cli.returncode, cli.stdout.strip()) == (0, "8")
        cli = await asyncio.to_thread(colony.cli, *exec_argv("add", ["x", "3"], executortype))
        assert cli.returncode != 0
        await read_until(proc.stdout, "failed add(x 3) -> add: first argument 'x' is not a number", seen)
        # Control characters from a stranger are shown as escapes, never sent to the terminal raw.
        spec = FunctionSpec.new("echo", executortype, colony.name)
        spec.args = ["\x1b]0;pwned\x07\x1b[2K\rfake\u202e"]
        done = await client.wait_for_end(await client.submit(spec, colony.user_prvkey), 30, colony.user_prvkey)
        assert done.output == spec.args
        await read_until(proc.stdout, "fake", seen)
        line = next(line for line in seen if "fake" in line)
        assert "\x1b" not in line and "\x07" not in line and "\r" not in line and "\u202e" not in line
        assert "\\x1b]0;pwned\\x07\\x1b[2K\\rfake\\u202e" in line
        proc.send_signal(signal.SIGINT)
        await read_until(proc.stdout, "[stopped]", seen)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await client.remove_executor(colony.name, name, colony.colony_prvkey)
    assert any(line.strip().startswith("done add(5 3) -> 8") and "slot" in line for line in seen), seen
