"""A local cluster in one command: ``make cluster`` / ``make cluster-stop``.

    python config/cluster.py start   # PostgreSQL, Redis, 2 IdP instances, HAProxy
    python config/cluster.py stop    # ends what ``start`` started, by PID

PostgreSQL: the one answering on 127.0.0.1:5432 (database ``idp_cluster``, created when
missing), else a cluster initialised under ``instance/pg/`` and started with ``pg_ctl`` on
port 5433 (``CLUSTER_OWN_PG=1`` always does that; ``CLUSTER_PG_PORT`` moves it). Redis: the
one on 127.0.0.1:6379 (database ``CLUSTER_REDIS_DB``, default 0), else a ``redis-server``
started on port 6380. Then ``flask db upgrade``, the first signing keys, ``flask demo
seed``, ``CLUSTER_INSTANCES`` (default 2) instances on 127.0.0.1:5101… with the production
server command (``config/server.py``, two workers each), and HAProxy (installed with apt-get
when missing) on 127.0.0.1:8080: round-robin, ``/healthz`` checks, no stickiness
(``CLUSTER_PORT`` and ``CLUSTER_FIRST_PORT`` move the ports). Development settings (an http
issuer on loopback); the rest is as in production: shared PostgreSQL, Redis and keys,
``PROXY_FIX_X_FOR = 1``.
Everything it starts is written down in ``instance/cluster/pids.json``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "instance" / "cluster"
PIDS = STATE / "pids.json"
PG_DIR = ROOT / "instance" / "pg"
PROXY_PORT = int(os.environ.get("CLUSTER_PORT", "8080"))  # HAProxy, the issuer's port
FIRST_PORT = int(os.environ.get("CLUSTER_FIRST_PORT", "5101"))  # instance n: FIRST_PORT + n - 1


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)  # noqa: S603


def _answers(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0  # noqa: S603


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _postgres(pids: dict) -> str:
    own = os.environ.get("CLUSTER_OWN_PG") == "1"
    if not own and _answers(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]):
        port = 5432
    else:
        port = int(os.environ.get("CLUSTER_PG_PORT", "5433"))
        data = PG_DIR / "data"
        if not (data / "PG_VERSION").exists():
            PG_DIR.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(PG_DIR, "postgres")
            _run(*_as_postgres(["initdb", "-D", str(data), "-U", "postgres",
                                "--auth=trust"]), stdout=subprocess.DEVNULL)
        _run(*_as_postgres(["pg_ctl", "-D", str(data), "-l", str(PG_DIR / "postgres.log"),
                            "-w", "-o", f"-p {port} -k {PG_DIR} -c listen_addresses=127.0.0.1",
                            "start"]))
        pids["postgres"] = int((data / "postmaster.pid").read_text().split()[0])
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                         autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'idp_cluster'").fetchone():
            conn.execute("CREATE DATABASE idp_cluster")
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/idp_cluster"


def _redis(pids: dict) -> str:
    database = os.environ.get("CLUSTER_REDIS_DB", "0")
    if _answers(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"]):
        return f"redis://127.0.0.1:6379/{database}"
    pidfile = STATE / "redis.pid"
    _run("redis-server", "--port", "6380", "--bind", "127.0.0.1", "--daemonize", "yes",
         "--pidfile", str(pidfile), "--save", "", "--appendonly", "no",
         "--dir", str(STATE))
    _wait(lambda: pidfile.exists() and _answers(["redis-cli", "-p", "6380", "ping"]), "Redis")
    pids["redis"] = int(pidfile.read_text())
    return f"redis://127.0.0.1:6380/{database}"


def _secret(name: str) -> str:
    path = STATE / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _environment(database_url: str, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(FLASK_APP="idp", IDP_ENV="development", DATABASE_URL=database_url,
               REDIS_URL=redis_url, IDP_ISSUER=f"http://127.0.0.1:{PROXY_PORT}",
               IDP_SECRET_KEY=_secret("secret_key"), IDP_HASH_KEY=_secret("hash_key"),
               IDP_KEYS_DIR=str(STATE / "keys"), IDP_KEYS_AUTO_GENERATE="false",
               IDP_INSTANCE_PATH=str(STATE / "shared"), IDP_PROXY_FIX_X_FOR="1",
               IDP_SERVER_WORKERS="2", PYTHONPATH=str(ROOT))
    return env


def _flask(env: dict, *args: str) -> None:
    _run(sys.executable, "-m", "flask", *args, env=env, cwd=ROOT)


def _wait(check, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"cluster: {what} did not come up; see {STATE}")


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def haproxy_config(ports: list[int], proxy_port: int = PROXY_PORT) -> str:
    """HAProxy in front of the instances on ``ports``: round-robin, /healthz checks, no
    stickiness, X-Forwarded-For/Proto for ``PROXY_FIX_X_FOR = 1``, /metrics refused."""
    servers = "\n".join(f"    server idp{n} 127.0.0.1:{port} check inter 1s fall 2 rise 1"
                        for n, port in enumerate(ports, 1))
    return f"""global
    maxconn 2000

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option forwardfor
    option http-server-close

