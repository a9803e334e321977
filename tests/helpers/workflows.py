"""Workflows submitted with the real CLI (`colonies workflow submit --spec`), and what their steps
must compute from their parents' outputs: the same checks for every kind of executor."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from wasm_executor import SUCCESS, ColoniesClient, Process, gen_hash


def chain(executortype: str) -> list[dict]:
    """add(3, 4) = 7 → fibonacci(7) = "13" → sha3("13")."""
    def step(name: str, func: str, args: list, after: list[str]) -> dict:
        return {"nodename": name, "funcname": func, "args": args, "maxexectime": 30, "maxretries": 1,
                "conditions": {"executortype": executortype, "dependencies": after}}
    return [step("a", "add", ["3", "4"], []), step("b", "fibonacci", [], ["a"]), step("c", "sha3", [], ["b"])]


def fan_out_in(executortype: str, width: int = 10) -> list[dict]:
    """add(i, i) for i in 1..width, then sum of all: 2 * (1 + … + width)."""
    specs = [{"nodename": f"m{i}", "funcname": "add", "args": [str(i), str(i)], "maxexectime": 30, "maxretries": 1,
              "conditions": {"executortype": executortype, "dependencies": []}} for i in range(1, width + 1)]
    specs.append({"nodename": "total", "funcname": "sum", "args": [], "maxexectime": 30, "maxretries": 1,
                  "conditions": {"executortype": executortype, "dependencies": [s["nodename"] for s in specs]}})
    return specs


async def submit_with_cli(colony, specs: list[dict], tmp_path: Path) -> str:
    """`colonies workflow submit --spec FILE`; the graph's ID from what the CLI says."""
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(specs))
    proc = await asyncio.to_thread(colony.cli, "workflow", "submit", "--spec", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.search(r"WorkflowID=([0-9a-f]{64})", proc.stdout + proc.stderr)
    assert found, proc.stdout + proc.stderr
    return found.group(1)


async def graph_processes(client: ColoniesClient, graph_id: str, user: str, timeout: float = 60) -> dict[str, Process]:
    """Every process of the graph once all have ended, by node name."""
    graph = await client.get_processgraph(graph_id, user)
    ended = {}
    for pid in graph.processids:
        p = await client.wait_for_end(await client.get_process(pid, user), int(timeout), user)
        ended[p.spec.nodename] = p
    return ended


async def assert_chain_and_fan_in(colony, client: ColoniesClient, executortype: str, tmp_path: Path) -> None:
    user = colony.user_prvkey
    steps = await graph_processes(client, await submit_with_cli(colony, chain(executortype), tmp_path), user)
    assert {n: p.state for n, p in steps.items()} == {"a": SUCCESS, "b": SUCCESS, "c": SUCCESS}
    assert steps["a"].output == [7] and steps["b"].input == [7] and steps["b"].output == ["13"]
    assert steps["c"].input == ["13"] and steps["c"].output == [gen_hash("13")]
    nodes = await graph_processes(client, await submit_with_cli(colony, fan_out_in(executortype), tmp_path), user)
    assert all(p.state == SUCCESS for p in nodes.values())
    assert nodes["total"].input == [2 * i for i in range(1, 11)]  # the parents' outputs, in dependency order
    assert nodes["total"].output == [110]
