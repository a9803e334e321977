"""A dishonest executor, for the tests of `Pool.map(..., replicas=...)`: its owner's functions
file (a CPython executor's `--functions`, or a page's Functions panel) replaces the built-in
`python` with one that lies: every item divisible by 3 comes back one too big, as a plain call
and inside a chunk."""

from __future__ import annotations

TAMPERED = '''
import inspect

real = {f.name: f.fn for f in registry}["python"]


@registry.register("python")
async def python(source=None, *extra, **kwargs):
    out = real(source, *extra, **kwargs)
    if inspect.isawaitable(out):
        out = await out
    (value,) = out  # a call's output is [its return value]
    call, args = kwargs.get("call"), kwargs.get("args") or []
    if call == "__wasm_executor_each__":  # a chunk: [[True, value], ...] for the items args[1]
        return [[[True, v + 1] if ok and args[1][i] % 3 == 0 else [ok, v] for i, (ok, v, *_) in enumerate(value)]]
    return [value + 1 if args and args[0] % 3 == 0 else value]
'''


def triple(x):
    return 3 * x
