"""Two IdP instances as separate processes (the production launcher, ``config/server.py``)
on two ports, sharing one PostgreSQL schema, one Redis database and one keys directory.

Everything goes over real HTTP. Runs on PostgreSQL + Redis whatever the suite's own
database: on a SQLite run it uses the default PostgreSQL test database in a private
schema. So it runs once, in the SQLite run (``make test``); the PostgreSQL run
(``TEST_DATABASE_URL`` set, the second pass of CI) skips it rather than repeat it.
PostgreSQL, Redis or HAProxy missing: skipped with the reason locally, a failure under
``CI=true``. No test depends on timing: each waits for an outcome
with a generous deadline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
import redis
from flask_migrate import upgrade
from joserfc import jwt
from joserfc.jwk import KeySet

from idp import create_app, settings
from idp.extensions import db

from .conftest import (
    DEFAULT_PG_URL,
    REDIS_URL,
    SECRET,
    TEST_DATABASE_URL,
    base_config,
    create_pg_schema,
    drop_pg_schema,
    postgres_schema_url,
)
from .factories import (
    DEFAULT_PASSWORD,
    auth_params,
    make_client,
    make_registry_record,
    make_user,
)
from .test_registration import Wizard, outbox

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="runs once, in the SQLite pass (always on PostgreSQL)")

PORTS = (18621, 18622)
RECEIVER_PORT = 18629
HASH_KEY = "cluster-hash-key-0123456789abcdef-0123456789"
CALLBACK = "http://127.0.0.1:8001/callback"
DEADLINE = 60  # seconds any outcome is waited for
_INPUT = re.compile(r"<input[^>]*>")
_ATTRIBUTE = re.compile(r'([a-z]+)="([^"]*)"')


def _wait_for(check, what: str):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


class Receiver(BaseHTTPRequestHandler):
    """A portal's back-channel logout endpoint: counts the logout tokens it gets."""

    received: list[str] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = parse_qs(self.rfile.read(length).decode())
        Receiver.received.append(body["logout_token"][0])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Cluster:
    """The shared stores, the two instance processes and an in-process app for rows."""

    def __init__(self, tmp, keys_dir, url, ports=PORTS, issuer=None):
        # The instances' connections carry a name, so a test can end exactly those.
        self.application_name = f"idp_cluster_{os.getpid()}"
        self.url, self.keys_dir = f"{url}&application_name={self.application_name}", keys_dir
        self.ports = ports
        self.bases = [f"http://127.0.0.1:{port}" for port in ports]
        self.issuer = issuer or self.bases[0]
        self.processes = []
        self.environments = [self._environment(tmp, index) for index in range(len(ports))]
        self.app = create_app({**base_config(tmp, keys_dir, url), "SERVER_NAME": None,
                               "ISSUER": self.issuer, "HASH_KEY": HASH_KEY})

    def _environment(self, tmp, index) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("IDP_", "PROMETHEUS_")) and k not in (
                   "DATABASE_URL", "REDIS_URL")}
        env.update(IDP_ENV="testing", IDP_ISSUER=self.issuer, IDP_DATABASE_URL=self.url,
                   IDP_REDIS_URL=REDIS_URL, IDP_KEYS_DIR=str(self.keys_dir),
                   IDP_SECRET_KEY=SECRET, IDP_HASH_KEY=HASH_KEY,
                   IDP_INSTANCE_PATH=str(tmp / f"instance-{index}"),
                   IDP_SERVER_PORT=str(self.ports[index]), IDP_SERVER_WORKERS="1",
                   IDP_SERVER_GRACEFUL_TIMEOUT="5", IDP_KEYS_AUTO_GENERATE="false",
                   IDP_CLIENT_CACHE_SECONDS="0", IDP_RATELIMIT_LOGIN="6 per hour",
                   IDP_LOGIN_MAX_FAILURES="3", IDP_CAPTCHA_ENABLED="false",
                   IDP_PASSWORD_ARGON2_TIME_COST="1",
                   IDP_PASSWORD_ARGON2_MEMORY_COST="1024", FLASK_APP="idp",
                   PYTHONPATH=str(settings.PROJECT_ROOT))
        return env

    def start(self):
        self.processes = [self.start_one(index) for index in range(len(self.ports))]

    def start_one(self, index: int) -> subprocess.Popen:
        """Start instance ``index`` (its own process group) and wait until it is ready."""
        process = subprocess.Popen(
            [sys.executable, str(settings.PROJECT_ROOT / "config" / "server.py")],
            env=self.environments[index], cwd=settings.PROJECT_ROOT, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = self.bases[index]
        _wait_for(lambda: _answers(f"{base}/readyz"), f"{base}/readyz")
        return process

    def kill(self, index: int) -> None:
        """SIGKILL instance ``index``: the server and its workers, no clean-up."""
        process = self.processes[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(60)

    def restart(self, index: int) -> None:
        self.processes[index] = self.start_one(index)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(60)

    def cli(self, index: int, *args: str) -> subprocess.CompletedProcess:
        """Run ``flask …`` as instance ``index``'s operator would."""
        return subprocess.run([sys.executable, "-m", "flask", *args],
                              env=self.environments[index], cwd=settings.PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120)

    def rows(self, make):
        with self.app.app_context():
            made = make()
            db.session.remove()
            return made


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, session_keys):
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError as e:
        from .conftest import require_service

        require_service("Redis", f"the cluster tests share one Redis: {e}")
    base_url = TEST_DATABASE_URL or DEFAULT_PG_URL
    schema = create_pg_schema(base_url)
    tmp = tmp_path_factory.mktemp("cluster")
    keys_dir = tmp / "keys"
    shutil.copytree(session_keys, keys_dir)
    cluster = Cluster(tmp, keys_dir, postgres_schema_url(base_url, schema))
    cluster.schema_url = postgres_schema_url(base_url, schema)
    with cluster.app.app_context():
        upgrade()
        db.session.remove()
    cluster.start()
    receiver = ThreadingHTTPServer(("127.0.0.1", RECEIVER_PORT), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        yield cluster
    finally:
        receiver.shutdown()
        receiver.server_close()
        cluster.stop()
        with cluster.app.app_context():
            for engine in db.engines.values():
                engine.dispose()
        drop_pg_schema(base_url, schema)


@pytest.fixture(autouse=True)
def fresh_counters(cluster):
    redis.Redis.from_url(REDIS_URL).flushdb()
    Receiver.received.clear()


def _portal(cluster, **extra):
    def make():
        client, secret = make_client(redirect_uris=[CALLBACK], **extra)
        return client.client_id, secret, client.redirect_uris
    return cluster.rows(make)


def _citizen(cluster):
    return cluster.rows(lambda: make_user().id_code)


def _fields(html: str) -> dict:
    """The hidden inputs of a page (the CSRF token, the consent key)."""
    fields = {}
    for tag in _INPUT.findall(html):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = attributes.get("value", "")
    return fields


def _sign_in(browser: httpx.Client, base: str, id_code: str, password=DEFAULT_PASSWORD):
    page = browser.get(f"{base}/login")
    return browser.post(f"{base}/login", data={**_fields(page.text), "id_code": id_code,
                                               "password": password})


class _Params:
    def __init__(self, client_id, redirect_uris):
        self.client_id, self.redirect_uris = client_id, redirect_uris


def _authorize(browser, base, client_id, redirect_uris) -> tuple[str, dict]:
    """Authorization request on ``base`` (signed in already); consent if asked; the code."""
    params = auth_params(_Params(client_id, redirect_uris))
    query = {k: v for k, v in params.items() if not k.startswith("_")}
    response = browser.get(f"{base}/authorize", params=query)
    assert response.status_code == 302, response.text
    location = urljoin(base, response.headers["Location"])
    if urlsplit(location).path == "/authorize/consent":
        page = browser.get(location)
        response = browser.post(location.split("?")[0],
                                data={**_fields(page.text), "approve": "1"})
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
    answer = parse_qs(urlsplit(location).query)
    assert "code" in answer, location
    return answer["code"][0], params


def _exchange(base, client_id, secret, code, params):
    return httpx.post(f"{base}/oauth/token", auth=(client_id, secret), data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": params["redirect_uri"], "code_verifier": params["_verifier"]})


def test_sso_session_of_a_is_used_by_b_and_b_code_is_redeemed_on_a(cluster):
    """Sign in on A; B's authorization request needs no password; A redeems B's code."""
    a, b = cluster.bases
    client_id, secret, uris = _portal(cluster)
    id_code = _citizen(cluster)
    with httpx.Client() as browser:
        assert _sign_in(browser, a, id_code).status_code == 302
        code, params = _authorize(browser, b, client_id, uris)
    response = _exchange(a, client_id, secret, code, params)
    assert response.status_code == 200, response.text
    keys = KeySet.import_key_set(httpx.get(f"{b}/jwks.json").json())
    claims = jwt.decode(response.json()["id_token"], keys).claims
    assert claims["iss"] == cluster.issuer and claims["aud"] == client_id


def test_refresh_rotated_on_b_and_old_one_replayed_on_a_revokes_the_family(cluster):
    a, b = cluster.bases
    client_id, secret, uris = _portal(cluster)
    with httpx.Client() as browser:
        assert _sign_in(browser, a, _citizen(cluster)).status_code == 302
        code, params = _authorize(browser, a, client_id, uris)
    first = _exchange(a, client_id, secret, code, params).json()["refresh_token"]
    rotated = httpx.post(f"{b}/oauth/token", auth=(client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    replay = httpx.post(f"{a}/oauth/token", auth=(client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": first})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    family_gone = httpx.post(f"{b}/oauth/token", auth=(client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": second})
    assert family_gone.status_code == 400 and family_gone.json()["error"] == "invalid_grant"


def test_rate_limit_and_lockout_count_across_instances(cluster):
    """Wrong passwords alternate between A and B: the lockout (3) and the per-IP login
    limit (6 per hour) trip at the same count as on one instance."""
    a, b = cluster.bases
    id_code = _citizen(cluster)
    with httpx.Client() as browser:
        answers = [_sign_in(browser, base, id_code, "wrong-password-1")
                   for base in (a, b, a)]
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert "تلاش ناموفق پیاپی" not in answers[1].text
        assert "تلاش ناموفق پیاپی" in answers[2].text  # the third failure locks
        locked = _sign_in(browser, b, id_code)  # the right password, but locked by now
        assert locked.status_code == 200 and "تلاش ناموفق پیاپی" in locked.text
        # Four login posts so far; the limit is six per hour per client IP.
        statuses = [_sign_in(browser, base, id_code, "wrong-password-1").status_code
                    for base in (a, b, a)]
    assert statuses == [200, 200, 429]


def test_sign_out_on_b_ends_the_session_for_a_and_logs_out_once(cluster):
    a, b = cluster.bases
    client_id, secret, uris = _portal(
        cluster, backchannel_logout_uri=f"http://127.0.0.1:{RECEIVER_PORT}/bc")
    with httpx.Client() as browser:
        assert _sign_in(browser, a, _citizen(cluster)).status_code == 302
        code, params = _authorize(browser, a, client_id, uris)
        id_token = _exchange(a, client_id, secret, code, params).json()["id_token"]
        assert browser.get(f"{b}/logout", params={"id_token_hint": id_token}).status_code \
            in (200, 302)
        again = browser.get(f"{a}/authorize", params={
            k: v for k, v in auth_params(_Params(client_id, uris)).items()
            if not k.startswith("_")})
        assert urlsplit(again.headers["Location"]).path == "/login"
    _wait_for(lambda: Receiver.received, "the back-channel logout")
    for index in (0, 1):
        result = cluster.cli(index, "oidc", "deliver-logouts")
        assert result.returncode == 0 and "delivered 0" in result.stdout, result
    assert len(Receiver.received) == 1


def test_key_rotated_through_a_is_in_b_jwks_and_both_sign_with_it(cluster):
    a, b = cluster.bases
    before = {k["kid"] for k in httpx.get(f"{b}/jwks.json").json()["keys"]}
    result = cluster.cli(0, "keys", "rotate", "--alg", "RS256", "--delay", "0")
    assert result.returncode == 0, result.stderr
    published = _wait_for(
        lambda: ({k["kid"] for k in httpx.get(f"{b}/jwks.json").json()["keys"]} - before),
        "the new key in B's JWKS")
    client_id, secret, _ = cluster.rows(lambda: _service(make_client))
    for issuing in (a, b):
        token = httpx.post(f"{issuing}/oauth/token", auth=(client_id, secret),
                           data={"grant_type": "client_credentials"}).json()["access_token"]
        for verifying in (a, b):
            keys = KeySet.import_key_set(httpx.get(f"{verifying}/jwks.json").json())
            decoded = jwt.decode(token, keys)
            assert decoded.header["kid"] in published


def _service(make):
    client, secret = make(client_type="service", redirect_uris=[], scope="profile")
    return client.client_id, secret, []


def _expired_jtis(count: int, prefix: str = "j") -> None:
    from datetime import timedelta

    from idp.extensions import now
    from idp.models import UsedJti
    from idp.unit_of_work import unit_of_work

    with unit_of_work():
        past = now() - timedelta(days=1)
        db.session.add_all(UsedJti(client_id="gone", jti=f"{prefix}-{i}", expires_at=past)
                           for i in range(count))


def _expired_left() -> int:
    from sqlalchemy import func, select

    from idp.models import UsedJti

    return db.session.scalar(select(func.count()).select_from(UsedJti))


def test_workers_on_both_instances_purge_and_deliver_without_double_work(cluster):
    """``flask oidc worker`` on A and B at once (rounds every 0.1 s, a purge every 0.3 s):
    the expired rows go, a sign-out's logout is delivered once, SIGTERM stops both."""
    a, _ = cluster.bases
    cluster.rows(lambda: _expired_jtis(300, "w"))
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "oidc", "worker",
                                 "--interval", "0.1", "--purge-every", "0.3"],
                                env=cluster.environments[i], cwd=settings.PROJECT_ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in (0, 1)]
    try:
        for worker in workers:  # both run before anything is done (EOF if one died)
            assert worker.stdout.readline().startswith("worker started"), worker.stderr.read()
        client_id, secret, uris = _portal(
            cluster, backchannel_logout_uri=f"http://127.0.0.1:{RECEIVER_PORT}/bc")
        with httpx.Client() as browser:
            assert _sign_in(browser, a, _citizen(cluster)).status_code == 302
            code, params = _authorize(browser, a, client_id, uris)
            id_token = _exchange(a, client_id, secret, code, params).json()["id_token"]
            browser.get(f"{a}/logout", params={"id_token_hint": id_token})
        _wait_for(lambda: Receiver.received, "the back-channel logout")
        _wait_for(lambda: cluster.rows(_expired_left) == 0, "the workers' purge")
    finally:
        for worker in workers:
            worker.terminate()
        outputs = [worker.communicate(timeout=60) for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0 and "worker stopped" in out, err
        assert "worker round failed" not in err, err
    assert len(Receiver.received) == 1


def test_purge_and_deliveries_at_the_same_moment_on_both_instances(cluster):
    """Both commands on both instances at once: every run succeeds, nothing is done twice
    (the expired rows are counted once between the two purges; no logout is re-sent)."""
    cluster.rows(lambda: _expired_jtis(500))

    def both(*args):
        runs = [subprocess.Popen([sys.executable, "-m", "flask", *args],
                                 env=cluster.environments[i], cwd=settings.PROJECT_ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i in (0, 1)]
        return [(run.wait(120), *run.communicate()) for run in runs]

    purges = both("maintenance", "purge", "--json")
    for code, out, err in purges + both("oidc", "deliver-logouts"):
        assert code == 0 and "Traceback" not in err, (out, err)
    deleted = [json.loads(out)["deleted"].get("used_jtis", 0) for _, out, _ in purges]
    assert sum(deleted) == 500, deleted
    assert Receiver.received == []


class HttpForms:
    """A browser for :class:`Wizard`: posts carry the session's CSRF token; ``base``
    says which instance gets the next request (the cookies go to both)."""

    def __init__(self, base: str):
        self.http = httpx.Client()
        self.base = base
        self.csrf = None

    def get(self, path: str):
        return self.http.get(urljoin(self.base, path))

    def post(self, path: str, data: dict):
        if self.csrf is None:
            self.csrf = _fields(self.get("/register").text)["csrf_token"]
        return self.http.post(urljoin(self.base, path), data={**data, "csrf_token": self.csrf})


class ClusterWizard(Wizard):
    def __init__(self, cluster, browser, record):
        super().__init__(browser, record)
        self.cluster = cluster

    def sms_code(self) -> str:
        text = self.cluster.rows(lambda: outbox(self.record.mobile)[-1].text)
        return re.search(r"#([0-9]{6})$", text)[1]


def _accounts(cluster, id_code: str) -> int:
    from sqlalchemy import func, select

    from idp.models import User

    return cluster.rows(lambda: db.session.scalar(
        select(func.count()).select_from(User).where(User.id_code == id_code)))


def test_instance_killed_mid_registration_leaves_no_account_and_the_other_completes(cluster):
    """Steps 1–4 on A, then A is SIGKILLed: no account exists; the same browser finishes
    on B with the draft A kept in the database, and there is exactly one account."""
    a, b = cluster.bases
    record = cluster.rows(lambda: _detached(make_registry_record(mobile="09121119001")))
    browser = HttpForms(a)
    wizard = ClusterWizard(cluster, browser, record)
    try:
        wizard.through_step(4)
        cluster.kill(0)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{a}/healthz", timeout=5)
        assert _accounts(cluster, record.id_code) == 0
        browser.base = b
        assert "تایید و ثبت نام" in browser.get("/register/step/5").text
        answer = wizard.confirm()
        assert answer.headers["Location"].endswith("/register/done"), answer.text
    finally:
        browser.http.close()
        if cluster.processes[0].poll() is not None:
            cluster.restart(0)
    assert _accounts(cluster, record.id_code) == 1


def _detached(row):
    """The record's values, usable once its session is gone."""
    from types import SimpleNamespace

    return SimpleNamespace(**{column.name: getattr(row, column.name)
                              for column in row.__table__.columns})


def test_every_app_connection_terminated_mid_traffic_fails_cleanly_then_recovers(cluster):
    """``pg_terminate_backend`` of every connection of both instances while token requests
    run: each answer is 200 or 503 (never a 500), every 200 has its token row and no
    other row was left, and both instances answer 200 again without a restart."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select, text

    from idp.models import AccessToken, TokenFamily

    client_id, secret, _ = cluster.rows(lambda: _service(make_client))
    answers = []

    def token(base) -> int:
        status = httpx.post(f"{base}/oauth/token", auth=(client_id, secret), timeout=30,
                            data={"grant_type": "client_credentials"}).status_code
        answers.append(status)
        return status

    def terminate() -> int:
        return db.session.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = :name"), {"name": cluster.application_name}).scalar()

    assert [token(base) for base in cluster.bases] == [200, 200]  # pools are warm
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(token, cluster.bases * 10))
        assert cluster.rows(terminate) >= 2
        list(pool.map(token, cluster.bases * 10))
    for base in cluster.bases:
        _wait_for(lambda base=base: token(base) == 200, f"{base} answering again")
    rows = cluster.rows(lambda: db.session.scalar(
        select(func.count()).select_from(AccessToken).join(
            TokenFamily, TokenFamily.id == AccessToken.family_id).where(
            TokenFamily.client_id == client_id)))
    assert rows == answers.count(200)
    assert set(answers) <= {200, 503}, answers


@pytest.fixture
def behind_haproxy(cluster, tmp_path):
    """Two more instances on the same stores, their issuer the HAProxy in front of them
    (round-robin, /healthz checks, no stickiness: ``make cluster``'s configuration)."""
    if shutil.which("haproxy") is None:
        from .conftest import require_service

        require_service("haproxy", "not installed (`make cluster` and .ci/run install it)")
    from config.cluster import haproxy_config

    proxy_port, ports = 18625, (18626, 18627)
    balanced = Cluster(tmp_path, cluster.keys_dir, cluster.schema_url, ports=ports,
                       issuer=f"http://127.0.0.1:{proxy_port}")
    for env in balanced.environments:
        env["IDP_PROXY_FIX_X_FOR"] = "1"
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(list(ports), proxy_port))
    balanced.start()
    proxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _answers(f"{balanced.issuer}/readyz"), "HAProxy")
        yield balanced
    finally:
        proxy.terminate()
        proxy.wait(30)
        balanced.stop()
        with balanced.app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def test_two_instances_behind_haproxy_pass_the_relying_party_checks(behind_haproxy):
    """The relying-party library flow of tests/test_oidc_live.py, through the balancer:
    every request may land on either instance."""
    from types import SimpleNamespace

    from .test_oidc_live import BYE, every_flow

    cluster = behind_haproxy

    def clients():
        portal, portal_secret = make_client(
            redirect_uris=[CALLBACK], post_logout_redirect_uris=[BYE],
            scope="openid profile email phone national_id")
        service, service_secret = make_client(client_type="service", redirect_uris=[],
                                              scope="profile")
        return ({"client_id": portal.client_id, "client_secret": portal_secret},
                {"client_id": service.client_id, "client_secret": service_secret})

    portal, service = cluster.rows(clients)
    user = SimpleNamespace(id_code=_citizen(cluster))
    every_flow(cluster.issuer, portal, service, user)
    for base in cluster.bases:  # both served part of the flow (their own /metrics say so)
        text = httpx.get(f"{base}/metrics").text
        served = [line for line in text.splitlines()
                  if line.startswith("idp_http_requests_total{")
                  and 'route="/healthz"' not in line and 'route="/readyz"' not in line]
        assert served, text
