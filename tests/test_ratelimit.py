"""Per-IP rate limits: on by default, shared through Redis, answered in Persian or JSON."""

from __future__ import annotations

import threading

import pytest

from idp.security.ratelimit import MemoryCounterStorage, RedisCounterStorage

from .factories import make_client


@pytest.fixture
def limited(make_app):
    def build(**overrides):
        return make_app(**{"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute",
                           **overrides})
    return build


def test_enabled_by_default(app_config):
    from idp import settings

    assert settings.DEFAULTS["RATELIMIT_ENABLED"] is True


def test_login_guesses_are_limited_per_ip(limited):
    """The fourth sign-in POST in a minute from one address gets 429 in Persian."""
    client = limited().test_client()
    for _ in range(3):
        assert client.post("/login", data={"id_code": "0012345679", "password": "x"}) \
            .status_code == 200
    response = client.post("/login", data={"id_code": "0012345679", "password": "x"})
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "تعداد درخواست" in response.get_data(as_text=True)
    other_ip = client.post("/login", data={"id_code": "0012345679", "password": "x"},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_ip.status_code == 200
    assert client.get("/login").status_code == 200  # reading the page is not limited


def test_token_endpoint_limit_answers_json(limited):
    app = limited(RATELIMIT_TOKEN="1 per minute")
    with app.app_context():
        client_row, secret = make_client(client_type="service", redirect_uris=[],
                                         grant_types=["client_credentials"], scope="openid")
        client_id = client_row.client_id
    http = app.test_client()
    data = {"grant_type": "client_credentials"}
    auth = (client_id, secret)
    assert http.post("/oauth/token", data=data, auth=auth).status_code == 200
    response = http.post("/oauth/token", data=data, auth=auth)
    assert response.status_code == 429
    assert response.json["error"] == "too_many_requests"


def test_counters_are_shared_through_redis(limited, redis_url):
    """Two app instances on one Redis share the same counter (scale-out)."""
    first = limited(REDIS_URL=redis_url).test_client()
    second = limited(REDIS_URL=redis_url).test_client()
    form = {"id_code": "0012345679", "password": "x"}
    first.post("/login", data=form)
    first.post("/login", data=form)
    second.post("/login", data=form)
    assert second.post("/login", data=form).status_code == 429
    assert first.post("/login", data=form).status_code == 429


def test_proxy_fix_uses_forwarded_address(limited):
    """Behind one trusted proxy, limits key on X-Forwarded-For, not the proxy's address."""
    client = limited(PROXY_FIX_X_FOR=1).test_client()
    form = {"id_code": "0012345679", "password": "x"}
    for _ in range(3):
        client.post("/login", data=form, headers={"X-Forwarded-For": "10.1.1.1"})
    assert client.post("/login", data=form,
                       headers={"X-Forwarded-For": "10.1.1.1"}).status_code == 429
    assert client.post("/login", data=form,
                       headers={"X-Forwarded-For": "10.1.1.2"}).status_code == 200


def test_memory_counters_start_no_thread(limited):
    """A limited request costs a dict update: no timer thread per hit, limits still trip."""
    app = limited()
    assert isinstance(app.extensions["idp.limiter"].storage, MemoryCounterStorage)
    client = app.test_client()
    form = {"id_code": "0012345679", "password": "x"}
    client.post("/login", data=form)
    threads = threading.active_count()
    remaining = [client.post("/login", data=form).headers["X-RateLimit-Remaining"]
                 for _ in range(2)]
    assert remaining == ["1", "0"]
    assert client.post("/login", data=form).status_code == 429
    assert threading.active_count() == threads


def test_memory_window_restarts_and_expired_windows_are_swept():
    """A window that has ended counts from zero again; the minute's sweep forgets it."""
    now = [1000.0]
    storage = MemoryCounterStorage("idp+memory://", clock=lambda: now[0])
    assert [storage.incr("a", 10) for _ in range(3)] == [1, 2, 3]
    assert storage.get("a") == 3 and storage.get_expiry("a") == 1010.0
    now[0] = 1010.0
    assert storage.get("a") == 0
    assert storage.incr("a", 10) == 1
    storage.incr("b", 5)
    now[0] = 1100.0  # past both windows and the sweep interval
    storage.incr("c", 10)
    assert storage.reset() == 1  # only "c" was left


def test_redis_counters_expire_and_report_remaining(limited, redis_url):
    """Each hit is one pipelined round trip; the window gets its TTL, headers stay right."""
    import redis

    app = limited(REDIS_URL=redis_url)
    assert isinstance(app.extensions["idp.limiter"].storage, RedisCounterStorage)
    client = app.test_client()
    form = {"id_code": "0012345679", "password": "x"}
    remaining = [client.post("/login", data=form).headers["X-RateLimit-Remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = client.post("/login", data=form)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    connection = redis.Redis.from_url(redis_url)
    keys = connection.keys("LIMITS:*")
    assert keys and all(0 < connection.ttl(key) <= 60 for key in keys)
