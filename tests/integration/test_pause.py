"""A paused colony (`colonies process pause`, the real CLI): its own state, not an outage.

The colony is paused for every executor: each test resumes it whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest

from tests.helpers.engine import config_for, running
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec
from wasm_executor.events import LogLine, State, StateChanged

pytestmark = pytest.mark.server


@contextlib.contextmanager
def paused(colony) -> Iterator[None]:
    proc = colony.cli("process", "pause")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    try:
        yield
    finally:
        colony.cli("process", "resume")


def resume(colony) -> None:
    proc = colony.cli("process", "resume")
    assert proc.returncode == 0, proc.stdout + proc.stderr


async def test_pause_is_shown_as_paused_and_resume_serves_the_next_process_within_a_second(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, poll_timeout=2)
    async with running(cfg) as (executor, rec):
        with paused(colony):
            assert await client.get_pause_status(colony.name, colony.user_prvkey) is True
            await rec.wait_for(lambda: executor.state == State.PAUSED, timeout=cfg.poll_timeout + 10)
            spec = FunctionSpec.new("echo", cfg.executortype, colony.name)
            spec.args = ["after resume"]
            process = await client.submit(spec, colony.user_prvkey)
            await asyncio.to_thread(resume, colony)
            resumed = time.monotonic()
            ended = await client.wait_for_end(process, 30, colony.user_prvkey)
            served_after = time.monotonic() - resumed
        assert ended.state == SUCCESS and ended.output == ["after resume"]
        assert served_after < 1.0, f"served {served_after:.2f} s after resume"
        await rec.wait_for(lambda: executor.state == State.POLLING)
    said = [e.detail for e in rec.events if isinstance(e, StateChanged)] + [e.message for e in rec.events if isinstance(e, LogLine)]
    assert any("paused by the colony's admin" in t for t in said)
    assert not [t for t in said if "unreachable" in t or "answered" in t], said  # nothing said as an error
