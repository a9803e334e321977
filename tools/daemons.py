"""Background programs of the checkout: one starter, one stopper, pids and logs in a state folder."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .layout import ROOT
from .steps import StepFailed


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is not running.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return True


def read_pid(state: Path, name: str) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        pid = int((state / f"{name}.pid").read_text())
        if pid_alive(pid):
            return pid
    return None


def spawn(state: Path, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Run `cmd` in its own session from the checkout, output to STATE/NAME.log, pid in NAME.pid."""
    state.mkdir(parents=True, exist_ok=True)
    log = open(state / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, **env), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    (state / f"{name}.pid").write_text(str(proc.pid))
    return proc


def wait_healthy(
    state: Path, procs: dict[str, subprocess.Popen[bytes]], step: str, healthy: Callable[[], bool], timeout: float, poll: float,
) -> None:
    """Return once `healthy()`; fail with a log's tail if one of `procs` exits, or after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                tail = (state / f"{name}.log").read_text(errors="replace")[-3000:]
                raise StepFailed(f"step '{step}' failed: {' '.join(map(str, proc.args))} exited {proc.returncode}\n{tail}")
        if healthy():
            return
        time.sleep(poll)
    for proc in procs.values():
        proc.terminate()
    logs = ", ".join(f"{state.name}/{name}.log" for name in procs)
    raise StepFailed(f"step '{step}': not healthy within {timeout:g} s (see {logs})")


def start_daemon(
    state: Path, name: str, step: str, cmd: list[str], env: dict[str, str], healthy: Callable[[], bool],
    timeout: float, poll: float,
) -> None:
    """`spawn` one program and return once `healthy()` (see wait_healthy)."""
    wait_healthy(state, {name: spawn(state, name, cmd, env)}, step, healthy, timeout, poll)


def stop_daemon(state: Path, name: str, say: Callable[[str], None]) -> None:
    """SIGTERM the program's session, SIGKILL after 10 s; its pid file goes."""
    pid = read_pid(state, name)
    if pid:
        say(f"stopping {name} (pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            if not pid_alive(pid):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    (state / f"{name}.pid").unlink(missing_ok=True)
