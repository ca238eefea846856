"""The production server launcher (``config/server.py``): settings first, then Granian.

Issue 9 finding 12: under a pre-fork server the production refusal ran in each worker,
which exited 1 and was respawned forever while the port stayed open. The launcher loads
and checks the settings in the parent, before any socket is bound or worker started.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx

from idp import settings

LAUNCHER = settings.PROJECT_ROOT / "config" / "server.py"
PORT = 18611


def _environment(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("IDP_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(extra)
    return env


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_production_without_secret_key_exits_before_serving(tmp_path):
    """A missing SECRET_KEY stops the launcher with status 1 and the reason, and no
    worker is started and no port is left open."""
    env = _environment(IDP_ENV="production", IDP_INSTANCE_PATH=str(tmp_path),
                       IDP_SERVER_PORT=str(PORT))
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(LAUNCHER)], env=env, capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "refusing to start: SECRET_KEY" in result.stderr
    assert "worker" not in (result.stdout + result.stderr).lower()
    assert time.monotonic() - started < 60
    assert not _port_open(PORT)


def test_launcher_serves_with_the_workers_and_threads_of_the_settings(tmp_path):
    """Development settings: the launcher starts Granian with SERVER_WORKERS workers
    and answers /healthz, its access log in JSON lines with the request id; SIGTERM
    stops it."""
    port = PORT + 1
    env = _environment(IDP_INSTANCE_PATH=str(tmp_path), IDP_SERVER_PORT=str(port),
                       IDP_SERVER_WORKERS="2", IDP_SERVER_THREADS="2",
                       IDP_SERVER_GRACEFUL_TIMEOUT="5", IDP_KEYS_DIR=str(tmp_path / "keys"),
                       IDP_LOG_FORMAT="json", IDP_SERVER_ACCESS_LOG="true")
    process = subprocess.Popen([sys.executable, str(LAUNCHER)], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2,
                                   headers={"X-Request-ID": "probe-1"})
                if answer.status_code == 200:
                    assert answer.headers["X-Request-ID"] == "probe-1"
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the launcher never answered /healthz")
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert output.count("Spawning worker") == 2, output
    assert not _port_open(port)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"logger": "granian.access", "path": "/healthz", "request_id": "probe-1"}.items() \
        <= next(line for line in lines if line.get("request_id") == "probe-1").items()
