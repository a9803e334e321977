#!/usr/bin/env python3
"""One entry point for the project: set-up, local ColonyOS, bundle, demo, tests, benchmarks.

Standard library only: it has to run on a fresh machine before anything is installed.
Every long step prints what it does; a failing step names itself, its command and its output.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools.bundle import (
    PYODIDE_VERSION,
    TEST_DISTRIBUTION_WHEELS,
    TEST_EXTRAS,
    TEST_INDEX_WHEELS,
    build_bundle,
    download_wheels,
    write_distribution,
)
from tools.colonies_cli import DEMO_CALLS, exec_argv
from tools.colonyos import COLONIES_MODULE, COLONIES_VERSION, Deployment, colonies_module_dir, ensure_go
from tools.daemons import read_pid, start_daemon, stop_daemon
from tools.devenv import read_dev_env, write_dev_env
from tools.layout import (
    ADMISSION_DB,
    ADMISSION_PORT,
    COLONY_NAME,
    GO_REFERENCE_BIN,
    HOST,
    PYODIDE_TEST_OUT,
    ROOT,
    SERVE_PORT,
    STATE,
    TEST_DISTRIBUTION_DIR,
    TEST_INDEX_DIR,
    TOOLS_BIN,
    VENV,
    WEB_OUT,
)
from tools.steps import StepFailed, answers_200, apt_install, port_free, run, say

# --------------------------------------------------------------------------- ColonyOS


def ensure_go_reference() -> Path:
    """bench/goexecutor built against pkg/client of the same pinned colonies module as the server."""
    exe = GO_REFERENCE_BIN
    src = ROOT / "bench" / "goexecutor" / "main.go"
    stamp = TOOLS_BIN / "goexecutor.sha256"
    digest = hashlib.sha256(src.read_bytes() + COLONIES_VERSION.encode()).hexdigest()
    if exe.exists() and stamp.exists() and stamp.read_text() == digest:
        return exe
    go = ensure_go()
    say(f"building the Go reference executor against {COLONIES_MODULE}/pkg/client {COLONIES_VERSION}")
    moddir = colonies_module_dir(go)
    work = STATE / "goexecutor-build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy2(src, work / "main.go")
    (work / "go.mod").write_text(f"module goexecutor\n\ngo 1.24.0\n\nrequire {COLONIES_MODULE} {COLONIES_VERSION}\n")
    # The module's own go.sum pins every dependency; -mod=mod adds the colonies line itself.
    (work / "go.sum").write_bytes((moddir / "go.sum").read_bytes())
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    run("go build goexecutor", [go, "build", "-mod=mod", "-o", str(exe), "."], cwd=work, capture=True)
    stamp.write_text(digest)
    return exe


def admission_ok() -> bool:
    return answers_200(f"http://{HOST}:{ADMISSION_PORT}/health")


def admin_token() -> str:
    """The admission service's fleet page password, made at first `up` and kept (like the keys)."""
    path = STATE / "admin-token"
    if not path.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def admission_env() -> dict[str, str]:
    return {
        "WASM_ADMISSION_URL": f"http://{HOST}:{ADMISSION_PORT}",
        "WASM_ADMISSION_DB": str(ADMISSION_DB),
        "WASM_PAGE_URL": f"http://{HOST}:{SERVE_PORT}/",
        "WASM_ADMISSION_ADMIN_TOKEN": admin_token(),
    }


def start_admission(py: Path, env: dict[str, str]) -> None:
    """The admission service (join by link) beside the server; it keeps its invites in .colonies/admission.db."""
    if read_pid(STATE, "admission") and admission_ok():
        return
    if not port_free(ADMISSION_PORT):
        raise StepFailed(f"step 'start admission service': port {ADMISSION_PORT} on {HOST} is taken by another program")
    # Pages served from this machine on any port (`demo --port N`, the tests' own servers) may join.
    cmd = [str(py), "-m", "wasm_executor.admission", "serve", "--port", str(ADMISSION_PORT), "--allow-origin", f"http://{HOST}:*"]
    say(f"starting the admission service on {HOST}:{ADMISSION_PORT} (log: .colonies/admission.log)")
    start_daemon(STATE, "admission", "start admission service", cmd, env, admission_ok, timeout=10, poll=0.1)


def cmd_up(args: argparse.Namespace | None = None) -> int:
    replicas = getattr(args, "replicas", None) or 1
    deployment = Deployment()
    deployment.up(replicas)
    env = deployment.env()
    env.update(admission_env())
    start_admission(ensure_venv(), env)
    write_dev_env(env)
    what = "ColonyOS" if replicas == 1 else f"ColonyOS ({replicas} replicas behind haproxy)"
    say(f"{what} is up: {deployment.url}  colony '{COLONY_NAME}'; admission service http://{HOST}:{ADMISSION_PORT}")
    say("use it from a shell with:  source .colonies/dev.env")
    return 0


