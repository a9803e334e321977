"""A PostgreSQL cluster of Debian's server binaries, one per deployment, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from pathlib import Path

from .daemons import pid_alive
from .layout import HOST
from .steps import StepFailed, apt_install, is_root, port_free, run, say

PG_PORT = 50432  # first choice; another checkout's cluster may hold it (see Postgres.port)
# Each ColonyOS server opens up to 100 connections by default; replicas share this budget (see
# tools/colonyos.py), and PostgreSQL's own default (100) would refuse the second replica's.
MAX_CONNECTIONS = 250


def pg_bin_dir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def ensure_postgres_installed() -> Path:
    bindir = pg_bin_dir()
    if bindir is None:
        apt_install("install PostgreSQL", ["postgresql"])
        bindir = pg_bin_dir()
    if bindir is None:
        raise StepFailed("step 'install PostgreSQL': initdb not found after apt-get install postgresql")
    return bindir


def as_pg_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the 'postgres' system user when we are root."""
    if is_root():
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class Postgres:
    """The cluster of one deployment, whose pids and port live in `state` (e.g. .colonies/)."""

    def __init__(self, state: Path) -> None:
        self.state = state

    @property
    def base(self) -> Path:
        """As root the server runs as the 'postgres' user, who may not be able to reach a checkout
        under a private home directory; its own home is always reachable, so the cluster goes
        there, one per deployment (named by a hash of its state folder)."""
        if is_root():
            tag = hashlib.sha256(str(self.state).encode()).hexdigest()[:10]
            return Path("/var/lib/postgresql") / f"wasm-executor-{tag}"
        return self.state / "postgres"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def port(self) -> int:
        """Chosen once (the first free one from PG_PORT) and kept in STATE/pg.port."""
        path = self.state / "pg.port"
        if path.exists():
            return int(path.read_text())
        port = next(p for p in range(PG_PORT, PG_PORT + 100) if port_free(p))
        self.state.mkdir(parents=True, exist_ok=True)
        path.write_text(str(port))
        return port

    def pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            if pid_alive(pid):
                return pid
        return None

    def start(self, owner_id: str) -> None:
        """Started. `owner_id` (the server key's ID) marks whose data it holds: a fresh clone at the
        path of an earlier one makes new keys, and the earlier clone's database (its colony, owned
        by the old keys) would refuse them, so that cluster starts afresh."""
        bindir = ensure_postgres_installed()
        data, sock, log = self.data, self.base / "sock", self.base / "postgres.log"
        marker = self.base / "owner.id"
        if (data / "PG_VERSION").exists() and (not marker.exists() or marker.read_text() != owner_id):
            say(f"the PostgreSQL cluster in {self.base} holds an earlier checkout's data (other keys): starting it afresh")
            self.stop()
            shutil.rmtree(self.base)
        if self.pid():
            return
        self.base.mkdir(parents=True, exist_ok=True)
        if not (data / "PG_VERSION").exists():
            say(f"initialising a PostgreSQL cluster in {self.base}")
            data.mkdir(parents=True, exist_ok=True)
            sock.mkdir(parents=True, exist_ok=True)
            if is_root():
                for p in (self.base, data, sock):
                    shutil.chown(p, "postgres", "postgres")
                data.chmod(0o700)
            run("initdb", as_pg_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                capture=True)
            marker.write_text(owner_id)
        say(f"starting PostgreSQL on {HOST}:{self.port}")
        opts = f"-p {self.port} -c listen_addresses={HOST} -c max_connections={MAX_CONNECTIONS} -k {sock}"
        try:
            run("start PostgreSQL", as_pg_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"]),
                capture=True)
        except StepFailed as exc:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise StepFailed(f"{exc}\n--- {log} ---\n{tail}") from None

    def stop(self) -> None:
        bindir = pg_bin_dir()
        if bindir and self.pid():
            say("stopping PostgreSQL")
            run("stop PostgreSQL", as_pg_user([str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                capture=True)
