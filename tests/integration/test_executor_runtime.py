"""The executor engine in CPython against the real server, driven by the real CLI.

The same `ColonyExecutor` runs in the browser's executor worker; here its dispatch, slots,
deadlines, cancel, stop, recovery and the approval flow are checked on the real server, with
functions in child processes (`ProcessSlots`) as `python -m wasm_executor` runs them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers.engine import Recorder, config_for, running, spec_for
from tests.helpers.proxy import OutageProxy
from tools.layout import ROOT
from wasm_executor import CANCELLED, FAILED, SUCCESS, WAITING, ColoniesClient, gen_id, gen_prvkey
from wasm_executor.builtins import default_registry
from wasm_executor.engine import ColonyExecutor, InlineSlots
from wasm_executor.events import LogLine, Outcome, ProcessEnded, State, StateChanged

pytestmark = pytest.mark.server


async def test_functions_through_the_cli_and_bad_input_fails_only_its_process(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (executor, _rec):
        assert (await colony.exec(cfg.executortype, "add", "5", "3"))[:2] == (0, "8")
        assert (await colony.exec(cfg.executortype, "add", "2.5", "-1"))[:2] == (0, "1.5")
        assert (await colony.exec(cfg.executortype, "multiply", "7", "6"))[:2] == (0, "42")
        assert (await colony.exec(cfg.executortype, "greet", "World"))[:2] == (0, "Hello, World! Greetings from Python in the browser.")
        assert (await colony.exec(cfg.executortype, "echo", "Hello from browser!"))[:2] == (0, "Hello from browser!")

        bad = await client.submit(spec_for(cfg, "add", "x", "3"), colony.user_prvkey)
        unknown = await client.submit(spec_for(cfg, "no_such_function"), colony.user_prvkey)
        after = await client.submit(spec_for(cfg, "multiply", "3", "3"), colony.user_prvkey)
        done = await client.wait_for_end(after, 30, colony.user_prvkey)
        assert done.output == [9]
        bad_p = await client.get_process(bad.processid, colony.user_prvkey)
        assert bad_p.state == FAILED and bad_p.errors == ["add: first argument 'x' is not a number"]
        unknown_p = await client.get_process(unknown.processid, colony.user_prvkey)
        assert unknown_p.state == FAILED and "unknown function 'no_such_function'" in unknown_p.errors[0]
        assert executor.done == 6 and executor.failed == 2

    functions = {f.funcname for f in await client.get_functions_by_executor(colony.name, cfg.executorname, colony.user_prvkey)}
    assert {"echo", "add", "multiply", "greet", "browser_info", "spin"} <= functions
    me = await client.get_executor(colony.name, cfg.executorname, colony.user_prvkey)
    assert me.capabilities.software[1].name == "wasm-executor"


async def test_inputs_that_used_to_kill_or_hang_the_executor(colony, client: ColoniesClient) -> None:
    """Each fails or succeeds readably; none kills the executor, none stays RUNNING."""
    cfg = config_for(colony)
    nines = "9" * 4300
    cases = [
        (("add", nines, nines), FAILED, ["output[0] is an integer of more than 4300 digits"]),
        (("multiply", nines, nines), FAILED, ["output[0] is an integer of more than 4300 digits"]),
        (("add", "1e308", "1e308"), FAILED, ["output[0] is inf, which JSON cannot carry"]),
        (("multiply", "1e200", "1e200"), FAILED, ["output[0] is inf, which JSON cannot carry"]),
        (("add", "1" * 200, "1"), SUCCESS, ["1" * 199 + "2"]),
        (("add", "9007199254740992", "1"), SUCCESS, ["9007199254740993"]),
    ]
    async with running(cfg) as (executor, _rec):
        submitted = [await client.submit(spec_for(cfg, *call), colony.user_prvkey) for call, _, _ in cases]
        last = await client.submit(spec_for(cfg, "echo", "still serving"), colony.user_prvkey)
        assert (await client.wait_for_end(last, 60, colony.user_prvkey)).output == ["still serving"]
        for p, (call, state, expected) in zip(submitted, cases, strict=True):
            got = await client.get_process(p.processid, colony.user_prvkey)
            assert got.state == state, (call[0], got.errors)
            assert (got.output if state == SUCCESS else got.errors) == expected
        assert executor.state == State.POLLING


async def test_two_slots_serve_four_sleeps_at_once(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg, slots=2) as (_executor, _rec):
        started = time.monotonic()
        ps = [await client.submit(spec_for(cfg, "sleep", "2"), colony.user_prvkey) for _ in range(4)]
        for p in ps:
            assert (await client.wait_for_end(p, 30, colony.user_prvkey)).output == [2]
        assert time.monotonic() - started < 6


async def test_spin_past_maxexectime_is_stopped_and_failed_and_the_next_process_runs(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (_executor, _rec):
        started = time.monotonic()
        p = await client.submit(spec_for(cfg, "spin", "60", maxexectime=3, maxretries=0), colony.user_prvkey)
        done = await client.wait_for_end(p, 30, colony.user_prvkey)
        assert time.monotonic() - started < 6
        assert done.errors in (["spin did not finish within maxexectime 3 s"], ["Maximum execution time limit exceeded"])
        assert (await colony.exec(cfg.executortype, "echo", "next"))[:2] == (0, "next")


async def test_cancel_interrupts_the_function_and_frees_the_slot(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (_executor, rec):
        p = await client.submit(spec_for(cfg, "sleep", "60"), colony.user_prvkey)
        await rec.wait_for(lambda: any(getattr(e, "processid", "") == p.processid for e in rec.events))
        # Before or after its cancel watch starts: the watch reads the process on a growing period.
        cancelled_at = time.monotonic()
        await client.cancel_process(p.processid, colony.user_prvkey)
        await rec.wait_for(lambda: rec.ended(p.processid) is not None, 10)
        assert time.monotonic() - cancelled_at < 3
        assert rec.ended(p.processid).status == Outcome.CANCELLED  # type: ignore[union-attr]
        assert (await client.get_process(p.processid, colony.user_prvkey)).state == CANCELLED
        assert (await colony.exec(cfg.executortype, "echo", "free again"))[:2] == (0, "free again")


async def test_stop_is_quick_and_a_process_submitted_meanwhile_waits(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, poll_timeout=10)
    async with running(cfg) as (executor, rec):
        await asyncio.sleep(1)  # a 10 s long-poll is open
        started = time.monotonic()
        executor.stop()
        queued = await client.submit(spec_for(cfg, "echo", "during stop"), colony.user_prvkey)
        await rec.wait_for(lambda: rec.states()[-1] == State.STOPPED, 5)
        assert time.monotonic() - started < 1.5
    state = (await client.get_process(queued.processid, colony.user_prvkey)).state
    assert state in (WAITING, SUCCESS)  # served before stopping, or waiting: never left RUNNING
    async with running(cfg):
        assert (await client.wait_for_end(queued, 30, colony.user_prvkey)).output == ["during stop"]


CHATTY = """
@registry.register()
def chatty(n):
    for i in range(int(n)):
        print("step", i)
    return "ok"

