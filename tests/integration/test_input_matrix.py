"""Inputs from the fault and input matrix, through the CPython runtime on the real server, checked
from the server's own records: each process ends as it should, with its own output or a readable
error, none is retried, and the executor goes on serving."""

from __future__ import annotations

import pytest

from tests.helpers.engine import config_for, running
from tests.helpers.input_cases import CASES
from wasm_executor import SUCCESS, ColoniesClient, FunctionSpec

pytestmark = pytest.mark.server

async def test_the_input_matrix(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, allow_code=True)
    user = colony.user_prvkey
    async with running(cfg) as (executor, _):
        for case, func, args, kwargs, state, expected in CASES:
            spec = FunctionSpec.new(func, cfg.executortype, colony.name)
            spec.args, spec.kwargs = args, kwargs
            process = await client.submit(spec, user)
            ended = await client.wait_for_end(process, 30, user)
            got = await client.get_process(ended.processid, user)
            assert (got.state, got.retries) == (state, 0), case
            if state == SUCCESS:
                assert got.output == expected, case
            else:
                assert got.errors == [expected], case
            if case == "NUL printed to the log":
                logs = await client.get_logs(colony.name, got.processid, "", 10, 0, user)
                assert "".join(log.message for log in logs) == "before\\x00after\n", case  # NUL shown, not lost
        # Still serving.
        spec = FunctionSpec.new("add", cfg.executortype, colony.name)
        spec.args = ["5", "3"]
        done = await client.wait_for_end(await client.submit(spec, user), 30, user)
        assert (await client.get_process(done.processid, user)).output == [8]
        assert executor.done + executor.failed == len(CASES) + 1