frontend idp
    bind 127.0.0.1:{proxy_port}
    http-request set-header X-Forwarded-Proto http
    http-request deny if {{ path_beg /metrics }}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
{servers}
"""


def start() -> None:
    if PIDS.exists():
        raise SystemExit(f"cluster: already started ({PIDS}); `make cluster-stop` first")
    STATE.mkdir(parents=True, exist_ok=True)
    pids: dict = {"instances": []}
    try:
        env = _environment(_postgres(pids), _redis(pids))
        _flask(env, "db", "upgrade")
        if not (STATE / "keys" / "keys.json").exists():
            _flask(env, "keys", "rotate", "--delay", "0")
        _flask(env, "demo", "seed")
        count = int(os.environ.get("CLUSTER_INSTANCES", "2"))
        ports = [FIRST_PORT + n for n in range(count)]
        for n, port in enumerate(ports):
            instance_env = {**env, "IDP_SERVER_PORT": str(port),
                            "IDP_INSTANCE_PATH": str(STATE / f"instance-{n + 1}")}
            log = (STATE / f"instance-{n + 1}.log").open("ab")
            process = subprocess.Popen([sys.executable, str(ROOT / "config" / "server.py")],  # noqa: S603
                                       env=instance_env, cwd=ROOT, stdout=log, stderr=log,
                                       start_new_session=True)
            pids["instances"].append(process.pid)
            _wait(lambda port=port: _ok(f"http://127.0.0.1:{port}/readyz"),
                  f"instance on port {port}")
        if shutil.which("haproxy") is None:
            _run("apt-get", "install", "-y", "-q", "haproxy", stdout=subprocess.DEVNULL)
        config = STATE / "haproxy.cfg"
        config.write_text(haproxy_config(ports))
        _run("haproxy", "-c", "-q", "-f", str(config))
        _run("haproxy", "-D", "-f", str(config), "-p", str(STATE / "haproxy.pid"))
        pids["haproxy"] = int((STATE / "haproxy.pid").read_text().split()[0])
        _wait(lambda: _ok(f"http://127.0.0.1:{PROXY_PORT}/readyz"), "HAProxy")
    finally:
        PIDS.write_text(json.dumps(pids))
    print(f"cluster: {count} instances on ports {', '.join(map(str, ports))} behind HAProxy")
    print(f"Issuer: http://127.0.0.1:{PROXY_PORT}  (stop with `make cluster-stop`)")


def _signal(pid: int, sig: int, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except ProcessLookupError:
        pass


def stop() -> None:
    if not PIDS.exists():
        print("cluster: not started")
        return
    pids = json.loads(PIDS.read_text())
    if "haproxy" in pids:
        _signal(pids["haproxy"], signal.SIGTERM)
    for pid in pids.get("instances", []):
        _signal(pid, signal.SIGTERM, group=True)  # the server and its workers
    if "redis" in pids:
        _signal(pids["redis"], signal.SIGTERM)
    if "postgres" in pids:
        _signal(pids["postgres"], signal.SIGINT)  # PostgreSQL's fast shutdown
    PIDS.unlink()
    print("cluster: stopped")


if __name__ == "__main__":
    {"start": start, "stop": stop}[sys.argv[1] if len(sys.argv) > 1 else "start"]()
