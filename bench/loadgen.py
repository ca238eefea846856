"""Run wrk with one of the Lua scenario scripts in ``bench/wrk`` and read its summary."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK_DIR = Path(__file__).resolve().with_name("wrk")


@dataclass
class Load:
    """What the load generator saw: completed requests, failures and latency."""

    requests: int
    errors: int  # socket errors, timeouts and answers with an unexpected status
    seconds: float
    p50_ms: float
    p99_ms: float
    error_detail: dict

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def require_wrk() -> str:
    """Return wrk's path, or exit with how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("bench: wrk is not installed (apt-get install -y wrk; "
                         "'make bench' installs it)")
    return path


def run_wrk(base: str, path: str, script: str, seconds: float, connections: int,
            threads: int, env: dict, args: tuple = ()) -> Load:
    """Load ``base + path`` for ``seconds`` with ``bench/wrk/<script>``.

    :param args: passed to the script's ``init`` (after ``--``); the thread count is
        appended, since pool scripts split their files between threads.
    """
    argv = [require_wrk(), "-t", str(threads), "-c", str(connections),
            "-d", f"{max(1, round(seconds))}s", "--timeout", "30s", "-s", script,
            base + path]
    if args:
        argv += ["--", *[str(a) for a in args], str(threads)]
    # The working directory lets the scripts require("report").
    done = subprocess.run(argv, cwd=WRK_DIR, env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=seconds + 120, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}"
                           f"\n{done.stdout.strip()}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    # wrk counts statuses >= 400 as "status" errors; "unexpected" (counted by the
    # scripts) includes those and every other status than the scenario's success.
    detail = {k: data[k] for k in ("connect", "read", "write", "timeout", "unexpected")
              if data[k]}
    return Load(requests=data["requests"], errors=sum(detail.values()),
                seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000, error_detail=detail)
