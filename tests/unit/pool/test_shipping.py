"""What `Pool` ships with a function: its module's imports, helpers, literal constants; refusals."""

from __future__ import annotations

import math

import pytest

from wasm_executor.builtins import default_registry
from wasm_executor.engine.job import Job, run_job
from wasm_executor.pool import NotShippable, Pool, function_source

SCALE = 3
TABLE = {"a": [1, 2]}
LOCK = object()


def helper(x):
    return x * SCALE


class Point:
    def __init__(self, x):
        self.x = x


def uses_everything(x):
    return [helper(x), math.floor(2.5), TABLE["a"], Point(x).x]


def uses_an_object():
    return LOCK


def decorate(fn):
    return fn


@decorate
def decorated(x):
    return x + 1


async def call(fn, *args):
    source = function_source(fn)
    result = await run_job(default_registry(), Job("p", "python", [source], {"call": fn.__name__, "args": list(args)}))
    assert result.error == "", result.error + result.log
    return result.output[0]


async def test_helpers_constants_classes_and_imports_travel() -> None:
    source = function_source(uses_everything)
    assert "import math" in source and "SCALE = 3" in source and "def helper" in source and "class Point" in source
    assert await call(uses_everything, 2) == [6, 2, [1, 2], 2]


async def test_decorators_are_dropped() -> None:
    assert "@decorate" not in function_source(decorated)
    assert await call(decorated, 1) == 2


def test_lambdas_closures_and_methods_are_refused_with_the_reason() -> None:
    with pytest.raises(NotShippable, match="not a plain function"):
        function_source(lambda x: x)
    factor = 2

    def closure(x):
        return x * factor

    with pytest.raises(NotShippable, match="enclosing function"):
        function_source(closure)
    with pytest.raises(NotShippable, match="not a plain function"):
        function_source(Point(1).__init__)


async def test_unshippable_constants_are_left_out_and_fail_remotely_by_name() -> None:
    source = function_source(uses_an_object)
    assert "LOCK =" not in source
    result = await run_job(default_registry(), Job("p", "python", [source], {"call": "uses_an_object"}))
    assert result.error == "python raised NameError: name 'LOCK' is not defined"


def test_map_specs_carry_each_item_and_the_retry_rules() -> None:
    pool = Pool(client=None, colonyname="c", prvkey="k", executortype="t", maxexectime=9, maxretries=2)  # type: ignore[arg-type]
    spec = pool.spec(helper, [4], {})
    assert (spec.funcname, spec.kwargs["call"], spec.kwargs["args"], spec.maxexectime, spec.maxretries) == ("python", "helper", [4], 9, 2)
    assert spec.conditions.executortype == "t"


def test_only_the_imports_it_uses_travel() -> None:
    source = function_source(helper)
    assert "import pytest" not in source and "import math" not in source
    assert "import math" in function_source(uses_everything)


def test_requires_travels_from_the_decorator_and_the_call() -> None:
    from wasm_executor import requires

    @requires("sympy")
    def needs(x):
        return x

    pool = Pool(client=None, colonyname="c", prvkey="k")  # type: ignore[arg-type]
    assert pool.spec(needs, [1], {}, ["mpmath"]).kwargs["requires"] == ["sympy", "mpmath"]
    assert "requires" not in pool.spec(helper, [1], {}).kwargs


def makes_a_class(x):
    from dataclasses import asdict, dataclass

    @dataclass
    class Box:
        x: int

    return asdict(Box(x))


async def test_a_class_made_inside_runs_as_the_shipped_module_not_as_the_drivers() -> None:
    """`__name__` and `__annotations__` are the module's own where it runs: shipping the driver's
    (`__name__ = 'tests....'`) broke dataclasses with string annotations in a browser slot."""
    source = function_source(makes_a_class)
    assert "__name__ =" not in source and "__annotations__ =" not in source
    assert await call(makes_a_class, 5) == {"x": 5}
