"""Inputs from the fault and input matrix, through the CPython runtime on the real server, checked
from the server's own records: each process ends as it should, with its own output or a readable
error, none is retried, and the executor goes on serving."""

from __future__ import annotations

import pytest

from tests.helpers.engine import config_for, running
from wasm_executor import FAILED, SUCCESS, ColoniesClient, FunctionSpec

pytestmark = pytest.mark.server

# (case, funcname, args, kwargs, expected state, expected output or error)
CASES = [
    ("1 MB argument", "echo", ["x" * 1_000_000], {}, SUCCESS, ["x" * 1_000_000]),
    ("1,000 arguments", "echo", [str(i) for i in range(1000)], {}, SUCCESS, [str(i) for i in range(1000)]),
    ("no arguments", "echo", [], {}, SUCCESS, []),
    ("empty argument", "echo", [""], {}, SUCCESS, [""]),
    ("unicode", "echo", ["héllo", "日本語", "🙂", "\u00a0"], {}, SUCCESS, ["héllo", "日本語", "🙂", "\u00a0"]),
    ("right-to-left", "echo", ["\u202eevil.exe", "שלום", "مرحبا"], {}, SUCCESS, ["\u202eevil.exe", "שלום", "مرحبا"]),
    ("NUL and controls", "echo", ["a\x00b", "\x1b[2J\x07", "\r\n"], {}, SUCCESS, ["a\x00b", "\x1b[2J\x07", "\r\n"]),
    ("HTML and script", "echo", ["<script>alert(1)</script>", '"quoted" & \'single\'', "<img src=x onerror=alert(1)>"], {},
     SUCCESS, ["<script>alert(1)</script>", '"quoted" & \'single\'', "<img src=x onerror=alert(1)>"]),
    ("kwargs to a function without them", "echo", ["a"], {"k": 1}, FAILED,
     "echo: wrong arguments (got an unexpected keyword argument 'k'); expected: *args"),
    ("kwargs to python", "python", ["def f(a, *, b): return a + b"], {"call": "f", "args": [1], "kwargs": {"b": 2}}, SUCCESS, [3]),
    ("NUL printed to the log", "python", ["print('before\\x00after'); 7"], {}, SUCCESS, [7]),
    ("a number where text is expected", "greet", [5], {}, SUCCESS, ["Hello, 5! Greetings from Python in the browser."]),
]


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
