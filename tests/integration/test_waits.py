"""Waiting for a process to end, on the real server: an end is never missed, however early it comes.

Processes that fail or succeed within milliseconds of their submission end before or during the
wait's first read; a wait reads, it does not subscribe (see `ColoniesClient.subscribe_process`).
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.engine import config_for, running
from wasm_executor import FAILED, SUCCESS, ColoniesClient, FunctionSpec

pytestmark = pytest.mark.server


async def test_no_wait_on_an_instant_end_lasts_more_than_about_a_second(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    user = colony.user_prvkey
    slowest = 0.0
    async with running(cfg, slots=2):
        for i in range(40):
            spec = FunctionSpec.new("echo", cfg.executortype, colony.name)
            spec.args = [i]
            if i % 2:
                spec.kwargs = {"bad": True}  # echo takes no kwargs: FAILED at once
            process = await client.submit(spec, user)
            started = time.monotonic()
            ended = await client.wait_for_end(process, 30, user)
            slowest = max(slowest, time.monotonic() - started)
            assert ended.state == (FAILED if i % 2 else SUCCESS), i
            if ended.state == SUCCESS:
                assert ended.output == [i]
    assert slowest < 1.5, f"a wait lasted {slowest:.2f} s"
