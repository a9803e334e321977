"""ColonyOS objects as dataclasses whose fields are the server's JSON names.

Every object round-trips the server's JSON: `from_dict` accepts ``null`` where the server
sends it (it becomes the field's empty value) and keeps unknown fields in `extra`, which
`to_dict` writes back, so a newer server's additions survive a read-modify-write.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import itertools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

# Process states
WAITING, RUNNING, SUCCESS, FAILED, CANCELLED = 0, 1, 2, 3, 4
# Executor states
PENDING, APPROVED, REJECTED, UNREGISTERED = 0, 1, 2, 3
# Attribute types
# The server (v1.9.12 pkg/core/attribute.go) uses ENV = 3; the Rust SDK reference says 4. The server wins.
IN, OUT, ERR, ENV = 0, 1, 2, 3

UNSET_TIME = "0001-01-01T00:00:00Z"


def server_time(stamp: str) -> float:
    """A server timestamp (RFC 3339, nanoseconds) as POSIX seconds, to the microsecond."""
    head, dot, rest = stamp.replace("Z", "+00:00").partition(".")
    if dot:
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        head = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    return dt.datetime.fromisoformat(head).timestamp()


def _json_name(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("json", f.name)


Converter = typing.Callable[[Any], Any]


def _converter(hint: Any) -> Converter | None:
    """How to turn decoded JSON into the type a field declares (models, lists and dicts of
    models); None when the JSON value is already it. Worked out once per field, not per value:
    an executor decodes a Process per assign, and in Pyodide the per-value typing look-ups were
    a tenth of its CPU time."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else None
    if isinstance(hint, type) and issubclass(hint, Model):
        return hint.from_dict
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        each = _converter(item)
        return (lambda v: [each(x) for x in v]) if each else None
    if origin is dict:
        _, item = typing.get_args(hint) or (str, Any)
        each_value = _converter(item)
        return (lambda v: {k: each_value(x) for k, x in v.items()}) if each_value else None
    return None


def _dump(value: Any) -> Any:
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


@dataclass
class Model:
    """Base of all objects: JSON in, JSON out, unknown fields kept."""

    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)
    # Per class: (attribute, JSON name, converter) for each field, and the set of JSON names.
    _plans: ClassVar[dict[type, tuple[list[tuple[str, str, Converter | None]], frozenset[str]]]] = {}

    @classmethod
    def _plan(cls) -> tuple[list[tuple[str, str, Converter | None]], frozenset[str]]:
        plan = Model._plans.get(cls)
        if plan is None:
            hints = typing.get_type_hints(cls)
            fields = [(f.name, _json_name(f), _converter(hints[f.name])) for f in dataclasses.fields(cls) if f.name != "extra"]
            plan = Model._plans[cls] = (fields, frozenset(name for _, name, _ in fields))
        return plan

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Self:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        fields, known = cls._plan()
        kwargs: dict[str, Any] = {}
        for attr, name, convert in fields:
            value = data.get(name)
            if value is not None:  # the server's null becomes the field's empty default
                kwargs[attr] = convert(value) if convert else value
        obj = cls(**kwargs)
        obj.extra = {k: v for k, v in data.items() if k not in known}
        return obj

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            out[_json_name(f)] = _dump(getattr(self, f.name))
        out.update(self.extra)
        return out


@dataclass
class Colony(Model):
    colonyid: str = ""
    name: str = ""


@dataclass
class User(Model):
    colonyname: str = ""
    userid: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass
class GPU(Model):
    name: str = ""
    mem: str = ""
    count: int = 0
    nodecount: int = 0


@dataclass
class Hardware(Model):
    model: str = ""
    nodes: int = 0
    cpu: str = ""
    cores: int = 0
    mem: str = ""
    storage: str = ""
    gpu: GPU = field(default_factory=GPU)
    platform: str = ""
    architecture: str = ""
    network: list[str] = field(default_factory=list)


@dataclass
class Software(Model):
    name: str = ""
    type: str = ""
    version: str = ""


@dataclass
class Capabilities(Model):
    hardware: list[Hardware] = field(default_factory=list)
    software: list[Software] = field(default_factory=list)


@dataclass
class Project(Model):
    allocatedcpu: int = 0
    usedcpu: int = 0
    allocatedgpu: int = 0
    usedgpu: int = 0
    allocatedstorage: int = 0
    usedstorage: int = 0


@dataclass
class Allocations(Model):
    projects: dict[str, Project] = field(default_factory=dict)


@dataclass
class Executor(Model):
    executorid: str = ""
    executortype: str = ""
    executorname: str = ""
    colonyname: str = ""
    state: int = PENDING
    requirefuncreg: bool = False
    commissiontime: str = UNSET_TIME
    lastheardfromtime: str = UNSET_TIME
    locationname: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    allocations: Allocations = field(default_factory=Allocations)

    @classmethod
    def new(cls, name: str, executorid: str, executortype: str, colonyname: str) -> Executor:
        """Same argument order as the Rust SDK's `Executor::new`."""
        return cls(executorid=executorid, executortype=executortype, executorname=name, colonyname=colonyname)


@dataclass
class Conditions(Model):
    colonyname: str = ""
    executornames: list[str] = field(default_factory=list)
    executortype: str = ""
    dependencies: list[str] = field(default_factory=list)
    nodes: int = 0
    cpu: str = ""
    processes: int = 0
    processespernode: int = 0
    mem: str = ""
    storage: str = ""
    gpu: GPU = field(default_factory=GPU)
    walltime: int = 0


