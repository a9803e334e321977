"""`ColoniesClient`: every call of the Rust SDK, same names, same argument order, async.

Each method builds one signed envelope (`envelope.build_request`), sends it through the
transport seam and parses the reply (`envelope.parse_reply`). Every call takes the private key
that signs it (in most, as in the Rust SDK, as the last argument; `assign`, `close`, `fail`,
`get_processes`, `get_logs` and `subscribe_channel` keep the Rust SDK's order, with optional
arguments after it), so one client can act for several identities.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .envelope import build_request, parse_reply
from .errors import ProtocolError, RequestTimeout, ServerError, TransportError
from .objects import (
    CANCELLED,
    FAILED,
    SUCCESS,
    Attribute,
    Blueprint,
    BlueprintDefinition,
    Capabilities,
    ChannelEntry,
    Colony,
    Executor,
    Function,
    FunctionSpec,
    Log,
    Model,
    Process,
    ProcessGraph,
    Statistics,
    User,
    WorkflowSpec,
)
from .servers import Servers
from .transport import Transport, WebSocket, default_transport

M = TypeVar("M", bound=Model)

DEFAULT_TIMEOUT = 30.0
# Extra time the HTTP request gets beyond the server-side long-poll timeout of `assign`.
LONG_POLL_MARGIN = 10.0
# A wait reads the process at once, then after WAIT_FIRST_PERIOD, each pause WAIT_GROWTH times the
# last, up to its cap: an end is seen within half the time the wait had lasted (or one cap), and a
# long wait costs one read per cap.
WAIT_FIRST_PERIOD = 0.01
WAIT_GROWTH = 1.5
WAIT_MAX_PERIOD = 1.0
ENDED_STATES = (SUCCESS, FAILED, CANCELLED)
FAILED_REREAD_PAUSES = (0.01, 0.02, 0.05, 0.1)  # a FAILED process with no errors yet (see get_process); a
# failure that truly has none (a workflow step failed for its parent) is returned after these


def wait_periods(max_period: float = WAIT_MAX_PERIOD) -> Iterator[float]:
    """The pauses between a wait's reads: short at first (most processes end soon), growing to `max_period`."""
    period = WAIT_FIRST_PERIOD
    while True:
        yield min(period, max_period)
        period *= WAIT_GROWTH


def _many(cls: type[M], data: Any) -> list[M]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ProtocolError(f"expected a list of {cls.__name__}, got {type(data).__name__}")
    return [cls.from_dict(item) for item in data]


def _pubsub_url(base: str) -> str:
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + "/pubsub"
    return "ws://" + base.removeprefix("http://") + "/pubsub"