@registry.register()
def crash():
    print("about to fail")
    return {}["missing"]
"""


async def test_print_reaches_the_process_log_and_a_failure_its_traceback(colony, client: ColoniesClient, tmp_path) -> None:
    functions = tmp_path / "functions.py"
    functions.write_text(CHATTY)
    cfg = config_for(colony)
    async with running(cfg, functions_file=str(functions)) as (_executor, _rec):
        chatty = await client.submit(spec_for(cfg, "chatty", "3"), colony.user_prvkey)
        assert (await client.wait_for_end(chatty, 30, colony.user_prvkey)).output == ["ok"]
        crash = await client.submit(spec_for(cfg, "crash"), colony.user_prvkey)
        assert (await client.wait_for_end(crash, 30, colony.user_prvkey)).errors == ["crash raised KeyError: 'missing'"]
        quiet = await client.submit(spec_for(cfg, "echo", "quiet"), colony.user_prvkey)
        await client.wait_for_end(quiet, 30, colony.user_prvkey)
    logs = await client.get_logs(colony.name, chatty.processid, "", 10, 0, colony.user_prvkey)
    assert [log.message for log in logs] == ["step 0\nstep 1\nstep 2\n"]
    (crash_log,) = await client.get_logs(colony.name, crash.processid, "", 10, 0, colony.user_prvkey)
    assert crash_log.message.startswith("about to fail\nTraceback") and "KeyError: 'missing'" in crash_log.message
    assert await client.get_logs(colony.name, quiet.processid, "", 10, 0, colony.user_prvkey) == []


async def test_admin_approval_mode_keeps_the_colony_key_out(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, colony_prvkey=None, approval_poll_interval=0.3)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: State.WAITING_APPROVAL in rec.states())
        detail = next(e.detail for e in rec.events if isinstance(e, StateChanged) and e.state == State.WAITING_APPROVAL)
        expected = f"colonies executor add --name {cfg.executorname} --type {cfg.executortype} --executorid {gen_id(cfg.prvkey)}"
        assert detail == expected + " --approve"
        approve = await asyncio.to_thread(colony.cli, *detail.split()[1:], prvkey=colony.colony_prvkey)
        assert approve.returncode == 0, approve.stderr
        await rec.wait_for(lambda: State.POLLING in rec.states())
        assert (await colony.exec(cfg.executortype, "add", "1", "2"))[:2] == (0, "3")
    await client.remove_executor(colony.name, cfg.executorname, colony.colony_prvkey)


async def test_a_removed_executor_joins_again(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (_executor, rec):
        before = len(rec.states())
        await client.remove_executor(colony.name, cfg.executorname, colony.colony_prvkey)  # an admin removes it

        def rejoined() -> bool:
            after = rec.states()[before:]
            return State.REGISTERING in after and State.POLLING in after[after.index(State.REGISTERING):]

        await rec.wait_for(rejoined, timeout=30)
        assert (await colony.exec(cfg.executortype, "add", "3", "4"))[:2] == (0, "7")
    assert any(isinstance(e, LogLine) and e.message.startswith("no longer a member") for e in rec.events)


async def test_wrong_colony_key_is_a_clear_error(colony) -> None:
    cfg = config_for(colony, colony_prvkey=gen_prvkey())
    rec = Recorder()
    executor = ColonyExecutor(cfg, InlineSlots(default_registry()), on_event=rec)
    await asyncio.wait_for(executor.run(), 20)
    await executor.client.aclose()
    errors = [e.detail for e in rec.events if isinstance(e, StateChanged) and e.state == State.ERROR]
    assert errors and errors[0].startswith(
        f"access denied while registering with the colony key: it is not the owner key of colony '{colony.name}'"
    )
    assert executor.state == State.ERROR and rec.states()[-1] == State.ERROR  # not hidden behind "stopped"


async def test_200_echoes_through_a_10_s_outage_none_lost_none_run_twice(colony, client: ColoniesClient) -> None:
    proxy = await OutageProxy.started_for(colony.url)
    cfg = config_for(colony, server_url=proxy.url, max_backoff=1.0)
    try:
        async with running(cfg, slots=2) as (executor, rec):
            ps = [await client.submit(spec_for(cfg, "echo", str(i)), colony.user_prvkey) for i in range(200)]
            await rec.wait_for(lambda: executor.done >= 20)
            await proxy.cut()
            await asyncio.sleep(10)
            await proxy.start()
            await rec.wait_for(lambda: executor.done >= 200, 120)
            ended = [e for e in rec.events if isinstance(e, ProcessEnded)]
            assert sorted(e.processid for e in ended) == sorted(p.processid for p in ps)  # each ended here exactly once
        for i, p in enumerate(ps):
            got = await client.get_process(p.processid, colony.user_prvkey)
            assert (got.state, got.output, got.retries) == (SUCCESS, [str(i)], 0)
    finally:
        await proxy.cut()


async def test_real_server_restart_is_ridden_out(colony) -> None:
    pidfile = ROOT / ".colonies" / "server.pid"
    if not pidfile.exists():
        pytest.fail("this test restarts the local server of `python build.py up`; none was started from this checkout")
    cfg = config_for(colony, max_backoff=1.0)
    async with running(cfg) as (_executor, rec):
        pid = int(pidfile.read_text())
        os.killpg(pid, signal.SIGTERM)
        await rec.wait_for(lambda: rec.said("unreachable"))
        up = await asyncio.to_thread(subprocess.run, [sys.executable, str(ROOT / "build.py"), "up"], capture_output=True, text=True)
        assert up.returncode == 0, up.stdout + up.stderr
        assert (await colony.exec(cfg.executortype, "add", "2", "2"))[:2] == (0, "4")