@dataclass
class Filesystem(Model):
    mount: str = ""
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    dirs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FunctionSpec(Model):
    nodename: str = ""
    funcname: str = ""
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    maxwaittime: int = -1
    maxexectime: int = -1
    maxretries: int = -1
    conditions: Conditions = field(default_factory=Conditions)
    label: str = ""
    fs: Filesystem = field(default_factory=Filesystem)
    env: dict[str, str] = field(default_factory=dict)
    channels: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, funcname: str, executortype: str, colonyname: str) -> FunctionSpec:
        return cls(funcname=funcname, conditions=Conditions(colonyname=colonyname, executortype=executortype))


@dataclass
class Attribute(Model):
    attributeid: str = ""
    targetid: str = ""
    targetcolonyname: str = ""
    targetprocessgraphid: str = ""
    state: int = 0
    attributetype: int = OUT
    key: str = ""
    value: str = ""

    @classmethod
    def new(cls, colonyname: str, processid: str, key: str, value: str) -> Attribute:
        return cls(targetid=processid, targetcolonyname=colonyname, key=key, value=value)


@dataclass
class Process(Model):
    processid: str = ""
    initiatorid: str = ""
    initiatorname: str = ""
    assignedexecutorid: str = ""
    isassigned: bool = False
    state: int = WAITING
    prioritytime: int = 0
    submissiontime: str = UNSET_TIME
    starttime: str = UNSET_TIME
    endtime: str = UNSET_TIME
    waitdeadline: str = UNSET_TIME
    execdeadline: str = UNSET_TIME
    retries: int = 0
    attributes: list[Attribute] = field(default_factory=list)
    spec: FunctionSpec = field(default_factory=FunctionSpec)
    waitforparents: bool = False
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    processgraphid: str = ""
    input: list[Any] = field(default_factory=list, metadata={"json": "in"})
    output: list[Any] = field(default_factory=list, metadata={"json": "out"})
    errors: list[str] = field(default_factory=list)


@dataclass
class ProcessGraph(Model):
    processgraphid: str = ""
    initiatorid: str = ""
    initiatorname: str = ""
    colonyname: str = ""
    rootprocessids: list[str] = field(default_factory=list)
    state: int = WAITING
    submissiontime: str = UNSET_TIME
    starttime: str = UNSET_TIME
    endtime: str = UNSET_TIME
    processids: list[str] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WorkflowSpec(Model):
    colonyname: str = ""
    functionspecs: list[FunctionSpec] = field(default_factory=list)


@dataclass
class Log(Model):
    processid: str = ""
    colonyname: str = ""
    executorname: str = ""
    message: str = ""
    timestamp: int = 0


@dataclass
class ChannelEntry(Model):
    sequence: int = 0
    inreplyto: int = 0
    timestamp: str = UNSET_TIME
    senderid: str = ""
    payload: str = ""  # base64, as the server sends Go []byte
    type: str = ""  # "", "data", "end" or "error"
    error: str = ""

    @property
    def msgtype(self) -> str:
        """The Rust SDK's name for `type`."""
        return self.type

    def payload_bytes(self) -> bytes:
        return base64.b64decode(self.payload) if self.payload else b""

    def payload_as_string(self) -> str:
        return self.payload_bytes().decode("utf-8", errors="replace")


@dataclass
class FunctionArg(Model):
    name: str = ""
    type: str = ""
    description: str = ""
    required: bool = False
    enum: list[str] = field(default_factory=list)


@dataclass
class Function(Model):
    functionid: str = ""
    executorname: str = ""
    executortype: str = ""
    colonyname: str = ""
    funcname: str = ""
    description: str = ""
    args: list[FunctionArg] = field(default_factory=list)
    counter: int = 0
    minwaittime: float = 0.0
    maxwaittime: float = 0.0
    minexectime: float = 0.0
    maxexectime: float = 0.0
    avgwaittime: float = 0.0
    avgexectime: float = 0.0
    locationname: str = ""


@dataclass
class Statistics(Model):
    colonies: int = 0
    executors: int = 0
    activeexecutors: int = 0
    unregisteredexecutors: int = 0
    waitingprocesses: int = 0
    runningprocesses: int = 0
    successfulprocesses: int = 0
    failedprocesses: int = 0
    cancelledprocesses: int = 0
    waitingworkflows: int = 0
    runningworkflows: int = 0
    successfulworkflows: int = 0
    failedworkflows: int = 0
    cancelledworkflows: int = 0


@dataclass
class BlueprintMetadata(Model):
    name: str = ""
    colonyname: str = ""
    locationname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generation: int = 0


@dataclass
class Blueprint(Model):
    blueprintid: str = ""
    kind: str = ""
    metadata: BlueprintMetadata = field(default_factory=BlueprintMetadata)
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)


@dataclass
class BlueprintDefinitionNames(Model):
    kind: str = ""
    listKind: str = ""
    singular: str = ""
    plural: str = ""
    shortNames: list[str] = field(default_factory=list)


@dataclass
class BlueprintHandler(Model):
    executorType: str = ""
    functionName: str = ""
    reconcileInterval: int = 0


@dataclass
class BlueprintDefinitionSpec(Model):
    group: str = ""
    version: str = ""
    names: BlueprintDefinitionNames = field(default_factory=BlueprintDefinitionNames)
    scope: str = ""
    schema: dict[str, Any] | None = None
    handler: BlueprintHandler = field(default_factory=BlueprintHandler)


@dataclass
class BlueprintDefinition(Model):
    blueprintdefinitionid: str = ""
    kind: str = ""
    metadata: BlueprintMetadata = field(default_factory=BlueprintMetadata)
    spec: BlueprintDefinitionSpec = field(default_factory=BlueprintDefinitionSpec)
