"""Redis going away: rate-limited requests keep working on per-process counters, the
degradation is logged once at SECURITY level, /readyz says 503, and Redis is used again
once it is back."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest

from idp.audit import SECURITY

FORM = {"id_code": "0012345679", "password": "x"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server this test owns: no persistence, loopback only, stopped and restarted."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        from .conftest import require_service

        require_service("Redis", "redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


def security_lines(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == SECURITY and text in r.getMessage()]


def test_sign_in_survives_redis_going_away_and_uses_it_again(app, make_app, redis_server,
                                                             clock, caplog):
    """Redis stops: /login answers normally on per-process counters (still limited),
    one SECURITY line says so, /readyz answers 503; Redis back: its counters count again."""
    import redis

    caplog.set_level(logging.INFO)
    http = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute",
                    REDIS_URL=redis_server.url).test_client()
    assert http.post("/login", data=FORM).status_code == 200
    assert http.get("/readyz").status_code == 200

    redis_server.stop()
    answers = [http.post("/login", data=FORM).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]  # the limit still holds, counted in memory
    assert len(security_lines(caplog, "rate-limit counters degraded")) == 1
    ready = http.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["redis"] is False

    redis_server.start()  # same port, empty
    clock.advance(60)  # past the retry interval (and the in-memory window)
    assert http.post("/login", data=FORM).headers["X-RateLimit-Remaining"] == "2"
    keys = redis.Redis.from_url(redis_server.url).keys("LIMITS:*")
    assert keys, "the hit after recovery is counted in Redis"
    assert len(security_lines(caplog, "rate-limit counters degraded")) == 1
    assert security_lines(caplog, "rate-limit counters restored")
    assert http.get("/readyz").status_code == 200


def test_token_endpoint_survives_redis_going_away(make_app, redis_server):
    """The token endpoint answers (here 401 for an unknown client), never 500, without Redis."""
    http = make_app(RATELIMIT_ENABLED=True, REDIS_URL=redis_server.url).test_client()
    redis_server.stop()
    response = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("nobody", "wrong"))
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_captcha_counts_survive_redis_going_away(app, make_app, redis_server, caplog):
    """With Redis down the CAPTCHA's soft-limit counts go on in memory: sign-in still
    works, and the CAPTCHA still appears past the limit."""
    caplog.set_level(logging.INFO)
    http = make_app(CAPTCHA_ENABLED=True, CAPTCHA_LOGIN_IP_FAILURES=2,
                    REDIS_URL=redis_server.url).test_client()
    redis_server.stop()
    assert [http.post("/login", data=FORM).status_code for _ in range(2)] == [200, 200]
    assert 'name="captcha_id"' in http.get("/login").get_data(as_text=True)
    assert len(security_lines(caplog, "captcha counters degraded")) == 1
