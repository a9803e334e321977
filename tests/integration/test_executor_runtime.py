"""The executor runtime in CPython against the real server, driven by the real CLI.

The same `ColonyExecutor` runs in the browser's worker; here its dispatch, error handling,
approval flow, stop, and recovery from a network outage are checked without a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from tools.browser import exec_argv
from wasm_executor import FAILED, SUCCESS, ColoniesClient, FunctionSpec, gen_id, gen_prvkey
from wasm_executor.executor import POLLING, STOPPED, WAITING_APPROVAL, ColonyExecutor, ExecutorConfig

from ..conftest import ROOT, unique
from ..proxy import OutageProxy

pytestmark = pytest.mark.server


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []
        self.changed = asyncio.Event()

    def __call__(self, kind: str, data: dict) -> None:
        self.events.append((kind, data))
        self.changed.set()

    def states(self) -> list[str]:
        return [d["state"] for k, d in self.events if k == "state"]

    def said(self, text: str) -> bool:
        """Whether any state detail so far contains `text`."""
        return any(text in d.get("detail", "") for k, d in self.events if k == "state")

    async def wait_for(self, predicate, timeout: float = 30) -> None:
        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)


@contextlib.asynccontextmanager
async def running(config: ExecutorConfig, client: ColoniesClient | None = None) -> AsyncIterator[tuple[ColonyExecutor, Recorder]]:
    rec = Recorder()
    executor = ColonyExecutor(config, on_event=rec, client=client)
    task = asyncio.create_task(executor.run())
    try:
        yield executor, rec
    finally:
        executor.stop()
        await asyncio.wait_for(task, 40)
        await executor.client.aclose()


def config_for(colony, **overrides) -> ExecutorConfig:
    values = {
        "server_url": colony.url, "colonyname": colony.name, "executorname": unique("rt"), "prvkey": gen_prvkey(),
        "executortype": unique("rttype"), "colony_prvkey": colony.colony_prvkey, "poll_timeout": 2,
    }
    values.update(overrides)
    return ExecutorConfig(**values)


async def cli_exec(colony, executortype: str, func: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.to_thread(colony.cli, *exec_argv(func, args, executortype))
    return proc.returncode, proc.stdout.strip(), proc.stderr


async def test_functions_through_the_cli_and_bad_input_fails_only_its_process(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (executor, rec):
        await rec.wait_for(lambda: POLLING in rec.states())
        code, out, _ = await cli_exec(colony, cfg.executortype, "add", "5", "3")
        assert (code, out) == (0, "8")
        code, out, _ = await cli_exec(colony, cfg.executortype, "add", "2.5", "-1")
        assert (code, out) == (0, "1.5")
        code, out, _ = await cli_exec(colony, cfg.executortype, "multiply", "7", "6")
        assert (code, out) == (0, "42")
        code, out, _ = await cli_exec(colony, cfg.executortype, "greet", "World")
        assert (code, out) == (0, "Hello, World! Greetings from Python in the browser.")
        code, out, _ = await cli_exec(colony, cfg.executortype, "echo", "Hello from browser!")
        assert (code, out) == (0, "Hello from browser!")

        bad = await client.submit(_spec(cfg, "add", ["x", "3"]), colony.user_prvkey)
        unknown = await client.submit(_spec(cfg, "no_such_function", []), colony.user_prvkey)
        after = await client.submit(_spec(cfg, "multiply", ["3", "3"]), colony.user_prvkey)
        done = await client.subscribe_process(after, SUCCESS, 30, colony.user_prvkey)
        assert done.output == [9]
        bad_p = await client.get_process(bad.processid, colony.user_prvkey)
        assert bad_p.state == FAILED and bad_p.errors == ["add: first argument 'x' is not a number"]
        unknown_p = await client.get_process(unknown.processid, colony.user_prvkey)
        assert unknown_p.state == FAILED and "unknown function 'no_such_function'" in unknown_p.errors[0]
        logs = await client.get_logs(colony.name, done.processid, "", 10, 0, colony.user_prvkey)
        assert logs and logs[0].message.startswith("multiply(3, 3) -> [9]")
        assert executor.done == 6 and executor.failed == 2

    functions = {f.funcname for f in await client.get_functions_by_executor(colony.name, cfg.executorname, colony.user_prvkey)}
    assert {"echo", "add", "multiply", "greet", "browser_info"} <= functions
    me = await client.get_executor(colony.name, cfg.executorname, colony.user_prvkey)
    assert me.capabilities.software[1].name == "wasm-executor"
    assert rec.states()[-1] == STOPPED


def _spec(cfg: ExecutorConfig, func: str, args: list) -> FunctionSpec:
    spec = FunctionSpec.new(func, cfg.executortype, cfg.colonyname)
    spec.args = args
    return spec


async def test_maxexectime_fails_a_function_that_runs_too_long(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: POLLING in rec.states())
        spec = _spec(cfg, "sleep", ["5"])
        spec.maxexectime, spec.maxretries = 1, 0
        slow = await client.submit(spec, colony.user_prvkey)

        def failed_event() -> dict | None:
            return next(
                (d for k, d in rec.events if k == "process" and d.get("processid") == slow.processid and d["status"] == "failed"), None
            )

        await rec.wait_for(lambda: failed_event() is not None, timeout=20)
        event = failed_event()
        assert event is not None
        assert event["error"] == "sleep did not finish within maxexectime 1 s"
        assert event["millis"] < 3000  # it did not wait the full 5 s
        await asyncio.sleep(0.5)
        assert (await client.get_process(slow.processid, colony.user_prvkey)).state == FAILED


async def test_admin_approval_mode_keeps_the_colony_key_out(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony, colony_prvkey=None, approval_poll_interval=0.3)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: WAITING_APPROVAL in rec.states())
        detail = next(d["detail"] for k, d in rec.events if k == "state" and d["state"] == WAITING_APPROVAL)
        expected = f"colonies executor add --name {cfg.executorname} --type {cfg.executortype} --executorid {gen_id(cfg.prvkey)}"
        assert detail == expected + " --approve"
        approve = await asyncio.to_thread(colony.cli, *detail.split()[1:], prvkey=colony.colony_prvkey)
        assert approve.returncode == 0, approve.stderr
        await rec.wait_for(lambda: POLLING in rec.states())
        code, out, _ = await cli_exec(colony, cfg.executortype, "add", "1", "2")
        assert (code, out) == (0, "3")
    await client.remove_executor(colony.name, cfg.executorname, colony.colony_prvkey)


async def test_waiting_for_approval_is_said_again_after_an_outage(colony) -> None:
    proxy = await OutageProxy.started_for(colony.url)
    cfg = config_for(colony, server_url=proxy.url, colony_prvkey=None, approval_poll_interval=0.3, max_backoff=1.0)
    try:
        async with running(cfg) as (_executor, rec):
            await rec.wait_for(lambda: WAITING_APPROVAL in rec.states())
            await proxy.cut()
            await rec.wait_for(lambda: rec.said("unreachable"))
            await proxy.start()
            await rec.wait_for(lambda: rec.states()[-1] == WAITING_APPROVAL)
            assert rec.states().count(WAITING_APPROVAL) == 2
    finally:
        await proxy.cut()


async def test_a_removed_executor_joins_again(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: POLLING in rec.states())
        before = len(rec.states())
        await client.remove_executor(colony.name, cfg.executorname, colony.colony_prvkey)  # an admin removes it

        def rejoined() -> bool:
            after = rec.states()[before:]
            return "registering" in after and POLLING in after[after.index("registering"):]

        await rec.wait_for(rejoined, timeout=30)
        code, out, _ = await cli_exec(colony, cfg.executortype, "add", "3", "4")
        assert (code, out) == (0, "7")
    logs = [d["message"] for k, d in rec.events if k == "log"]
    assert any(m.startswith("no longer a member") for m in logs)


async def test_wrong_colony_key_is_a_clear_error(colony) -> None:
    cfg = config_for(colony, colony_prvkey=gen_prvkey())
    rec = Recorder()
    executor = ColonyExecutor(cfg, on_event=rec)
    await asyncio.wait_for(executor.run(), 20)
    await executor.client.aclose()
    errors = [d["detail"] for k, d in rec.events if k == "state" and d["state"] == "error"]
    assert errors and errors[0].startswith(
        f"access denied while registering with the colony key: it is not the owner key of colony '{colony.name}'"
    )
    assert executor.state == "error" and rec.states()[-1] == "error"  # not hidden behind "stopped"


async def test_stop_then_start_serves_what_came_meanwhile(colony, client: ColoniesClient) -> None:
    cfg = config_for(colony)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: POLLING in rec.states())
    assert rec.states()[-1] == STOPPED
    queued = await client.submit(_spec(cfg, "echo", ["while stopped"]), colony.user_prvkey)
    await asyncio.sleep(1)
    assert (await client.get_process(queued.processid, colony.user_prvkey)).state == 0  # still waiting
    async with running(cfg):
        done = await client.subscribe_process(queued, SUCCESS, 30, colony.user_prvkey)
        assert done.output == ["while stopped"]


async def test_network_outage_loses_nothing(colony, client: ColoniesClient) -> None:
    proxy = await OutageProxy.started_for(colony.url)
    cfg = config_for(colony, server_url=proxy.url, max_backoff=1.0)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: POLLING in rec.states())
        # 1. An outage while idle: polling fails, is retried, and resumes.
        await proxy.cut()
        await rec.wait_for(lambda: rec.said("unreachable"))
        await proxy.start()
        code, out, _ = await cli_exec(colony, cfg.executortype, "add", "20", "22")
        assert (code, out) == (0, "42")
        # 2. An outage while a process is in hand: its result is delivered once the network is back.
        slow = await client.submit(_spec(cfg, "sleep", ["2"]), colony.user_prvkey)
        await rec.wait_for(lambda: any(d.get("processid") == slow.processid for k, d in rec.events if k == "process"))
        await proxy.cut()
        await asyncio.sleep(4)  # the function finishes while the server is unreachable
        assert (await client.get_process(slow.processid, colony.user_prvkey)).state == 1
        await proxy.start()
        done = await client.subscribe_process(slow, SUCCESS, 30, colony.user_prvkey)
        assert done.output == [2]
    await proxy.cut()


async def test_real_server_restart_is_ridden_out(colony) -> None:
    pidfile = ROOT / ".colonies" / "server.pid"
    if not pidfile.exists():
        pytest.fail("this test restarts the local server of `python build.py up`; none was started from this checkout")
    cfg = config_for(colony, max_backoff=1.0)
    async with running(cfg) as (_executor, rec):
        await rec.wait_for(lambda: POLLING in rec.states())
        pid = int(pidfile.read_text())
        os.killpg(pid, signal.SIGTERM)
        await rec.wait_for(lambda: rec.said("unreachable"))
        up = await asyncio.to_thread(subprocess.run, [sys.executable, str(ROOT / "build.py"), "up"], capture_output=True, text=True)
        assert up.returncode == 0, up.stdout + up.stderr
        code, out, _ = await cli_exec(colony, cfg.executortype, "add", "2", "2")
        assert (code, out) == (0, "4")
