"""Benchmark the IdP's hot paths: ``make bench`` (how to run and read it: bench/README.md).

For each database: a fresh IdP instance (production settings, scratch database, one
portal, ``--users`` citizens), the server under ``--server`` pinned to one CPU, sign-ins
that fill the token pools, then one fixed-length scenario after another, each measured
as requests/s, p50/p99 latency and server CPU milliseconds per request. Results go to
``bench/results/<date>-<database>[-<label>].md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

# The checkout being measured comes first, before any installed copy of ``idp``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen  # noqa: E402
import procstat  # noqa: E402
import results  # noqa: E402
import signin  # noqa: E402
from instance import PASSWORD, PROJECT_ROOT, Instance  # noqa: E402
from server import DEFAULT_COMMAND, Server  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class WrkScenario:
    path: str
    script: str
    pool: str | None = None  # file handed to the script: "refresh", "access" or "codes"


WRK = {
    "discovery": WrkScenario("/.well-known/openid-configuration", "get.lua"),
    "jwks": WrkScenario("/jwks.json", "get.lua"),
    "token": WrkScenario("/oauth/token", "client_credentials.lua"),
    "refresh": WrkScenario("/oauth/token", "refresh.lua", "refresh"),
    "userinfo": WrkScenario("/userinfo", "userinfo.lua", "access"),
    "introspect": WrkScenario("/oauth/introspect", "introspect.lua", "access"),
    "login": WrkScenario("/login", "login.lua", "codes"),
}
WRK["token+limits"] = WRK["token"]
SCENARIOS = ["discovery", "jwks", "token", "refresh", "userinfo", "introspect", "login",
             "signin", "token+limits"]
# The data-size mode: what a big table slows down (the rest never reads them).
DATA_SCENARIOS = ["signin", "login", "token", "refresh", "userinfo", "introspect"]
ARGON2_SCENARIOS = {"login", "signin"}  # one argon2id verification per unit


def seconds(value: str) -> float:
    """Read a duration: "10s", "1m" or a number of seconds."""
    value = value.strip().lower()
    factor = {"s": 1, "m": 60}.get(value[-1:], None)
    return float(value[:-1]) * factor if factor else float(value)


def count(value: str) -> int:
    """Read a count: "10000", "10k" or "1m"."""
    value = value.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(value[-1:], None)
    return int(float(value[:-1]) * factor) if factor else int(value)


def size(n: int) -> str:
    """Write a count the way ``count`` reads it: 1000000 → "1m"."""
    for suffix, factor in (("m", 1_000_000), ("k", 1_000)):
        if n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", action="append", choices=["sqlite", "postgresql"],
                   help="database to run on (repeatable; default BENCH_DB or both)")
    p.add_argument("--server", default=env("BENCH_SERVER", DEFAULT_COMMAND),
                   help="server command; {bind}, {port} and {workers} are filled in")
    p.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", "4")))
    p.add_argument("--duration", type=seconds, default=seconds(env("BENCH_DURATION", "10s")))
    p.add_argument("--warmup", type=seconds, default=seconds(env("BENCH_WARMUP", "2s")))
    p.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", "8")))
    p.add_argument("--threads", type=int, default=int(env("BENCH_THREADS", "1")),
                   help="wrk threads")
    p.add_argument("--users", type=count, default=count(env("BENCH_USERS", "10000")))
    p.add_argument("--data", type=count, default=count(env("BENCH_DATA", "0") or "0"),
                   help="data-size mode (PostgreSQL): this many citizens and five times as "
                        "many token rows, e.g. 1m")
    p.add_argument("--pool", type=int, default=int(env("BENCH_POOL", "64")),
                   help="sign-ins made before the load (the token pools)")
    p.add_argument("--scenario", action="append", choices=SCENARIOS,
                   help="run only these (repeatable; default BENCH_SCENARIOS or all)")
    p.add_argument("--label", default=env("BENCH_LABEL", ""))
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--pg-url", default=env("BENCH_PG_URL",
                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    p.add_argument("--pg-database", default=env("BENCH_PG_DATABASE", "bench"))
    p.add_argument("--redis-url", default=env("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                   help="rate-limit counters of the token+limits scenario")
    p.add_argument("--limit-token", default=env("BENCH_LIMIT_TOKEN", "1000000 per minute"),
                   help="RATELIMIT_TOKEN of the token+limits scenario")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    opts = p.parse_args(argv)
    opts.db = opts.db or env("BENCH_DB", "sqlite postgresql").split()
    opts.scenario = opts.scenario or env("BENCH_SCENARIOS", "").replace(",", " ").split() \
        or (DATA_SCENARIOS if opts.data else SCENARIOS)
    unknown = set(opts.scenario) - set(SCENARIOS) | set(opts.db) - {"sqlite", "postgresql"}
    if unknown:
        p.error(f"unknown scenario or database: {', '.join(sorted(unknown))}")
    if opts.data:
        opts.db, opts.users = ["postgresql"], opts.data
    opts.pool = max(opts.pool, 4 * opts.connections)
    return opts


def pin_client(opts) -> bool:
    """Move this driver (and wrk, its child) to the client CPU; tell whether pinning is on."""
    cpus = os.sched_getaffinity(0)
    if not {opts.server_cpu, opts.client_cpu} <= cpus or opts.server_cpu == opts.client_cpu:
        print(f"bench: CPUs {sorted(cpus)} available: no pinning", file=sys.stderr)
        return False
    os.sched_setaffinity(0, {opts.client_cpu})
    return True


def reachable(url: str) -> bool:
    """Tell whether something accepts TCP connections at the host and port of ``url``."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
        return True
    except OSError:
        return False