def cmd_down(_: argparse.Namespace | None = None) -> int:
    for name in ("serve", "admission"):
        stop_daemon(STATE, name, say)
    Deployment().down()
    return 0


def cmd_status(_: argparse.Namespace | None = None) -> int:
    for line in Deployment().status_lines():
        print(line)
    web = read_pid(STATE, "serve")
    print(f"web page : {'serving, pid ' + str(web) if web else 'stopped'}")
    adm = read_pid(STATE, "admission")
    print(f"admission: {'running, pid ' + str(adm) if adm else 'stopped'}; /health {'200' if admission_ok() else 'no answer'}")
    return 0


# --------------------------------------------------------------------------- Python env


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    py = venv_python()
    req = ROOT / "requirements-dev.txt"
    stamp = VENV / ".requirements.sha256"
    digest = hashlib.sha256(req.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if py.exists() and stamp.exists() and stamp.read_text() == digest:
        return py
    if not py.exists():
        say("creating .venv")
        run("create venv", [sys.executable, "-m", "venv", str(VENV)])
    say("installing pinned Python dependencies into .venv")
    run("pip install", [str(py), "-m", "pip", "install", "-q", "-r", str(req)])
    stamp.write_text(digest)
    return py


def ensure_chromium() -> None:
    """Debian's chromium (Playwright drives it) and chromium-driver (Selenium, for pytest-pyodide)."""
    needed = [Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")]
    if all(p.exists() for p in needed):
        return
    apt_install("install Chromium", ["chromium", "chromium-driver"])
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise StepFailed(f"step 'install Chromium': {', '.join(missing)} missing after apt-get install")


def cmd_distribution(args: argparse.Namespace) -> int:
    py = ensure_venv()
    wheels = write_distribution(py, Path(args.dir).resolve(), list(args.with_))
    say(f"Pyodide {PYODIDE_VERSION} distribution in {args.dir}: {', '.join(w.name for w in wheels)}; serve it with CORS "
        "and give its URL as the page's \"Pyodide distribution URL\"")
    return 0


def cmd_build(args: argparse.Namespace | None = None) -> int:
    """Build dist/web and dist/pyodide-test (tools/bundle.py)."""
    build_bundle(ensure_venv(), list(getattr(args, "with_", None) or []))
    return 0



def serve_in_background(port: int) -> int:
    pid = read_pid(STATE, "serve")
    if pid:
        return pid
    if not port_free(port):
        raise StepFailed(f"step 'serve': port {port} on {HOST} is taken by another program: choose another with --port N")
    STATE.mkdir(parents=True, exist_ok=True)
    log = open(STATE / "serve.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.serve", "--port", str(port)], cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    (STATE / "serve.pid").write_text(str(proc.pid))
    for _ in range(50):
        with contextlib.suppress(OSError, urllib.error.URLError):
            urllib.request.urlopen(f"http://{HOST}:{port}/index.html", timeout=1).close()
            return proc.pid
        time.sleep(0.1)
    raise StepFailed(f"step 'serve': http.server did not answer on {HOST}:{port}")


def cmd_serve(args: argparse.Namespace) -> int:
    if not (WEB_OUT / "index.html").exists():
        cmd_build()
    connect = [a for url in (args.connect or []) for a in ("--connect", url)]
    return subprocess.call([sys.executable, "-m", "tools.serve", "--port", str(args.port), *connect], cwd=ROOT)


def try_lines() -> list[str]:
    return [shlex.join(["colonies", *exec_argv(func, args, "wasm")]) for func, args in DEMO_CALLS]


def make_join_link(py: Path, port: int) -> str:
    """A fresh invite for 100 executors, 24 h, from the admission service `up` started; its join link."""
    env = {**os.environ, **read_dev_env(), "WASM_PAGE_URL": f"http://{HOST}:{port}/"}
    out = run("make an invite", [str(py), "-m", "wasm_executor.admission", "invite", "--uses", "100", "--expires", "24h"],
              env=env, cwd=ROOT, capture=True).stdout
    return next(line.removeprefix("join link: ") for line in out.splitlines() if line.startswith("join link: "))


def cmd_demo(args: argparse.Namespace) -> int:
    cmd_up()
    py = ensure_venv()
    cmd_build()
    if args.headless:
        ensure_chromium()
        return subprocess.call([str(py), str(ROOT / "tools" / "demo_headless.py"), "--port", str(args.port)])
    serve_in_background(args.port)
    keys = json.loads((STATE / "keys.json").read_text())
    link = make_join_link(py, args.port)
    print()
    print("Open this join link in any browser (one per machine; it admits up to 100 executors for 24 h):")
    print(f"  {link}")
    print("  then click 'Join'. No key is typed: the admission service adds and approves the executor.")
    print(f"Or open  http://{HOST}:{args.port}/  and click 'Start Executor'.")
    print(f"  Server URL: {Deployment().url}   Colony name: {COLONY_NAME}")
    print(f"  Colony private key (dev convenience; or leave it empty and approve the executor): {keys['colony_prvkey']}")
    print(f"The fleet, as the colony's admin sees it: http://{HOST}:{ADMISSION_PORT}/fleet?type=wasm")
    print(f"  (any user name; password: {admin_token()})")
    print()
    print("Then, in a shell:")
    print("  source .colonies/dev.env")
    for line in try_lines():
        print(f"  {line}")
    print()
    print("Stop everything with: python build.py down")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    py = ensure_venv()
    ensure_chromium()
    cmd_build(argparse.Namespace(with_=TEST_EXTRAS))
    download_wheels(py, TEST_INDEX_WHEELS, TEST_INDEX_DIR)
    write_distribution(py, TEST_DISTRIBUTION_DIR, TEST_DISTRIBUTION_WHEELS)
    cmd_up()
    say("ruff check")
    lint_rc = subprocess.call([str(py), "-m", "ruff", "check", "."], cwd=ROOT)
    say("running the test suite")
    extra = list(args.pytest_args or [])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    pyodide_opts = [f"--dist-dir={PYODIDE_TEST_OUT}", "--rt=node,chrome"]  # pytest-pyodide: the bundle, two runtimes
    test_rc = subprocess.call([str(py), "-m", "pytest", *pyodide_opts, *extra], cwd=ROOT, env=env)
    if lint_rc:
        say("ruff found problems (see above): the run fails even where the tests pass")
    return test_rc or lint_rc


def cmd_bench(_: argparse.Namespace) -> int:
    py = ensure_venv()
    cmd_build()
    cmd_up()
    ensure_chromium()
    ensure_go_reference()
    rc = 0
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        say(f"bench: {script.name}")
        rc |= subprocess.call([str(py), str(script)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return rc


def cmd_lint(_: argparse.Namespace) -> int:
    py = ensure_venv()
    return subprocess.call([str(py), "-m", "ruff", "check", "."], cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python build.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("up", help="bring up a real local ColonyOS (PostgreSQL + server v1.9.12) on 127.0.0.1")
    p.add_argument("--replicas", type=int, default=1, metavar="N",
                   help="run N server replicas (one PostgreSQL, leader election over etcd) behind haproxy on the same URL")
    p.set_defaults(fn=cmd_up)
    sub.add_parser("down", help="stop what `up` and `demo` started").set_defaults(fn=cmd_down)
    sub.add_parser("status", help="say what runs").set_defaults(fn=cmd_status)
    p = sub.add_parser("build", help="build the wheel and the offline bundle in dist/web")
    p.add_argument("--with", dest="with_", action="append", metavar="REQ",
                   help="also bundle this pure-Python package and its dependencies (repeatable), e.g. --with sympy")
    p.set_defaults(fn=cmd_build)
    p = sub.add_parser("distribution", help="make a small Pyodide distribution (pure wheels + pyodide-lock.json) in DIR")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--with", dest="with_", action="append", required=True, metavar="REQ",
                   help="a pure-Python package to put in it, with its dependencies (repeatable)")
    p.set_defaults(fn=cmd_distribution)
    p = sub.add_parser("serve", help="serve dist/web on 127.0.0.1 (default port 8000)")
    p.add_argument("--port", type=int, default=SERVE_PORT)
    p.add_argument("--connect", action="append", metavar="URL",
                   help="a ColonyOS server the page may call (its CSP connect-src); default: any port on 127.0.0.1")
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("demo", help="main job: server up, bundle built, page served, lines to try printed")
    p.add_argument("--headless", action="store_true", help="run the whole loop unattended in headless Chromium")
    p.add_argument("--port", type=int, default=SERVE_PORT)
    p.set_defaults(fn=cmd_demo)
    p = sub.add_parser("test", help="install what the tests need and run the whole suite")
    p.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra arguments for pytest")
    p.set_defaults(fn=cmd_test)
    sub.add_parser("bench", help="run the benchmarks and print figures").set_defaults(fn=cmd_bench)
    sub.add_parser("lint", help="ruff check").set_defaults(fn=cmd_lint)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except StepFailed as exc:
        print(f"[build] FAILED: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
