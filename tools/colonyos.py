"""A real local ColonyOS: the pinned server and CLI, its keys, and a deployment of one server or of
several replicas behind a load balancer (Debian's haproxy), all on 127.0.0.1.

One deployment lives in one state folder (.colonies/ for `python build.py up`; the cluster tests
keep theirs apart): its keys, its PostgreSQL, the pids and logs of its programs, and its shape.
Replicas share the PostgreSQL, elect a leader over their embedded etcd and relay process events
to each other (upstream's docs/HADeployment.md); the load balancer gives users one URL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .colonies_cli import run_cli
from .daemons import pid_alive, read_pid, spawn, stop_daemon, wait_healthy
from .layout import COLONIES_BIN, COLONY_NAME, HOST, SERVER_PORT, STATE, TOOLS_BIN, USER_NAME
from .postgres import MAX_CONNECTIONS, Postgres
from .steps import StepFailed, answers_200, apt_install, port_free, run, say

COLONIES_VERSION = "v1.9.12"
COLONIES_MODULE = "github.com/colonyos/colonies"
ETCD_CLIENT_PORT, ETCD_PEER_PORT, RELAY_PORT = 23100, 24100, 25100
REPLICA_API_PORT = 50090  # replica i's API port is this + i (+ the deployment's offset); users reach the balancer
# The balancer must not cut a long-poll the server still holds: the longest `assign` timeout our
# clients send (wasm_executor's assign default and the CLI's) plus a margin.
LB_SERVER_TIMEOUT_S = 120
HAPROXY = Path("/usr/sbin/haproxy")


def ensure_go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if not go:
        apt_install("install Go", ["golang-go"])
        go = shutil.which("go")
    if not go:
        raise StepFailed("step 'install Go': no 'go' on PATH")
    return go


def colonies_module_dir(go: str) -> Path:
    """The pinned colonies module's source in the Go module cache (downloaded if missing)."""
    info = run("go mod download", [go, "mod", "download", "-json", f"{COLONIES_MODULE}@{COLONIES_VERSION}"], capture=True)
    return Path(json.loads(info.stdout)["Dir"])


def ensure_colonies() -> Path:
    exe = COLONIES_BIN
    if exe.exists():
        return exe
    go = ensure_go()
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    say(f"installing the ColonyOS server and CLI {COLONIES_VERSION} with go install (a few minutes)")
    env = dict(os.environ, GOBIN=str(TOOLS_BIN), GOFLAGS="-mod=mod")
    proc = run("go install colonies", [go, "install", f"{COLONIES_MODULE}/cmd@{COLONIES_VERSION}"], env=env, capture=True, check=False)
    if proc.returncode == 0 and (TOOLS_BIN / "cmd").exists():
        (TOOLS_BIN / "cmd").rename(exe)
        return exe
    # The module proxy here answers 403 to the @v/list look-up `go install` makes for its
    # deprecation check; the pinned version itself downloads fine, so build it from the module cache.
    say("go install was refused by the module proxy; building the same pinned module from the module cache")
    run("go build colonies", [go, "build", "-o", str(exe), "./cmd"], cwd=colonies_module_dir(go), env=env, capture=True)
    return exe


def ensure_haproxy() -> Path:
    if not HAPROXY.exists():
        apt_install("install haproxy", ["haproxy"])
    if not HAPROXY.exists():
        raise StepFailed(f"step 'install haproxy': {HAPROXY} missing after apt-get install haproxy")
    return HAPROXY


def generate_key(exe: Path) -> tuple[str, str]:
    out = run("generate key", [str(exe), "security", "generate"], capture=True).stdout
    prv = re.search(r"PrvKey=([0-9a-f]{64})", out)
    ident = re.search(r"Id=([0-9a-f]{64})", out)
    if not prv or not ident:
        raise StepFailed(f"step 'generate key': unexpected output: {out}")
    return prv.group(1), ident.group(1)


