"""Every ColoniesClient call against the real ColonyOS server, with its effect checked."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.helpers.colony import unique
from wasm_executor import (
    APPROVED,
    FAILED,
    OUT,
    PENDING,
    REJECTED,
    RUNNING,
    SUCCESS,
    WAITING,
    Attribute,
    Blueprint,
    BlueprintDefinition,
    BlueprintDefinitionNames,
    BlueprintDefinitionSpec,
    BlueprintHandler,
    BlueprintMetadata,
    Capabilities,
    ColoniesClient,
    Colony,
    Conditions,
    ConnectionFailed,
    Function,
    FunctionSpec,
    Hardware,
    Log,
    RequestTimeout,
    ServerError,
    Software,
    User,
    WorkflowSpec,
    gen_id,
    gen_prvkey,
)

pytestmark = pytest.mark.server


def spec_for(ex, colonyname: str, funcname: str = "echo", args: list | None = None, **extra) -> FunctionSpec:
    spec = FunctionSpec.new(funcname, ex.executortype, colonyname)
    spec.args = list(args or [])
    for key, value in extra.items():
        setattr(spec, key, value)
    return spec


async def test_version_and_server_info(colony, client: ColoniesClient) -> None:
    version = await client.version()  # unsigned; this server build leaves its version empty
    assert version["msgtype"] == "versionmsg" and "buildversion" in version
    info = await client.get_server_info()
    assert any(b["type"] == "http" and str(b["port"]) == colony.url.rsplit(":", 1)[1] for b in info["backends"]), info


async def test_colony_lifecycle(colony, client: ColoniesClient) -> None:
    assert (await client.get_colony(colony.name, colony.user_prvkey)).name == colony.name
    name, key = unique("pycolony"), gen_prvkey()
    added = await client.add_colony(Colony(colonyid=gen_id(key), name=name), colony.server_prvkey)
    assert added.name == name and added.colonyid == gen_id(key)
    assert name in [c.name for c in await client.get_colonies(colony.server_prvkey)]
    user_key = gen_prvkey()
    user = await client.add_user(User(colonyname=name, userid=gen_id(user_key), name="u1", email="u@x.invalid", phone="1"), key)
    assert user.name == "u1"
    assert (await client.get_colony(name, user_key)).colonyid == gen_id(key)
    await client.remove_colony(name, colony.server_prvkey)
    assert name not in [c.name for c in await client.get_colonies(colony.server_prvkey)]


async def test_executor_lifecycle(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor(approve=False)
    me = await client.get_executor(colony.name, ex.name, colony.user_prvkey)
    assert me.state == PENDING and me.executorid == ex.executorid
    with pytest.raises(ServerError) as denied:  # a pending executor is not a member yet
        await client.assign(colony.name, 1, ex.prvkey)
    assert denied.value.status == 403
    await client.approve_executor(colony.name, ex.name, colony.colony_prvkey)
    assert (await client.get_executor(colony.name, ex.name, ex.prvkey)).state == APPROVED
    await client.reject_executor(colony.name, ex.name, colony.colony_prvkey)
    assert (await client.get_executor(colony.name, ex.name, colony.user_prvkey)).state == REJECTED
    await client.approve_executor(colony.name, ex.name, colony.colony_prvkey)
    caps = Capabilities(hardware=[Hardware(model="test-bench", cores=3, mem="1Gi")], software=[Software(name="py", type="t", version="1")])
    await client.update_executor(colony.name, ex.name, caps, ex.prvkey)
    me = await client.get_executor(colony.name, ex.name, colony.user_prvkey)
    assert me.capabilities.hardware[0].cores == 3 and me.capabilities.software[0].name == "py"
    assert ex.name in [e.executorname for e in await client.get_executors(colony.name, colony.user_prvkey)]
    await client.remove_executor(colony.name, ex.name, colony.colony_prvkey)
    assert ex.name not in [e.executorname for e in await client.get_executors(colony.name, colony.user_prvkey) if e.state != 3]


async def test_cli_submit_sdk_assign_close_cli_prints_output(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()

    async def serve_one() -> None:
        process = None
        for _ in range(20):
            process = await client.assign(colony.name, 5, ex.prvkey)
            if process:
                break
        assert process is not None and process.state == RUNNING
        assert process.spec.funcname == "add" and process.spec.args == ["5", "3"]
        await client.set_output(process.processid, ["partial"], ex.prvkey)
        await client.close(process.processid, ex.prvkey, [8])

    server = asyncio.create_task(serve_one())
    cli = await asyncio.to_thread(
        colony.cli, "function", "exec", "--func", "add", "--args", "5", "--args", "3", "--targettype", ex.executortype, "--wait", "--out"
    )
    await server
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == "8"


async def test_fail_carries_errors(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    submitted = await client.submit(spec_for(ex, colony.name, "boom"), colony.user_prvkey)
    assert submitted.state == WAITING
    process = await client.assign(colony.name, 5, ex.prvkey)
    assert process is not None and process.processid == submitted.processid
    await client.fail(process.processid, ex.prvkey, ["boom: bad input 'x'"])
    done = await client.get_process(process.processid, colony.user_prvkey)
    assert done.state == FAILED and done.errors == ["boom: bad input 'x'"]
    failed = await client.get_processes(colony.name, 100, FAILED, colony.user_prvkey, executortype=ex.executortype)
    assert [p.processid for p in failed] == [process.processid]


async def test_empty_long_poll_is_none_not_an_error(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    started = time.monotonic()
    assert await client.assign(colony.name, 1, ex.prvkey) is None
    assert time.monotonic() - started >= 0.9  # the server really held the poll
    assert await client.assign(colony.name, -1, ex.prvkey) is None  # one immediate try


async def test_errors_are_typed(colony, client: ColoniesClient) -> None:
    with pytest.raises(ServerError) as nf:
        await client.get_process("0" * 64, colony.user_prvkey)
    assert nf.value.status == 404 and not nf.value.conn_err()
    with pytest.raises(ServerError) as denied:  # a key that is no member of the colony
        await client.get_executors(colony.name, gen_prvkey())
    assert denied.value.status == 403
    async with ColoniesClient("http://127.0.0.1:9") as nowhere:
        with pytest.raises(ConnectionFailed) as conn:
            await nowhere.get_colony(colony.name, colony.user_prvkey)
    assert conn.value.conn_err()


async def test_timeout_is_its_own_type(colony, make_executor) -> None:
    ex = await make_executor()
    async with ColoniesClient(colony.url, timeout=0.5) as impatient:
        with pytest.raises(RequestTimeout) as slow:
            # the server holds this poll 5 s; the transport gives it 0.5 s
            await impatient.rpc("assignprocessmsg", {"colonyname": colony.name, "timeout": 5}, ex.prvkey, timeout=0.5)
    assert slow.value.conn_err()


async def test_process_management(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    p1 = await client.submit(spec_for(ex, colony.name, args=["one"]), colony.user_prvkey)
    p2 = await client.submit(spec_for(ex, colony.name, args=["two"]), colony.user_prvkey)
    waiting = await client.get_processes(colony.name, 10, WAITING, colony.user_prvkey, executortype=ex.executortype)
    assert {p.processid for p in waiting} == {p1.processid, p2.processid}
    await client.cancel_process(p2.processid, colony.user_prvkey)
    assert (await client.get_process(p2.processid, colony.user_prvkey)).state == 4
    await client.remove_process(p1.processid, colony.user_prvkey)
    with pytest.raises(ServerError):
        await client.get_process(p1.processid, colony.user_prvkey)


async def test_remove_all_processes_in_a_colony_of_its_own(colony, client: ColoniesClient) -> None:
    name, owner, user = unique("pyrm"), gen_prvkey(), gen_prvkey()
    await client.add_colony(Colony(colonyid=gen_id(owner), name=name), colony.server_prvkey)
    try:
        await client.add_user(User(colonyname=name, userid=gen_id(user), name="u", email="u@x.invalid", phone="1"), owner)
        for i in range(3):
            await client.submit(FunctionSpec.new(f"f{i}", "t", name), user)
        assert len(await client.get_processes(name, 10, WAITING, user)) == 3
        await client.remove_all_processes(name, WAITING, owner)  # colony owner only
        assert await client.get_processes(name, 10, WAITING, user) == []
        node = FunctionSpec(nodename="a", funcname="f", conditions=Conditions(colonyname=name, executortype="t"))
        wf = WorkflowSpec(colonyname=name, functionspecs=[node])
        await client.submit_workflow(wf, user)
        assert len(await client.get_processgraphs(name, 10, WAITING, user)) == 1
        await client.remove_all_processgraphs(name, WAITING, owner)
        assert await client.get_processgraphs(name, 10, WAITING, user) == []
    finally:
        await client.remove_colony(name, colony.server_prvkey)


async def test_attributes(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    await client.submit(spec_for(ex, colony.name), colony.user_prvkey)
    process = await client.assign(colony.name, 5, ex.prvkey)
    assert process is not None
    attr = Attribute.new(colony.name, process.processid, "progress", "50%")
    attr.attributetype = OUT
    added = await client.add_attr(attr, ex.prvkey)
    assert added.attributeid and added.value == "50%"
    assert (await client.get_attr(added.attributeid, colony.user_prvkey)).key == "progress"
    keys = [a.key for a in (await client.get_process(process.processid, colony.user_prvkey)).attributes]
    assert "progress" in keys
    await client.close(process.processid, ex.prvkey)


async def test_workflow(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    first = spec_for(ex, colony.name, args=["a"], nodename="first")
    second = spec_for(ex, colony.name, args=["b"], nodename="second")
    second.conditions.dependencies = ["first"]
    graph = await client.submit_workflow(WorkflowSpec(colonyname=colony.name, functionspecs=[first, second]), colony.user_prvkey)
    assert len(graph.processids) == 2 and len(graph.rootprocessids) == 1
    fetched = await client.get_processgraph(graph.processgraphid, colony.user_prvkey)
    assert set(fetched.processids) == set(graph.processids)
    for expected in (["a"], ["b"]):  # the dependency orders them
        process = await client.assign(colony.name, 5, ex.prvkey)
        assert process is not None and process.spec.args == expected
        await client.close(process.processid, ex.prvkey, expected)
    for _ in range(50):
        if (await client.get_processgraph(graph.processgraphid, colony.user_prvkey)).state == SUCCESS:
            break
        await asyncio.sleep(0.1)
    assert graph.processgraphid in [g.processgraphid for g in await client.get_processgraphs(colony.name, 100, SUCCESS, colony.user_prvkey)]
    await client.remove_processgraph(graph.processgraphid, colony.user_prvkey)
    with pytest.raises(ServerError):
        await client.get_processgraph(graph.processgraphid, colony.user_prvkey)


async def test_logs(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    await client.submit(spec_for(ex, colony.name), colony.user_prvkey)
    process = await client.assign(colony.name, 5, ex.prvkey)
    assert process is not None
    await client.add_log(Log(processid=process.processid, message="step 1 ✓"), ex.prvkey)
    await client.add_log(Log(processid=process.processid, message="step 2"), ex.prvkey)
    logs = await client.get_logs(colony.name, process.processid, "", 10, 0, colony.user_prvkey)
    assert [entry.message for entry in logs] == ["step 1 ✓", "step 2"]
    await client.close(process.processid, ex.prvkey)


async def test_channels_and_channel_subscription(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    await client.submit(spec_for(ex, colony.name, channels=["out"]), colony.user_prvkey)
    process = await client.assign(colony.name, 5, ex.prvkey)
    assert process is not None
    received = asyncio.create_task(client.subscribe_channel(process.processid, "out", 0, 10, colony.user_prvkey))
    await asyncio.sleep(0.5)
    await client.channel_append(process.processid, "out", 1, "hello", "", 0, ex.prvkey)
    await client.channel_append(process.processid, "out", 2, "wörld", "", 0, ex.prvkey)
    await client.channel_append(process.processid, "out", 3, "", "end", 0, ex.prvkey)
    entries = await asyncio.wait_for(received, 15)
    assert [e.payload_as_string() for e in entries if e.type != "end"] == ["hello", "wörld"]
    assert entries[-1].type == "end"
    read = await client.channel_read(process.processid, "out", 0, 0, colony.user_prvkey)
    assert [e.sequence for e in read] == [1, 2, 3]
    assert read[1].payload_as_string() == "wörld"
    assert [e.sequence for e in await client.channel_read(process.processid, "out", 1, 1, colony.user_prvkey)] == [2]
    await client.close(process.processid, ex.prvkey)


async def test_subscribe_process_fires_on_state_change(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    submitted = await client.submit(spec_for(ex, colony.name, args=["sub"]), colony.user_prvkey)
    waiter = asyncio.create_task(client.subscribe_process(submitted, SUCCESS, 20, colony.user_prvkey))
    process = await client.assign(colony.name, 5, ex.prvkey)
    assert process is not None
    await client.close(process.processid, ex.prvkey, ["done!"])
    finished = await asyncio.wait_for(waiter, 20)
    assert finished.state == SUCCESS and finished.output == ["done!"]


async def test_subscribe_process_times_out(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    submitted = await client.submit(spec_for(ex, colony.name), colony.user_prvkey)
    with pytest.raises(RequestTimeout):
        await client.subscribe_process(submitted, SUCCESS, 1, colony.user_prvkey)


async def test_statistics(colony, client: ColoniesClient, make_executor) -> None:
    before = await client.get_statistics(colony.name, colony.user_prvkey)
    await make_executor()
    stats = await client.get_statistics(colony.name, colony.user_prvkey)
    assert stats.executors == before.executors + 1
    server_stats = await client.get_server_statistics(colony.server_prvkey)
    assert server_stats.colonies >= 1


async def test_functions(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    other = await make_executor()
    fn = Function(executorname=ex.name, executortype=ex.executortype, colonyname=colony.name, funcname="add", description="adds")
    added = await client.add_function(fn, ex.prvkey)
    assert added.functionid and added.funcname == "add"
    theirs = Function(executorname=other.name, executortype=other.executortype, colonyname=colony.name, funcname="x")
    await client.add_function(theirs, other.prvkey)
    mine = await client.get_functions_by_executor(colony.name, ex.name, colony.user_prvkey)
    assert [(f.funcname, f.description) for f in mine] == [("add", "adds")]
    everyone = {(f.executorname, f.funcname) for f in await client.get_functions(colony.name, colony.user_prvkey)}
    assert {(ex.name, "add"), (other.name, "x")} <= everyone
    await client.remove_function(added.functionid, ex.prvkey)
    assert await client.get_functions_by_executor(colony.name, ex.name, colony.user_prvkey) == []


async def test_blueprints(colony, client: ColoniesClient, make_executor) -> None:
    ex = await make_executor()
    kind = "Pytest" + unique("k").replace("-", "")
    definition = BlueprintDefinition(
        kind="BlueprintDefinition",
        metadata=BlueprintMetadata(name=f"{kind.lower()}s.test", colonyname=colony.name),
        spec=BlueprintDefinitionSpec(
            group="test", version="v1", scope="Namespaced",
            names=BlueprintDefinitionNames(kind=kind, listKind=f"{kind}List", singular=kind.lower(), plural=f"{kind.lower()}s"),
            handler=BlueprintHandler(executorType=ex.executortype, functionName="reconcile"),
        ),
    )
    added_def = await client.add_blueprint_definition(definition, colony.colony_prvkey)
    def_name = added_def.metadata.name
    assert (await client.get_blueprint_definition(colony.name, def_name, colony.user_prvkey)).spec.names.kind == kind
    assert def_name in [d.metadata.name for d in await client.get_blueprint_definitions(colony.name, colony.user_prvkey)]

    bp = Blueprint(kind=kind, metadata=BlueprintMetadata(name="bp1", colonyname=colony.name), spec={"replicas": 1})
    added = await client.add_blueprint(bp, colony.user_prvkey)
    assert added.blueprintid and added.spec == {"replicas": 1}
    assert (await client.get_blueprint(colony.name, "bp1", colony.user_prvkey)).spec["replicas"] == 1
    assert "bp1" in [b.metadata.name for b in await client.get_blueprints(colony.name, kind, "", colony.user_prvkey)]
    added.spec = {"replicas": 2}
    updated = await client.update_blueprint(added, False, colony.user_prvkey)
    assert updated.spec["replicas"] == 2
    await client.update_blueprint_status(colony.name, "bp1", {"ready": 2}, ex.prvkey)
    assert (await client.get_blueprint(colony.name, "bp1", colony.user_prvkey)).status == {"ready": 2}
    reconcile = await client.reconcile_blueprint(colony.name, "bp1", True, colony.user_prvkey)
    assert reconcile.spec.funcname == "reconcile" and reconcile.spec.conditions.executortype == ex.executortype
    await client.remove_blueprint(colony.name, "bp1", colony.user_prvkey)
    with pytest.raises(ServerError):
        await client.get_blueprint(colony.name, "bp1", colony.user_prvkey)
    await client.remove_blueprint_definition(colony.name, def_name, colony.colony_prvkey)
    assert def_name not in [d.metadata.name for d in await client.get_blueprint_definitions(colony.name, colony.user_prvkey)]