class ColoniesClient:
    """`server_url`: one server (or the load balancer in front of replicas), or several replicas'
    URLs (a list, or one text with commas or spaces): a call that cannot reach one fails as
    `TransportError`, and the caller's next try goes to the next (see `servers.Servers`)."""

    def __init__(self, server_url: str | Sequence[str], transport: Transport | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.servers = Servers(server_url)
        self.transport = transport or default_transport()
        self.timeout = timeout

    @property
    def server_url(self) -> str:
        """The server the next call goes to."""
        return self.servers.current()

    @property
    def api_url(self) -> str:
        return f"{self.server_url}/api"

    @property
    def pubsub_url(self) -> str:
        return _pubsub_url(self.server_url)

    async def rpc(self, msgtype: str, payload: dict[str, Any], prvkey: str | None, timeout: float | None = None) -> Any:
        """Send one message and return the decoded reply payload (``None`` for an empty reply)."""
        body = build_request(msgtype, payload, prvkey)
        url = self.servers.current()
        try:
            status, text = await self.transport.post(f"{url}/api", body, timeout or self.timeout)
            reply = parse_reply(status, text)
        except TransportError:
            self.servers.failed(url)
            raise
        except ServerError:
            self.servers.answered(url)
            raise
        self.servers.answered(url)
        return reply

    async def _connect_ws(self) -> WebSocket:
        url = self.servers.current()
        try:
            ws = await self.transport.connect_ws(_pubsub_url(url), self.timeout)
        except TransportError:
            self.servers.failed(url)
            raise
        self.servers.answered(url)
        return ws

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> ColoniesClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ server

    async def version(self) -> dict[str, Any]:
        return await self.rpc("versionmsg", {}, None) or {}

    async def get_server_info(self) -> dict[str, Any]:
        return await self.rpc("getserverinfomsg", {}, None) or {}

    # ------------------------------------------------------------------ colonies

    async def add_colony(self, colony: Colony, prvkey: str) -> Colony:
        return Colony.from_dict(await self.rpc("addcolonymsg", {"colony": colony.to_dict()}, prvkey))

    async def remove_colony(self, colony_name: str, prvkey: str) -> None:
        await self.rpc("removecolonymsg", {"colonyname": colony_name}, prvkey)

    async def get_colony(self, colonyname: str, prvkey: str) -> Colony:
        return Colony.from_dict(await self.rpc("getcolonymsg", {"colonyname": colonyname}, prvkey))

    async def get_colonies(self, prvkey: str) -> list[Colony]:
        return _many(Colony, await self.rpc("getcoloniesmsg", {}, prvkey))

    async def add_user(self, user: User, prvkey: str) -> User:
        return User.from_dict(await self.rpc("addusermsg", {"user": user.to_dict()}, prvkey))

    # ------------------------------------------------------------------ executors

    async def add_executor(self, executor: Executor, prvkey: str) -> Executor:
        return Executor.from_dict(await self.rpc("addexecutormsg", {"executor": executor.to_dict()}, prvkey))

    async def approve_executor(self, colonyname: str, executorname: str, prvkey: str) -> None:
        await self.rpc("approveexecutormsg", {"colonyname": colonyname, "executorname": executorname}, prvkey)

    async def reject_executor(self, colonyname: str, executorname: str, prvkey: str) -> None:
        await self.rpc("rejectexecutormsg", {"colonyname": colonyname, "executorname": executorname}, prvkey)

    async def remove_executor(self, colonyname: str, executorname: str, prvkey: str) -> None:
        await self.rpc("removeexecutormsg", {"colonyname": colonyname, "executorname": executorname}, prvkey)

    async def get_executor(self, colonyname: str, executorname: str, prvkey: str) -> Executor:
        payload = {"colonyname": colonyname, "executorname": executorname}
        return Executor.from_dict(await self.rpc("getexecutormsg", payload, prvkey))

    async def get_executors(self, colonyname: str, prvkey: str) -> list[Executor]:
        return _many(Executor, await self.rpc("getexecutorsmsg", {"colonyname": colonyname}, prvkey))

    async def update_executor(self, colonyname: str, executorname: str, capabilities: Capabilities, prvkey: str) -> None:
        """Report the executor's capabilities (signed by the executor itself)."""
        payload = {"colonyname": colonyname, "executorname": executorname, "capabilities": capabilities.to_dict()}
        await self.rpc("updateexecutormsg", payload, prvkey)

    # ------------------------------------------------------------------ processes

    async def submit(self, spec: FunctionSpec, prvkey: str) -> Process:
        return Process.from_dict(await self.rpc("submitfuncspecmsg", {"spec": spec.to_dict()}, prvkey))

    async def assign(self, colonyname: str, timeout: int, prvkey: str, availablecpu: str = "", availablemem: str = "") -> Process | None:
        """Long-poll for a process for up to `timeout` seconds.

        Returns ``None`` when the poll expires with nothing to do: that is the normal empty
        result, not an error. Connection problems raise `ConnectionFailed`/`RequestTimeout`.
        """
        payload = {"colonyname": colonyname, "timeout": timeout, "availablecpu": availablecpu, "availablemem": availablemem}
        try:
            data = await self.rpc("assignprocessmsg", payload, prvkey, timeout=max(timeout, 0) + LONG_POLL_MARGIN)
        except ServerError as exc:
            if exc.status == 404:  # "No process available for assignment"
                return None
            raise
        return Process.from_dict(data)

    async def close(self, processid: str, prvkey: str, output: list[Any] | None = None) -> None:
        """Close a process as successful, optionally with its output (replaces earlier output)."""
        payload: dict[str, Any] = {"processid": processid}
        if output is not None:
            payload["out"] = list(output)
        await self.rpc("closesuccessfulmsg", payload, prvkey)

    async def fail(self, processid: str, prvkey: str, errors: list[str] | None = None) -> None:
        """Close a process as failed, with readable errors."""
        await self.rpc("closefailedmsg", {"processid": processid, "errors": list(errors or [])}, prvkey)

    async def get_process(self, processid: str, prvkey: str) -> Process:
        """The process as the server has it. One that failed is read again until its errors are
        there: the server (v1.9.12 `MarkFailed`) stores the FAILED state and then, in a second
        statement, the errors, so a read between the two sees a failure without its reason."""
        process = Process.from_dict(await self.rpc("getprocessmsg", {"processid": processid}, prvkey))
        for pause_s in FAILED_REREAD_PAUSES:
            if process.state != FAILED or process.errors:
                break
            await asyncio.sleep(pause_s)
            process = Process.from_dict(await self.rpc("getprocessmsg", {"processid": processid}, prvkey))
        return process

    async def get_processes(
        self, colonyname: str, count: int, state: int, prvkey: str, executortype: str = "", label: str = "", initiator: str = ""
    ) -> list[Process]:
        payload = {
            "colonyname": colonyname, "count": count, "state": state,
            "executortype": executortype, "label": label, "initiator": initiator,
        }
        return _many(Process, await self.rpc("getprocessesmsg", payload, prvkey))

    async def remove_process(self, processid: str, prvkey: str) -> None:
        await self.rpc("removeprocessmsg", {"processid": processid, "all": False}, prvkey)

    async def remove_all_processes(self, colonyname: str, state: int, prvkey: str) -> None:
        await self.rpc("removeallprocessesmsg", {"colonyname": colonyname, "state": state}, prvkey)

    async def cancel_process(self, processid: str, prvkey: str) -> None:
        await self.rpc("cancelprocessmsg", {"processid": processid}, prvkey)

    async def set_output(self, processid: str, output: list[Any], prvkey: str) -> None:
        await self.rpc("setoutputmsg", {"processid": processid, "out": list(output)}, prvkey)

    async def add_attr(self, attr: Attribute, prvkey: str) -> Attribute:
        return Attribute.from_dict(await self.rpc("addattributemsg", {"attribute": attr.to_dict()}, prvkey))

    async def get_attr(self, attributeid: str, prvkey: str) -> Attribute:
        return Attribute.from_dict(await self.rpc("getattributemsg", {"attributeid": attributeid}, prvkey))

    # ------------------------------------------------------------------ workflows

    async def submit_workflow(self, workflowspec: WorkflowSpec, prvkey: str) -> ProcessGraph:
        return ProcessGraph.from_dict(await self.rpc("submitworkflowspecmsg", {"spec": workflowspec.to_dict()}, prvkey))

    async def get_processgraph(self, processgraphid: str, prvkey: str) -> ProcessGraph:
        return ProcessGraph.from_dict(await self.rpc("getprocessgraphmsg", {"processgraphid": processgraphid}, prvkey))

    async def get_processgraphs(self, colonyname: str, count: int, state: int, prvkey: str) -> list[ProcessGraph]:
        payload = {"colonyname": colonyname, "count": count, "state": state}
        return _many(ProcessGraph, await self.rpc("getprocessgraphsmsg", payload, prvkey))

    async def remove_processgraph(self, processgraphid: str, prvkey: str) -> None:
        await self.rpc("removeprocessgraphmsg", {"processgraphid": processgraphid, "all": False}, prvkey)

    async def remove_all_processgraphs(self, colonyname: str, state: int, prvkey: str) -> None:
        await self.rpc("removeallprocessgraphsmsg", {"colonyname": colonyname, "state": state}, prvkey)

    async def cancel_processgraph(self, processgraphid: str, prvkey: str) -> None:
        """Cancel every process of a workflow that has not ended."""
        await self.rpc("cancelprocessgraphmsg", {"processgraphid": processgraphid}, prvkey)

    async def add_child(
        self, processgraphid: str, parentprocessid: str, childprocessid: str, spec: FunctionSpec, insert: bool, prvkey: str,
    ) -> Process:
        """Grow a running workflow: a process for `spec` after `parentprocessid` (a dynamic DAG).
        With `insert`, it goes between the parent and `childprocessid`. Called by the parent's executor."""
        payload = {
            "processgraphid": processgraphid, "parentprocessid": parentprocessid, "childprocessid": childprocessid,
            "spec": spec.to_dict(), "insert": insert,
        }
        return Process.from_dict(await self.rpc("addchildmsg", payload, prvkey))

    # The names the ColonyOS docs use for the same calls.
    get_process_graph = get_processgraph
    cancel_process_graph = cancel_processgraph

    # ------------------------------------------------------------------ pausing a colony's assignments

    async def pause_assignments(self, colonyname: str, prvkey: str) -> None:
        """No process is assigned in the colony until `resume_assignments` (colony owner key)."""
        await self.rpc("pauseassignmentsmsg", {"colonyname": colonyname}, prvkey)

    async def resume_assignments(self, colonyname: str, prvkey: str) -> None:
        await self.rpc("resumeassignmentsmsg", {"colonyname": colonyname}, prvkey)

    async def get_pause_status(self, colonyname: str, prvkey: str) -> bool:
        """Whether the colony's assignments are paused (any member)."""
        reply = await self.rpc("getpausestatusmsg", {"colonyname": colonyname}, prvkey) or {}
        return bool(reply.get("ispaused"))

    # ------------------------------------------------------------------ logs

    async def add_log(self, log: Log, prvkey: str) -> None:
        await self.rpc("addlogmsg", {"processid": log.processid, "message": log.message}, prvkey)

    async def get_logs(
        self, colonyname: str, processid: str, executorname: str, count: int, since: int, prvkey: str, latest: bool = False
    ) -> list[Log]:
        payload = {
            "colonyname": colonyname, "processid": processid, "executorname": executorname,
            "count": count, "since": since, "latest": latest,
        }
        return _many(Log, await self.rpc("getlogsmsg", payload, prvkey))

    # ------------------------------------------------------------------ channels

    async def channel_append(
        self, processid: str, channelname: str, sequence: int, data: str | bytes, data_type: str, inreplyto: int, prvkey: str
    ) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        payload: dict[str, Any] = {
            "processid": processid, "name": channelname, "sequence": sequence,
            "payload": base64.b64encode(raw).decode("ascii"),
        }
        if inreplyto:
            payload["inreplyto"] = inreplyto
        if data_type:
            payload["payloadtype"] = data_type
        await self.rpc("channelappendmsg", payload, prvkey)

    async def channel_read(self, processid: str, channelname: str, afterseq: int, limit: int, prvkey: str) -> list[ChannelEntry]:
        payload = {"processid": processid, "name": channelname, "afterseq": afterseq, "limit": limit}
        return _many(ChannelEntry, await self.rpc("channelreadmsg", payload, prvkey))

    # ------------------------------------------------------------------ subscriptions (WebSocket /pubsub)

    async def subscribe_process(
        self, process: Process, state: int, timeout: int, prvkey: str, max_period: float = WAIT_MAX_PERIOD,
    ) -> Process:
        """Wait until `process` is (or gets) in `state`; return it, read whole, with its output.
        Raises `RequestTimeout` when it is not in `state` within `timeout` s.

        The Rust SDK's call, kept by name, but done by reads (`wait_periods`), never by the
        server's `subscribeprocessmsg`: colonies v1.9.12 answers that subscription, for a process
        already in the state, from the request's goroutine, while the subscription's own goroutine
        may be sending the signal of that same change; two writes at once on one gorilla WebSocket
        panic the whole server ("concurrent write to websocket connection",
        pkg/backends/gin/subscription.go:145 beside :122). A wait begins as its process changes
        (just after a submit, an assign, a cancel), which is when the two meet: a CI run lost its
        server so. The server is everyone's; a wait's latency is ours to pay.
        """
        return await self._wait_states(process, (state,), timeout, prvkey, max_period)

    async def wait_for_end(self, process: Process, timeout: int, prvkey: str, max_period: float = WAIT_MAX_PERIOD) -> Process:
        """Wait until `process` has ended (SUCCESS, FAILED or CANCELLED); return it with its output.

        One call for what a submitter usually waits for; by reads, as `subscribe_process` says why.
        An end before the wait is seen by its first read. Raises `RequestTimeout` after `timeout` s.
        """
        return await self._wait_states(process, ENDED_STATES, timeout, prvkey, max_period)

    async def _wait_states(
        self, process: Process, states: tuple[int, ...], timeout: int, prvkey: str, max_period: float,
    ) -> Process:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        periods = wait_periods(max_period)
        while True:
            current = await self.get_process(process.processid, prvkey)
            if current.state in states:
                return current
            left = deadline - loop.time()
            if left <= 0:
                raise RequestTimeout(f"process {process.processid} did not reach state {states} within {timeout} s")
            await asyncio.sleep(min(next(periods), left))

    async def subscribe_processes(
        self, colonyname: str, executortype: str, state: int, timeout: int, prvkey: str,
        callback: Callable[[Process], bool | None], sent: asyncio.Event | None = None,
    ) -> None:
        """Hear every process of `executortype` that gets into `state`, on one connection, until
        the server closes it after `timeout` s or `callback` returns False.

        The server sends each process as it is signalled, read before the change was stored (a
        closed process comes without its output): read it again for that. Only an executor may
        subscribe (the server says "executor not found" to another key, as `ServerError`).
        `sent` is set once the request is on its way."""
        payload = {"colonyname": colonyname, "executortype": executortype, "state": state, "timeout": timeout}
        ws = await self._connect_ws()
        try:
            await ws.send(build_request("subscribeprocessesmsg", payload, prvkey))
            if sent is not None:
                sent.set()
            while (frame := await ws.recv(timeout + LONG_POLL_MARGIN)) is not None:
                data = parse_reply(200, frame)
                if isinstance(data, dict) and callback(Process.from_dict(data)) is False:
                    return
        finally:
            await ws.close()

    async def subscribe_channel(
        self,
        processid: str,
        channelname: str,
        afterseq: int,
        timeout: int,
        prvkey: str,
        callback: Callable[[list[ChannelEntry]], bool] | None = None,
    ) -> list[ChannelEntry]:
        """Receive channel entries as they are appended; `callback` returns False to stop.

        Returns every entry received. Ends when the callback says stop, an "end" entry
        arrives (if there is no callback), or the server closes the subscription after `timeout` s.
        """
        payload = {"processid": processid, "name": channelname, "afterseq": afterseq, "timeout": timeout}
        received: list[ChannelEntry] = []
        ws = await self._connect_ws()
        try:
            await ws.send(build_request("subscribechannelmsg", payload, prvkey))
            while True:
                try:
                    frame = await ws.recv(timeout + LONG_POLL_MARGIN)
                except RequestTimeout:
                    break
                if frame is None:
                    break
                entries = _many(ChannelEntry, parse_reply(200, frame))
                received.extend(entries)
                if callback is not None:
                    if callback(entries) is False:
                        break
                elif any(e.type == "end" for e in entries):
                    break
                if not entries:  # the server's "timed out" frame
                    break
        finally:
            await ws.close()
        return received

    # ------------------------------------------------------------------ statistics

    async def get_statistics(self, colonyname: str, prvkey: str) -> Statistics:
        return Statistics.from_dict(await self.rpc("getcolonystatsmsg", {"colonyname": colonyname}, prvkey))

    async def get_server_statistics(self, prvkey: str) -> Statistics:
        """Server-wide statistics (server key)."""
        return Statistics.from_dict(await self.rpc("getstatisticsmsg", {}, prvkey))

    # ------------------------------------------------------------------ functions

    async def add_function(self, function: Function, prvkey: str) -> Function:
        return Function.from_dict(await self.rpc("addfunctionmsg", {"fun": function.to_dict()}, prvkey))

    async def get_functions(self, colonyname: str, prvkey: str) -> list[Function]:
        return _many(Function, await self.rpc("getfunctionsmsg", {"colonyname": colonyname, "executorname": ""}, prvkey))

    async def get_functions_by_executor(self, colonyname: str, executorname: str, prvkey: str) -> list[Function]:
        # The server has no getfunctionsbyexecutormsg: getfunctionsmsg filters by executorname.
        payload = {"colonyname": colonyname, "executorname": executorname}
        return _many(Function, await self.rpc("getfunctionsmsg", payload, prvkey))

    async def remove_function(self, functionid: str, prvkey: str) -> None:
        await self.rpc("removefunctionmsg", {"functionid": functionid}, prvkey)

    # ------------------------------------------------------------------ blueprints

    async def add_blueprint_definition(self, definition: BlueprintDefinition, prvkey: str) -> BlueprintDefinition:
        data = await self.rpc("addblueprintdefinitionmsg", {"blueprintdefinition": definition.to_dict()}, prvkey)
        return BlueprintDefinition.from_dict(data)

    async def get_blueprint_definition(self, colonyname: str, name: str, prvkey: str) -> BlueprintDefinition:
        data = await self.rpc("getblueprintdefinitionmsg", {"colonyname": colonyname, "name": name}, prvkey)
        return BlueprintDefinition.from_dict(data)

    async def get_blueprint_definitions(self, colonyname: str, prvkey: str) -> list[BlueprintDefinition]:
        return _many(BlueprintDefinition, await self.rpc("getblueprintdefinitionsmsg", {"colonyname": colonyname}, prvkey))

    async def remove_blueprint_definition(self, colonyname: str, name: str, prvkey: str) -> None:
        await self.rpc("removeblueprintdefinitionmsg", {"namespace": colonyname, "name": name}, prvkey)

    async def add_blueprint(self, blueprint: Blueprint, prvkey: str) -> Blueprint:
        return Blueprint.from_dict(await self.rpc("addblueprintmsg", {"blueprint": blueprint.to_dict()}, prvkey))

    async def get_blueprint(self, colonyname: str, name: str, prvkey: str) -> Blueprint:
        return Blueprint.from_dict(await self.rpc("getblueprintmsg", {"namespace": colonyname, "name": name}, prvkey))

    async def get_blueprints(self, colonyname: str, kind: str, location: str, prvkey: str) -> list[Blueprint]:
        payload = {"namespace": colonyname, "kind": kind, "locationname": location}
        return _many(Blueprint, await self.rpc("getblueprintsmsg", payload, prvkey))

    async def update_blueprint(self, blueprint: Blueprint, force_generation: bool, prvkey: str) -> Blueprint:
        payload = {"blueprint": blueprint.to_dict(), "forcegeneration": force_generation}
        return Blueprint.from_dict(await self.rpc("updateblueprintmsg", payload, prvkey))

    async def remove_blueprint(self, colonyname: str, name: str, prvkey: str) -> None:
        await self.rpc("removeblueprintmsg", {"namespace": colonyname, "name": name}, prvkey)

    async def update_blueprint_status(self, colonyname: str, name: str, status: dict[str, Any], prvkey: str) -> None:
        payload = {"colonyname": colonyname, "blueprintname": name, "status": status}
        await self.rpc("updateblueprintstatusmsg", payload, prvkey)

    async def reconcile_blueprint(self, colonyname: str, name: str, force: bool, prvkey: str) -> Process:
        data = await self.rpc("reconcileblueprintmsg", {"namespace": colonyname, "name": name, "force": force}, prvkey)
        return Process.from_dict(data)
