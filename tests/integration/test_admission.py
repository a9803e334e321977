"""Join by link on the real server: the admission service (a child process), CPython executors,
the real CLI. Refusals leave the colony unchanged; the service restarted keeps its invites and counts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.admission import Admission, admission_service
from tests.helpers.colony import unique
from tests.helpers.engine import config_for, running
from tools.devenv import read_dev_env
from wasm_executor import RUNNING, WAITING, ColoniesClient, FunctionSpec, gen_id, gen_prvkey, gen_signature
from wasm_executor.events import Farewell, State
from wasm_executor.joining import AdmissionRefused, join_by_invite, parse_join_link, signed_text
from wasm_executor.objects import APPROVED
from wasm_executor.transport.native import NativeTransport

pytestmark = pytest.mark.server


@pytest.fixture
def service(colony, tmp_path):
    with admission_service(colony, tmp_path / "admission.db") as s:
        yield s


async def names_in_colony(colony, client: ColoniesClient) -> dict[str, int]:
    return {e.executorname: e.state for e in await client.get_executors(colony.name, colony.user_prvkey)}


async def try_join(service: Admission, colony, invite: str, executortype: str, name: str | None = None,
                   prvkey: str | None = None) -> str:
    """Join through the service as a fresh executor; the refusal's reason, or "admitted"."""
    transport = NativeTransport()
    try:
        await join_by_invite(transport, service.url, invite, prvkey or gen_prvkey(), colony.name,
                             name or unique("refused"), executortype)
    except AdmissionRefused as exc:
        return exc.reason
    finally:
        await transport.aclose()
    return "admitted"


async def listed_as(service: Admission, invite_id: str, state: str) -> None:
    """Until `admission list` shows the invite in `state` (an expiry is the service's clock's)."""
    while not re.search(rf"^{re.escape(invite_id)}\s+{state}\b", service.cli("list").stdout, re.MULTILINE):
        await asyncio.sleep(0.1)