def git_state() -> dict:
    """Return the commit measured and whether files outside bench/ differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT,  # noqa: S603, S607
                              capture_output=True, text=True,
                              check=False).stdout.strip()
    return {"commit": git("rev-parse", "--short=12", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--", ".", ":!bench"))}


def percentile(values: list[float], pct: float) -> float | None:
    """Return the nearest-rank percentile ``pct`` of ``values`` (``None`` when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


class Run:
    """One database's bench: the instance, its servers and the scenario rows."""

    def __init__(self, opts, db: str, workdir: Path, pinned: bool):
        self.opts, self.db, self.pinned = opts, db, pinned
        self.name = db + (f"-{size(opts.data)}" if opts.data else "")
        self.dir = workdir / self.name
        self.instance = Instance(db, self.dir, opts.pg_url, opts.pg_database)
        self.cpu = opts.server_cpu if pinned else None
        self.scenario_rows: list[dict] = []
        self.files: dict[str, Path] = {}
        self.wrk_env: dict = {}
        self.argon2: dict = {}
        self.codes: list[str] = []
        self.rows_at_start: dict = {}

    # --- set-up --------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the IdP instance and measure the argon2id verification cost."""
        opts = self.opts
        tokens = 5 * opts.data if opts.data else 0
        print(f"[{self.name}] set-up: {opts.users:,} citizens"
              + (f", {tokens:,} token rows" if tokens else ""), flush=True)
        self.instance.create(opts.users, tokens)
        self.rows_at_start = self.instance.row_counts()
        done = subprocess.run([sys.executable, str(BENCH_DIR / "argon2cost.py")],  # noqa: S603
                              cwd=PROJECT_ROOT, env=self.instance.env(), capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"argon2cost.py failed:\n{done.stderr}")
        self.argon2 = json.loads(done.stdout)
        sample = min(len(self.instance.codes), 20_000)
        self.codes = random.Random(1403).sample(self.instance.codes, sample)

    def prepare_pools(self, server: Server) -> None:
        """Sign citizens in for real; their tokens are the pools of the token scenarios."""
        got = signin.run(server.base, self.instance.portal, self.codes, PASSWORD,
                         self.opts.connections, count=self.opts.pool)
        if got.errors or not got.tokens:
            raise RuntimeError(f"sign-ins before the load failed: {got.errors}\n"
                               f"{server.log_tail()}")
        self.files = {"codes": self.dir / "codes.txt", "refresh": self.dir / "refresh.txt",
                      "access": self.dir / "access.txt", "spill": self.dir / "spill.txt"}
        self.files["codes"].write_text("\n".join(self.codes) + "\n")
        self.files["refresh"].write_text("".join(t["refresh_token"] + "\n" for t in got.tokens))
        self.files["access"].write_text("".join(t["access_token"] + "\n" for t in got.tokens))
        cookie, csrf = asyncio.run(signin.login_form(server.base))
        self.wrk_env = {**os.environ, "BENCH_BASIC": self.instance.portal.basic,
                        "BENCH_COOKIE": cookie, "BENCH_SPILL": str(self.files["spill"]),
                        "BENCH_LOGIN_BODY": urlencode({"csrf_token": csrf,
                                                       "password": PASSWORD}) + "&id_code="}

    # --- scenarios -----------------------------------------------------------------------
    def wrk(self, server: Server, name: str, length: float) -> loadgen.Load:
        """Load ``server`` with the wrk scenario ``name`` for ``length`` seconds."""
        scenario = WRK[name]
        args = (self.files[scenario.pool],) if scenario.pool else ()
        load = loadgen.run_wrk(server.base, scenario.path, scenario.script, length,
                               self.opts.connections, self.opts.threads, self.wrk_env, args)
        if name == "refresh":  # the rotated tokens left over are the next run's pool
            shutil.copyfile(self.files["spill"], self.files["refresh"])
        return load

    def signins(self, server: Server, length: float) -> loadgen.Load:
        """Run sign-in round trips for ``length`` seconds; latency is per round trip."""
        got = signin.run(server.base, self.instance.portal, self.codes, PASSWORD,
                         self.opts.connections, seconds=length)
        return loadgen.Load(requests=len(got.latencies), errors=sum(got.errors.values()),
                            seconds=got.seconds,
                            p50_ms=(percentile(got.latencies, 50) or 0) * 1000,
                            p99_ms=(percentile(got.latencies, 99) or 0) * 1000,
                            error_detail=got.errors)

    def scenario(self, server: Server, name: str) -> None:
        """Warm up, then measure scenario ``name``: load, server CPU, database CPU and
        the other load on the server's CPU; append its row and print it."""
        def drive(length):
            return self.signins(server, length) if name == "signin" \
                else self.wrk(server, name, length)

        if self.opts.warmup:
            drive(self.opts.warmup)
        backends = procstat.Backends(self.opts.pg_database) if self.db == "postgresql" else None
        core_before = procstat.core_busy_ms(self.cpu) if self.cpu is not None else 0.0
        cpu_before = server.cpu_ms()
        if backends:
            backends.start()
        started = time.monotonic()
        load = drive(self.opts.duration)
        wall_ms = (time.monotonic() - started) * 1000
        server_ms = server.cpu_ms() - cpu_before
        db_ms = backends.stop() if backends else None
        other = None
        if self.cpu is not None:
            core_ms = procstat.core_busy_ms(self.cpu) - core_before
            other = max(0.0, core_ms - server_ms) / wall_ms * 100
        self.scenario_rows.append(self._row(name, load, server_ms, db_ms, other))
        r = self.scenario_rows[-1]
        per = f"{r['server_cpu_ms_per_req']:.2f}" if r["server_cpu_ms_per_req"] else "–"
        print(f"[{self.name}] {name:13} {r['rps']:8.1f}/s  p50 {r['p50_ms']:7.1f} ms  "
              f"p99 {r['p99_ms']:7.1f} ms  server CPU {per} ms/{r['unit']}  "
              f"errors {r['errors']}", flush=True)

    def _row(self, name: str, load: loadgen.Load, server_ms: float, db_ms, other) -> dict:
        per = server_ms / load.requests if load.requests else None
        unit = "round trip" if name == "signin" else "request"
        row = {"name": name, "unit": unit, "requests": load.requests, "errors": load.errors,
               "error_detail": load.error_detail, "seconds": round(load.seconds, 2),
               "rps": round(load.rps, 1), "p50_ms": round(load.p50_ms, 2),
               "p99_ms": round(load.p99_ms, 2), "server_cpu_ms": round(server_ms),
               "server_cpu_ms_per_req": round(per, 3) if per else None,
               "db_cpu_ms_per_req": round(db_ms / load.requests, 3)
               if db_ms is not None and load.requests else None,
               "server_core_other_pct": round(other, 1) if other is not None else None}
        if name == "signin":
            row["http_requests_per_unit"] = signin.ROUND_TRIP_REQUESTS
        if name in ARGON2_SCENARIOS and per:
            row["argon2_share_pct"] = round(100 * self.argon2["verify_cpu_ms"] / per, 1)
        return row

    # --- the whole run -------------------------------------------------------------------
    def execute(self) -> dict:
        """Set up, run every chosen scenario, drop the database; return the results."""
        started = datetime.now(UTC)
        load_before = procstat.load_average()
        log = self.dir / "server.log"
        chosen = self.opts.scenario
        try:
            self.setup()
            plain = [s for s in SCENARIOS if s in chosen and s != "token+limits"]
            if plain:
                env = self.instance.env(RATELIMIT_ENABLED=False)
                with Server(self.opts.server, self.opts.workers, env, log, self.cpu) as server:
                    self.prepare_pools(server)
                    for name in plain:
                        self.scenario(server, name)
            if "token+limits" in chosen:
                with Server(self.opts.server, self.opts.workers, self._limited_env(), log,
                            self.cpu) as server:
                    if not self.wrk_env:
                        self.prepare_pools(server)
                    self.scenario(server, "token+limits")
        finally:
            self.instance.drop()
        return self._summary(started, load_before)

    def _limited_env(self) -> dict:
        settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_TOKEN": self.opts.limit_token}
        if reachable(self.opts.redis_url):
            settings["REDIS_URL"] = self.opts.redis_url
        return self.instance.env(**settings)

    def _limits_text(self) -> str:
        text = "off (`IDP_RATELIMIT_ENABLED=false`)"
        if "token+limits" not in self.opts.scenario:
            return text + "."
        storage = self.opts.redis_url if reachable(self.opts.redis_url) \
            else "memory:// (Redis unreachable: each worker counts alone)"
        return (text + " except in *token+limits*: the token scenario on a server with "
                f"`RATELIMIT_ENABLED=true`, `RATELIMIT_TOKEN=\"{self.opts.limit_token}\"` "
                "(raised so that nothing is refused; every call is still counted) and the "
                f"counters in {storage}.")

    def _database_text(self) -> str:
        opts = self.opts
        people = f"{opts.users:,} citizens"
        if opts.data:
            people += (f", {5 * opts.data:,} token rows (half refresh, half access tokens) "
                       f"in {opts.data:,} grants, loaded with COPY")
        if self.db == "sqlite":
            return f"SQLite (WAL) in a temporary instance folder; {people}"
        where = urlsplit(opts.pg_url)
        return (f"PostgreSQL at {where.hostname}:{where.port or 5432}, scratch database "
                f"`{opts.pg_database}` recreated for the run; {people}; DB CPU = its "
                "backends' CPU from /proc (not pinned)")

    def _summary(self, started: datetime, load_before: list) -> dict:
        opts = self.opts
        return {
            "label": opts.label, "date": started.date().isoformat(), "database": self.name,
            "started_at": started.isoformat(timespec="seconds"), "git": git_state(),
            "machine": {"cpu_model": procstat.cpu_model(), "cpus": os.cpu_count(),
                        "pinned": self.pinned, "server_cpu": opts.server_cpu,
                        "client_cpu": opts.client_cpu, "load_before": load_before,
                        "load_after": procstat.load_average(),
                        "python": platform.python_version(), "kernel": platform.release()},
            "settings": {"server": opts.server.format(bind="127.0.0.1:<port>", port="<port>",
                                                      workers=opts.workers),
                         "workers": opts.workers,
                         "duration_s": opts.duration, "warmup_s": opts.warmup,
                         "connections": opts.connections, "wrk_threads": opts.threads,
                         "users": opts.users, "token_rows": 5 * opts.data,
                         "pool": opts.pool, "database_detail": self._database_text(),
                         "rows_at_start": self.rows_at_start,
                         "rate_limits": self._limits_text()},
            "argon2": self.argon2,
            "scenarios": self.scenario_rows,
        }


def main(argv=None) -> int:
    opts = parse_args(argv)
    loadgen.require_wrk()
    # A polite stop (kill, Ctrl-C) unwinds through the finally blocks: servers are
    # terminated and the scratch database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    pinned = pin_client(opts)
    workdir = Path(tempfile.mkdtemp(prefix="idp-bench-"))
    try:
        for db in opts.db:
            run = Run(opts, db, workdir, pinned).execute()
            json_path, md_path = results.write(run, opts.out)
            table = results.markdown_table(results.COLUMNS, results.table_rows(run["scenarios"]))
            print(f"\n{table}\n\nwritten: {os.path.relpath(md_path)}, "
                  f"{os.path.relpath(json_path)}\n", flush=True)
    finally:
        if opts.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
