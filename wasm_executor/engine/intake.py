"""From a process as the server hands it over to the `Job` a slot runs: the ColonyOS conventions.

- **Workflow input.** When a process has parents, the server puts their outputs, concatenated in
  the order of `parents`, in the process's `in` on assign. A non-empty `in` IS the function's
  input (the convention of pycolonies' and the Go executors): it replaces the literal args, and
  kwargs stay. For our `python` function: a Pool call `fn` is called as ``fn(*in, **kwargs)``; a
  snippet sees the list as `inputs`.
- **env.** The process's `env` becomes the function's `os.environ` while it runs (see `job.py`).
- **pycolonies' code.** `pycolonies.func_spec(fn, args, ...)` sends the function's source base64
  in `env["code"]` and its name as `funcname`; it is called as ``name(*args, ctx=...)`` and a
  tuple it returns is its outputs. Such a process runs as our `python` function, with the same
  consent and sandbox. Its `ctx` holds the process and the colony and executor names, never a
  key (pycolonies' own executor puts its private key there: a slot holds none).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .. import remote
from ..objects import Process
from .job import Job


class Unrunnable(Exception):
    """The process cannot become a job: the message says why (it fails that process)."""


def job_for(process: Process, executorname: str, executorid: str) -> Job:
    spec = process.spec
    inputs = list(process.input or [])
    env = {str(k): str(v) for k, v in (spec.env or {}).items()}
    if "code" in env and spec.funcname != remote.FUNCNAME:
        return _pycolonies_job(process, env, inputs, executorname, executorid)
    args, kwargs = list(spec.args), dict(spec.kwargs)
    if spec.funcname == remote.FUNCNAME:
        if inputs:
            kwargs = {**kwargs, "inputs": inputs}
    elif inputs:
        args = inputs
    return Job(process.processid, spec.funcname, args, kwargs, env)


def _pycolonies_job(process: Process, env: dict[str, str], inputs: list[Any], executorname: str, executorid: str) -> Job:
    spec = process.spec
    try:
        source = base64.b64decode(env.pop("code"), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Unrunnable(f"{spec.funcname}: env['code'] is not base64 of UTF-8 text (pycolonies' func_spec)") from None
    env.pop("args_spec", None)  # pycolonies' description of the arguments, not the function's environment
    ctx = {"process": process.to_dict(), "colonyname": spec.conditions.colonyname,
           "executorname": executorname, "executorid": executorid}
    kwargs = {"call": spec.funcname, "args": inputs or list(spec.args),
              "kwargs": {**spec.kwargs, "ctx": ctx}, "outputs": remote.SPREAD}
    return Job(process.processid, remote.FUNCNAME, [source], kwargs, env)