def post(url: str, body: bytes, origin: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    if origin:
        request.add_header("Origin", origin)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


async def test_executors_join_with_a_link_and_serve_without_the_colony_key(colony, client, service: Admission) -> None:
    executortype = unique("jointype")
    invite_id, text, link = service.invite("--uses", "2", "--expires", "1h", "--type", executortype)
    assert parse_join_link(link).invite == text and parse_join_link(link).executortype == executortype
    cfgs = [config_for(colony, executortype=executortype, colony_prvkey=None, admission_url=service.url, invite=text)
            for _ in range(2)]
    async with running(cfgs[0]) as (a, rec_a), running(cfgs[1]) as (b, _):
        assert a.state == b.state == State.POLLING, rec_a.states()
        listed = colony.cli("executor", "ls")
        assert cfgs[0].executorname in listed.stdout and cfgs[1].executorname in listed.stdout
        assert (await colony.exec(executortype, "add", "5", "3"))[:2] == (0, "8")
    assert "2/2" in service.cli("list").stdout
    log = service.cli("log").stdout
    assert log.count("admitted") == 2 and gen_id(cfgs[0].prvkey) in log and invite_id in log

    # Removed from the colony (or timed out as stale), the same executor joins again: no use spent.
    await client.remove_executor(colony.name, cfgs[0].executorname, colony.colony_prvkey)
    async with running(cfgs[0]) as (again, _):
        assert again.state == State.POLLING
    assert "2/2" in service.cli("list").stdout
    assert "readmitted" in service.cli("log").stdout
    # A third executor finds the invite used up, and the colony does not hear of it.
    assert await try_join(service, colony, text, executortype) == "used up"


async def test_each_bad_join_is_refused_with_its_reason_and_the_colony_is_unchanged(colony, client, service: Admission) -> None:
    executortype = unique("jointype")
    before = await names_in_colony(colony, client)
    expired_id, expired, _ = service.invite("--expires", "1s", "--type", executortype)
    used = service.invite("--uses", "1", "--type", executortype)[1]
    revoked_id, revoked, _ = service.invite("--type", executortype)
    good_id, good, _ = service.invite("--uses", "5", "--type", executortype)
    assert service.cli("revoke", revoked_id).returncode == 0
    await asyncio.wait_for(listed_as(service, expired_id, "expired"), 10)
    assert await try_join(service, colony, used, executortype) == "admitted"
    refusals = {
        "expired": await try_join(service, colony, expired, executortype),
        "used up": await try_join(service, colony, used, executortype),
        "revoked": await try_join(service, colony, revoked, executortype),
        "unknown invite": await try_join(service, colony, good_id + ".forged-secret-0000000000000000", executortype),
        "wrong type": await try_join(service, colony, good, "sometype"),
    }
    assert refusals == {reason: reason for reason in refusals}

    # A join whose proof is signed by another key than the executor's it names.
    transport = NativeTransport()
    status, text = await transport.post(f"{service.url}/challenge", "{}", 10)
    claimed, signer = gen_prvkey(), gen_prvkey()
    join = {"challenge": json.loads(text)["challenge"], "invite": good, "colonyname": colony.name,
            "executorid": gen_id(claimed), "executorname": unique("forged"), "executortype": executortype, "locationname": ""}
    forged = json.dumps({"join": join, "signature": gen_signature(signed_text(join), signer)})
    status, text = await transport.post(f"{service.url}/join", forged, 10)
    # The same challenge cannot be used twice, even with a good signature (a joiner would ask for a new one).
    replay, replay_text = await transport.post(
        f"{service.url}/join", json.dumps({"join": join, "signature": gen_signature(signed_text(join), claimed)}), 10)
    await transport.aclose()
    assert (status, json.loads(text)["reason"]) == (403, "bad proof")
    assert (replay, json.loads(replay_text)["reason"]) == (409, "stale challenge")

    after = await names_in_colony(colony, client)
    added = {n for n in after if n not in before}
    assert len(added) == 1  # the one good join above; no refusal added or replaced an executor
    assert "5" in service.cli("list").stdout and "0/5" in service.cli("list").stdout  # refusals spent nothing
    journal = service.cli("log", "-n", "50").stdout
    for reason in [*refusals, "bad proof", "stale challenge"]:
        assert f"refused ({reason})" in journal


async def test_the_service_restarted_keeps_its_invites_counts_and_admissions(colony, client, service: Admission) -> None:
    executortype = unique("jointype")
    _, text, _ = service.invite("--uses", "1", "--type", executortype)
    cfg = config_for(colony, executortype=executortype, colony_prvkey=None, admission_url=service.url, invite=text)
    async with running(cfg) as (executor, _):
        assert executor.state == State.POLLING
    service.stop()
    service.start()
    assert "1/1" in service.cli("list").stdout
    assert await try_join(service, colony, text, executortype) == "used up"
    await client.remove_executor(colony.name, cfg.executorname, colony.colony_prvkey)
    async with running(cfg) as (executor, _):  # its admission outlived the restart: no use needed
        assert executor.state == State.POLLING
    me = await client.get_executor(colony.name, cfg.executorname, cfg.prvkey)
    assert me.state == APPROVED


async def test_a_refused_join_stops_the_executor_with_the_reason(colony, service: Admission) -> None:
    executortype = unique("jointype")
    invite_id, text, _ = service.invite("--type", executortype)
    service.cli("revoke", invite_id)
    cfg = config_for(colony, executortype=executortype, colony_prvkey=None, admission_url=service.url, invite=text)
    async with running(cfg) as (executor, rec):
        assert executor.state == State.ERROR
        assert rec.said("the admission service refused this executor (revoked)")


async def test_a_name_held_by_another_executor_is_refused(colony, service: Admission, make_executor) -> None:
    other = await make_executor()  # an executor the admin added by hand
    _, text, _ = service.invite("--type", other.executortype)
    assert await try_join(service, colony, text, other.executortype, name=other.name) == "name taken"


def test_requests_are_bounded_in_size_rate_and_origin(colony, tmp_path) -> None:
    with admission_service(colony, tmp_path / "a.db", page_url="http://127.0.0.1:8000/", rate=1, burst=40) as service:
        status, _, text = post(f"{service.url}/join", b"x" * 10_000)
        assert (status, json.loads(text)["reason"]) == (413, "too large")
        status, headers, _ = post(f"{service.url}/challenge", b"{}", origin="http://127.0.0.1:8000")
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
        status, headers, text = post(f"{service.url}/challenge", b"{}", origin="http://evil.example")
        assert (status, json.loads(text)["reason"]) == (403, "origin not allowed")
        assert "Access-Control-Allow-Origin" not in headers
        statuses = [post(f"{service.url}/challenge", b"{}")[0] for _ in range(60)]
        assert statuses.count(429) >= 15 and statuses[0] == 200


async def test_the_service_that_build_up_started_admits_by_its_link(colony) -> None:
    env = read_dev_env()
    assert {"WASM_ADMISSION_URL", "WASM_ADMISSION_DB", "WASM_PAGE_URL"} <= env.keys(), "run `python build.py up`"
    service = Admission(env["WASM_ADMISSION_URL"], Path(env["WASM_ADMISSION_DB"]), {**os.environ, **env}, [])
    executortype = unique("jointype")
    _, text, link = service.invite("--type", executortype)
    assert link.startswith(env["WASM_PAGE_URL"] + "?")
    cfg = config_for(colony, executortype=executortype, colony_prvkey=None, admission_url=service.url, invite=text)
    async with running(cfg) as (executor, _):
        assert executor.state == State.POLLING
        assert (await colony.exec(executortype, "multiply", "7", "6"))[:2] == (0, "42")


async def test_a_hundred_executors_join_from_one_link_and_the_hundred_and_first_is_refused(colony, client, tmp_path) -> None:
    # A lab behind one address: 2 requests a machine at once (the default burst, 40, would make most
    # of them wait and retry, as an executor does; that is the rate limit's own test below).
    with admission_service(colony, tmp_path / "lab.db", burst=200) as service:
        executortype = unique("labtype")
        _, text, _ = service.invite("--uses", "100", "--type", executortype)
        keys = [gen_prvkey() for _ in range(100)]
        names = [f"lab-{i:03d}-{executortype}" for i in range(100)]
        started = time.monotonic()
        outcomes = await asyncio.gather(*(try_join(service, colony, text, executortype, name, key)
                                          for name, key in zip(names, keys, strict=True)))
        took = time.monotonic() - started
        assert outcomes == ["admitted"] * 100
        assert await try_join(service, colony, text, executortype) == "used up"
        members = {e.executorname: e for e in await client.get_executors(colony.name, colony.user_prvkey)}
        assert all(members[n].state == APPROVED and members[n].executorid == gen_id(k) for n, k in zip(names, keys, strict=True))
        assert "100/100" in service.cli("list").stdout
        print(f"\n100 joins through the admission service in {took:.1f} s")
        for name in names:
            await client.remove_executor(colony.name, name, colony.colony_prvkey)


async def test_a_leave_removes_the_executor_and_requeues_what_it_held_and_cannot_be_replayed(
    colony, client, service: Admission,
) -> None:
    """What a page's farewell does when it joined by link: its leave, signed at join time, makes
    the service remove it, and the server puts its RUNNING process back in the queue. The same
    leave after the next join is refused."""
    executortype = unique("leavetype")
    _, text, _ = service.invite("--uses", "1", "--expires", "1h", "--type", executortype)
    cfg = config_for(colony, executortype=executortype, colony_prvkey=None, admission_url=service.url, invite=text)
    spec = FunctionSpec.new("sleep", executortype, colony.name)
    spec.args = [30]
    async with running(cfg) as (executor, rec):
        farewell = next(e for e in rec.events if isinstance(e, Farewell))
        assert farewell.url == f"{service.url}/leave"
        process = await client.submit(spec, colony.user_prvkey)
        for _ in range(300):
            held = await client.get_process(process.processid, colony.user_prvkey)
            if held.state == RUNNING:
                break
            await asyncio.sleep(0.1)
        assert held.assignedexecutorid == executor.executorid
        status, _, reply = await asyncio.to_thread(post, farewell.url, farewell.body.encode(), "http://127.0.0.1:8000")
        assert (status, json.loads(reply)) == (200, {"left": True})
        requeued = await client.get_process(process.processid, colony.user_prvkey)
        assert (requeued.state, requeued.assignedexecutorid) == (WAITING, "")
        assert (await names_in_colony(colony, client))[cfg.executorname] == 3  # unregistered
        executor.stop(now=True)
    await client.cancel_process(process.processid, colony.user_prvkey)
    assert "left" in service.cli("log").stdout

    async with running(cfg) as (again, rec_again):  # joins again (readmitted): the old leave is stale now
        assert again.state == State.POLLING
        fresh = next(e for e in rec_again.events if isinstance(e, Farewell))
        assert fresh.body != farewell.body
        status, _, reply = await asyncio.to_thread(post, farewell.url, farewell.body.encode(), "http://127.0.0.1:8000")
        assert status == 403 and json.loads(reply)["reason"] == "bad leave"
        assert (await names_in_colony(colony, client))[cfg.executorname] == APPROVED
