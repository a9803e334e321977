"""Objects round-trip real server JSON (captured from v1.9.12), keep unknown fields, accept null."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wasm_executor.objects import (
    ENV,
    FAILED,
    SUCCESS,
    Colony,
    Executor,
    Function,
    FunctionSpec,
    Model,
    Process,
    ProcessGraph,
    Statistics,
)

CAPTURED = Path(__file__).parents[1] / "data" / "captured"


def load(name: str) -> object:
    return json.loads((CAPTURED / f"{name}.json").read_text())


def strip_nulls(value: object) -> object:
    """null, "" and an empty list/dict mean the same to the server (Go omitempty); compare without them."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("name", "cls"),
    [("process", Process), ("executor", Executor), ("colony", Colony), ("statistics", Statistics), ("processgraph", ProcessGraph)],
)
def test_round_trip_captured_json(name: str, cls: type[Model]) -> None:
    raw = load(name)
    obj = cls.from_dict(raw)
    assert strip_nulls(obj.to_dict()) == strip_nulls(raw)
    assert cls.from_dict(obj.to_dict()) == obj


def test_process_fields_are_typed() -> None:
    p = Process.from_dict(load("process"))
    assert p.state == SUCCESS
    assert p.output == ["a", 1] and p.input == []
    assert isinstance(p.spec, FunctionSpec) and p.spec.funcname == "echo"
    assert p.spec.args == ["a", 1] and p.spec.kwargs == {"k": "v"}
    # spec.env becomes an ENV attribute on the server
    assert [(a.attributetype, a.key, a.value) for a in p.attributes] == [(ENV, "x", "y")]


def test_functions_list_parses() -> None:
    funcs = [Function.from_dict(f) for f in load("functions")]
    assert [f.funcname for f in funcs] == ["echo"]


def test_unknown_fields_survive() -> None:
    raw = {"processid": "p1", "state": FAILED, "futurefield": {"a": 1}, "spec": {"funcname": "f", "newthing": 3}}
    p = Process.from_dict(raw)
    assert p.extra == {"futurefield": {"a": 1}}
    out = p.to_dict()
    assert out["futurefield"] == {"a": 1} and out["spec"]["newthing"] == 3


def test_null_where_the_server_sends_it() -> None:
    p = Process.from_dict({"processid": "p", "in": None, "out": None, "errors": None, "attributes": None, "spec": None})
    assert p.input == [] and p.output == [] and p.errors == [] and p.attributes == []
    assert p.spec == FunctionSpec()
    assert Process.from_dict(None) == Process()


def test_in_and_out_keep_their_json_names() -> None:
    d = Process(input=[1], output=[2]).to_dict()
    assert d["in"] == [1] and d["out"] == [2] and "input" not in d


def test_not_an_object() -> None:
    with pytest.raises(TypeError, match="expects a JSON object"):
        Process.from_dict([1, 2])  # type: ignore[arg-type]


def test_rust_sdk_constructors() -> None:
    e = Executor.new("name", "id", "wasm", "dev")
    assert (e.executorname, e.executorid, e.executortype, e.colonyname) == ("name", "id", "wasm", "dev")
    s = FunctionSpec.new("add", "wasm", "dev")
    assert s.conditions.executortype == "wasm" and s.conditions.colonyname == "dev"