@dataclass(frozen=True)
class Replica:
    name: str  # its etcd member name, and its pid/log file name
    api: int
    etcd_client: int
    etcd_peer: int
    relay: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.api}"

    def healthy(self) -> bool:
        return answers_200(f"{self.url}/health")


@dataclass(frozen=True)
class Deployment:
    """One ColonyOS on 127.0.0.1: users reach it on `port` (the server, or the balancer in front of
    the replicas); every internal port is shifted by `offset` so that two deployments coexist."""

    state: Path = STATE
    port: int = SERVER_PORT
    offset: int = 0

    # ------------------------------------------------------------------ facts

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def postgres(self) -> Postgres:
        return Postgres(self.state)

    def shape(self) -> int:
        """How many replicas the deployment last brought up had (1 before any)."""
        path = self.state / "deployment.json"
        return int(json.loads(path.read_text())["replicas"]) if path.exists() else 1

    def replicas(self, count: int | None = None) -> list[Replica]:
        n = self.shape() if count is None else count
        o = self.offset
        if n == 1:  # one server answers users itself, on the deployment's port
            return [Replica("server", self.port, ETCD_CLIENT_PORT + o, ETCD_PEER_PORT + o, RELAY_PORT + o)]
        return [Replica(f"server{i + 1}", REPLICA_API_PORT + o + i, ETCD_CLIENT_PORT + o + i, ETCD_PEER_PORT + o + i,
                        RELAY_PORT + o + i) for i in range(n)]

    def replica(self, name: str) -> Replica:
        return next(r for r in self.replicas() if r.name == name)

    def replica_at(self, url: str) -> str | None:
        """The name of the replica answering at `url` (None: not one of them, e.g. the balancer)."""
        return next((r.name for r in self.replicas() if r.url == url), None)

    def keys(self) -> dict[str, str]:
        """Fresh keys at first `up` (never upstream's well-known dev keys), kept for later runs."""
        path = self.state / "keys.json"
        if path.exists():
            return json.loads(path.read_text())
        exe = ensure_colonies()
        self.state.mkdir(parents=True, exist_ok=True)
        keys: dict[str, str] = {}
        for role in ("server", "colony", "user"):
            keys[f"{role}_prvkey"], keys[f"{role}_id"] = generate_key(exe)
        path.write_text(json.dumps(keys, indent=2))
        path.chmod(0o600)
        return keys

    def env(self) -> dict[str, str]:
        """What the server, the CLI and our SDK read (COLONIES_*), as the colony's user."""
        keys = self.keys()
        db_conns = str((MAX_CONNECTIONS - 10) // self.shape())  # the replicas share PostgreSQL's connections
        return {
            "COLONIES_SERVER_HOST": HOST,
            "COLONIES_SERVER_PORT": str(self.port),
            "COLONIES_TLS": "false",
            "COLONIES_COLONY_NAME": COLONY_NAME,
            "COLONIES_COLONY_ID": keys["colony_id"],
            "COLONIES_COLONY_PRVKEY": keys["colony_prvkey"],
            "COLONIES_SERVER_ID": keys["server_id"],
            "COLONIES_SERVER_PRVKEY": keys["server_prvkey"],
            "COLONIES_ID": keys["user_id"],
            "COLONIES_PRVKEY": keys["user_prvkey"],
            "COLONIES_DB_HOST": HOST,
            "COLONIES_DB_PORT": str(self.postgres.port),
            "COLONIES_DB_USER": "postgres",
            "COLONIES_DB_PASSWORD": "unused-trust-auth",
            "COLONIES_DB_TIMESCALEDB": "false",
            "COLONIES_DB_MAX_OPEN_CONNS": db_conns,
            "COLONIES_DB_MAX_IDLE_CONNS": db_conns,
            "COLONIES_ALLOW_EXECUTOR_REREGISTER": "true",
            "COLONIES_VERBOSE": "false",
            "TZ": "UTC",  # the server refuses to start without it
        }

    def running(self) -> list[Replica]:
        return [r for r in self.replicas() if read_pid(self.state, r.name)]

    def healthy(self) -> bool:
        return answers_200(f"{self.url}/health")

    def leader(self) -> str | None:
        """The replica the cluster elected (`colonies cluster info`), or None if none answers."""
        for row in self.cluster_info():
            if row.get("LEADER") == "True":
                return row["NAME"]
        return None

    def cluster_info(self) -> list[dict[str, str]]:
        keys = self.keys()
        for replica in self.running() or self.replicas():
            env = {**self.env(), "COLONIES_SERVER_PORT": str(replica.api)}
            proc = run_cli(["cluster", "info", "--port", str(replica.api), "--host", HOST,
                            "--serverprvkey", keys["server_prvkey"]], env, timeout=20)
            # A box-drawn table: one row per line between "│" bars.
            rows = [[c.strip() for c in line.strip().strip("│").split("│")] for line in proc.stdout.splitlines()
                    if line.startswith("│")]
            if proc.returncode == 0 and len(rows) > 1:
                return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]
        return []

    # ------------------------------------------------------------------ lifecycle

    def up(self, replicas: int = 1) -> None:
        """Idempotent: starts what is missing (PostgreSQL, each replica, the balancer) and the
        colony; a running deployment of another shape is replaced (the database stays)."""
        if replicas < 1:
            raise StepFailed(f"step 'up': --replicas must be at least 1, not {replicas}")
        exe = ensure_colonies()
        keys = self.keys()
        self.postgres.start(keys["server_id"])
        if self.shape() != replicas and self.running():
            say(f"replacing the running {self.shape()}-server ColonyOS with {replicas} (the database stays)")
            self.stop_servers()
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "deployment.json").write_text(json.dumps({"replicas": replicas}))
        self.start_replicas(exe)
        if replicas > 1:
            self.start_balancer()
        self.bootstrap()

    def start_replicas(self, exe: Path) -> None:
        replicas = self.replicas()
        etcd_dir = self.state / ("etcd" if len(replicas) == 1 else f"etcd-{len(replicas)}")
        if not self.running():
            # A fresh etcd cluster: it holds only the leader election and paused colonies; ColonyOS
            # keeps everything else in PostgreSQL. A replica restarted beside running ones keeps its data.
            shutil.rmtree(etcd_dir, ignore_errors=True)
        etcd_dir.mkdir(parents=True, exist_ok=True)
        members = ",".join(f"{r.name}={HOST}:{r.etcd_peer}:{r.relay}:{r.api}" for r in replicas)
        started = {}
        for r in replicas:
            if read_pid(self.state, r.name):
                continue
            for port in (r.api, r.etcd_client, r.etcd_peer, r.relay):
                if not port_free(port):
                    raise StepFailed(f"step 'start {r.name}': port {port} on {HOST} is taken by another program")
            cmd = [str(exe), "server", "start", "--initdb", "--port", str(r.api), "--relayport", str(r.relay),
                   "--etcdname", r.name, "--etcdhost", HOST, "--etcdclientport", str(r.etcd_client),
                   "--etcdpeerport", str(r.etcd_peer), "--etcddatadir", str(etcd_dir), "--insecure"]
            if len(replicas) > 1:
                cmd += ["--initial-cluster", members]
            say(f"starting ColonyOS {r.name} on {r.url} (log: {self.state.name}/{r.name}.log)")
            started[r.name] = spawn(self.state, r.name, cmd, self.env())
        # All at once: a replica serves only once its etcd has a quorum, i.e. once most are up.
        if started:
            wait_healthy(self.state, started, "start ColonyOS", lambda: all(r.healthy() for r in replicas), 120, 0.5)

    def balancer_config(self) -> str:
        servers = "\n".join(f"    server {r.name} {HOST}:{r.api} check inter 1s fall 2 rise 2" for r in self.replicas())
        return f"""# Written by tools/colonyos.py: {len(self.replicas())} ColonyOS replicas behind one URL.
global
    maxconn 4096
defaults
    mode http
    option http-server-close
    timeout connect 2s
    timeout client {LB_SERVER_TIMEOUT_S}s
    timeout server {LB_SERVER_TIMEOUT_S}s
    # WebSockets (process subscriptions, channels) stay open for as long as the client wants.
    timeout tunnel 1h
    # A request to a replica that just died goes to another one.
    retries 3
    option redispatch
frontend colonies
    bind {HOST}:{self.port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /health
{servers}
"""

    def start_balancer(self) -> None:
        if read_pid(self.state, "balancer") and self.healthy():
            return
        haproxy = ensure_haproxy()
        cfg = self.state / "haproxy.cfg"
        cfg.write_text(self.balancer_config())
        if not port_free(self.port):
            raise StepFailed(f"step 'start load balancer': port {self.port} on {HOST} is taken by another program")
        say(f"starting the load balancer (haproxy) on {self.url} (config: {self.state.name}/haproxy.cfg)")
        proc = spawn(self.state, "balancer", [str(haproxy), "-f", str(cfg), "-db"], {})
        wait_healthy(self.state, {"balancer": proc}, "start load balancer", self.healthy, 20, 0.2)

    def bootstrap(self) -> None:
        """Create colony `dev` and its user unless the database already has them (it keeps them across down/up)."""
        env, keys = self.env(), self.keys()
        ls = run_cli(["colony", "ls"], env, keys["server_prvkey"])
        if ls.returncode == 0 and re.search(rf"\b{re.escape(COLONY_NAME)}\b.*{keys['colony_id']}", ls.stdout):
            return
        say(f"creating colony '{COLONY_NAME}' and user '{USER_NAME}'")
        add = run_cli(["colony", "add", "--name", COLONY_NAME, "--colonyid", keys["colony_id"]], env, keys["server_prvkey"])
        if add.returncode != 0 and "exist" not in (add.stdout + add.stderr).lower():
            raise StepFailed(f"step 'add colony' failed:\n{add.stdout}{add.stderr}")
        user = run_cli(
            ["user", "add", f"--name={USER_NAME}", "--email=dev@example.invalid", "--phone=0", f"--userid={keys['user_id']}"],
            env, keys["colony_prvkey"],
        )
        if user.returncode != 0 and "exist" not in (user.stdout + user.stderr).lower():
            raise StepFailed(f"step 'add user' failed:\n{user.stdout}{user.stderr}")

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """A replica's abrupt end (a crash, an OOM kill), for failover tests: no shutdown runs."""
        pid = read_pid(self.state, name)
        if pid is None:
            raise StepFailed(f"step 'kill {name}': {name} is not running")
        os.killpg(pid, sig)
        while pid_alive(pid):  # the signal is sent, its delivery is not instant
            time.sleep(0.05)

    def stop_servers(self) -> None:
        stop_daemon(self.state, "balancer", say)
        names = {r.name for n in (1, self.shape()) for r in self.replicas(n)}
        names |= {p.stem for p in self.state.glob("server*.pid")}
        for name in sorted(names):
            stop_daemon(self.state, name, say)

    def down(self) -> None:
        self.stop_servers()
        self.postgres.stop()

    def status_lines(self) -> list[str]:
        pg = self.postgres.pid()
        lines = [f"postgres : {'running, pid ' + str(pg) if pg else 'stopped'} ({HOST}:{self.postgres.port})"]
        replicas = self.replicas()
        info = {row["NAME"]: row for row in self.cluster_info()} if len(replicas) > 1 and self.running() else {}
        for r in replicas:
            pid = read_pid(self.state, r.name)
            role = " (leader)" if info.get(r.name, {}).get("LEADER") == "True" else ""
            lines.append(f"{r.name:<9}: {'running, pid ' + str(pid) if pid else 'stopped'}; {r.url}/health "
                         f"{'200' if r.healthy() else 'no answer'}{role}")
        if len(replicas) > 1:
            pid = read_pid(self.state, "balancer")
            lines.append(f"balancer : {'running, pid ' + str(pid) if pid else 'stopped'}; {self.url}/health "
                         f"{'200' if self.healthy() else 'no answer'} (haproxy, {len(replicas)} replicas)")
        return lines

