"""The app factory, settings load order, production refusals and the probe endpoints."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from idp import create_app, settings
from idp.settings import SettingsError

from .factories import PRODUCTION_HASH_KEY, PRODUCTION_SECRET_KEY

#: The repository holding these tests: subprocesses run there so ``import wsgi`` finds its
#: ``wsgi.py`` (and its ``idp``) whatever directory pytest was started from.
REPOSITORY = Path(__file__).resolve().parent.parent


def test_factory_applies_overrides(app):
    """The mapping given to create_app wins over every other source."""
    assert app.config["ENV"] == "testing"
    assert app.config["ISSUER"] == "http://localhost"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == app.config["DATABASE_URL"]


def test_load_order(tmp_path, monkeypatch):
    """Defaults < config/<env>.toml < IDP_* environment < the mapping."""
    config_file = tmp_path / "custom.toml"
    config_file.write_text('OTP_TTL = 90\nOIDC_CODE_TTL = 30\nOTP_MAX_ATTEMPTS = 4\n')
    monkeypatch.setenv("IDP_CONFIG", str(config_file))
    monkeypatch.setenv("IDP_OIDC_CODE_TTL", "45")
    monkeypatch.setenv("IDP_OTP_MAX_ATTEMPTS", "3")
    app = create_app({"ENV": "testing", "OTP_MAX_ATTEMPTS": 2, "KEYS_DIR": str(tmp_path / "k"),
                      "INSTANCE_PATH": str(tmp_path / "i")})
    assert app.config["OTP_RESEND_AFTER"] == settings.DEFAULTS["OTP_RESEND_AFTER"]  # default
    assert app.config["OTP_TTL"] == 90  # file
    assert app.config["OIDC_CODE_TTL"] == 45  # environment, typed
    assert app.config["OTP_MAX_ATTEMPTS"] == 2  # mapping


def test_env_file_chosen_by_idp_env(tmp_path, monkeypatch):
    """IDP_ENV picks config/<env>.toml; development.toml sets its issuer."""
    monkeypatch.setenv("IDP_ENV", "development")
    app = create_app({"KEYS_DIR": str(tmp_path / "k"), "INSTANCE_PATH": str(tmp_path / "i")})
    assert app.config["ENV"] == "development"
    assert app.config["KEYS_ROTATION_DELAY"] == 60  # from config/development.toml


def test_database_url_environment_switches_to_postgres(tmp_path, monkeypatch):
    """DATABASE_URL=postgresql://… becomes a psycopg 3 SQLAlchemy URL."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.internal/idp")
    app = create_app({"ENV": "testing", "KEYS_DIR": str(tmp_path / "k"),
                      "INSTANCE_PATH": str(tmp_path / "i")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/idp"


def test_development_secret_key_is_kept(tmp_path):
    """Outside production a random SECRET_KEY is generated once and reused on restart."""
    config = {"ENV": "development", "KEYS_DIR": str(tmp_path / "k"),
              "INSTANCE_PATH": str(tmp_path / "i")}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert len(first) == 64 and first == second
    assert oct((tmp_path / "i" / "secret_key").stat().st_mode)[-3:] == "600"


def _production(tmp_path, session_keys, **overrides):
    import shutil

    keys = tmp_path / "prod-keys"
    if not keys.exists():
        shutil.copytree(session_keys, keys)
    return {"ENV": "production", "SECRET_KEY": PRODUCTION_SECRET_KEY,
            "HASH_KEY": PRODUCTION_HASH_KEY, "ISSUER": "https://login.example.ir",
            "IDENTITY_BACKEND": "http", "IDENTITY_HTTP_URL": "https://registry.example.ir",
            "SMS_BACKEND": "http", "SMS_HTTP_URL": "https://sms.example.ir/send",
            "KEYS_DIR": str(keys), "INSTANCE_PATH": str(tmp_path / "i"), **overrides}


def test_production_with_safe_settings_starts(tmp_path, session_keys):
    app = create_app(_production(tmp_path, session_keys))
    assert app.config["KEYS_AUTO_GENERATE"] is False
    assert app.config["SSO_COOKIE_NAME"].startswith("__Host-")


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY"),
        ({"HASH_KEY": ""}, "HASH_KEY"),
        ({"HASH_KEY": PRODUCTION_SECRET_KEY}, "HASH_KEY"),
        # One repeated character, a repeated pattern, too few different characters.
        ({"SECRET_KEY": "x" * 40}, "SECRET_KEY"),
        ({"HASH_KEY": "h" * 64}, "HASH_KEY"),
        ({"SECRET_KEY": "0123456789" * 4}, "SECRET_KEY"),
        ({"HASH_KEY": "Ab3$" * 16}, "HASH_KEY"),
        ({"SECRET_KEY": "password-password-password-passw"}, "SECRET_KEY"),
        ({"HASH_KEY": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab1"}, "HASH_KEY"),
        ({"SMS_HTTP_URL": ""}, "SMS_HTTP_URL"),
        ({"IDENTITY_HTTP_URL": ""}, "IDENTITY_HTTP_URL"),
        # Per-process rate-limit counters multiply the limits by the worker count.
        ({"SERVER_WORKERS": 2}, "REDIS_URL"),
        ({"ISSUER": "http://login.example.ir"}, "https"),
        ({"IDENTITY_BACKEND": "local"}, "IDENTITY_BACKEND"),
        ({"SMS_BACKEND": "outbox"}, "SMS_BACKEND"),
        ({"KEYS_DIR": "EMPTY"}, "no signing keys"),
        # Keys are never generated in production, even when asked to.
        ({"KEYS_DIR": "EMPTY", "KEYS_AUTO_GENERATE": True}, "no signing keys"),
    ],
)
def test_production_refusals(tmp_path, session_keys, override, reason):
    """Production refuses unsafe settings with a one-line message."""
    if override.get("KEYS_DIR") == "EMPTY":
        override = {**override, "KEYS_DIR": str(tmp_path / "empty")}
    with pytest.raises(SettingsError) as excinfo:
        create_app(_production(tmp_path, session_keys, **override))
    message = str(excinfo.value)
    assert reason in message and "\n" not in message
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())


@pytest.mark.parametrize("key", [
    secrets.token_hex(32), secrets.token_hex(16), secrets.token_urlsafe(32),
    secrets.token_urlsafe(24)])
def test_production_accepts_generated_keys(tmp_path, session_keys, key):
    """Keys made by ``secrets`` (hex or URL-safe, 32 characters or more) pass the rule."""
    create_app(_production(tmp_path, session_keys, SECRET_KEY=key, HASH_KEY=key[::-1]))


def test_several_workers_start_with_redis(tmp_path, session_keys):
    app = create_app(_production(tmp_path, session_keys, SERVER_WORKERS=4,
                                 REDIS_URL="redis://127.0.0.1:1/0"))
    assert settings.of(app).server_workers == 4


@pytest.mark.parametrize("variable",
                         ["GRANIAN_WORKERS", "WEB_CONCURRENCY", "IDP_SERVER_WORKERS"])
def test_worker_count_is_read_from_the_server_environment(tmp_path, session_keys,
                                                          monkeypatch, variable):
    """The worker count Granian (or a platform) is given counts for the REDIS_URL rule."""
    monkeypatch.setenv(variable, "3")
    with pytest.raises(SettingsError, match="REDIS_URL"):
        create_app(_production(tmp_path, session_keys))


def test_production_refusal_exits_nonzero(tmp_path):
    """The process exits with status 1 and one line on stderr, no traceback."""
    env = {**os.environ, "IDP_ENV": "production", "IDP_INSTANCE_PATH": str(tmp_path),
           "IDP_KEYS_DIR": str(tmp_path / "k")}
    env.pop("IDP_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, cwd=REPOSITORY,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("idp: refusing to start: SECRET_KEY")
    assert "Traceback" not in result.stderr


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": True, "keys": True}


def test_readyz_503_when_database_unreachable(make_app):
    """An unreachable database turns readiness to 503."""
    app = make_app(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] is False


def test_readyz_503_without_keys(make_app, tmp_path):
    app = make_app(KEYS_DIR=str(tmp_path / "none"), KEYS_AUTO_GENERATE=False)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["keys"] is False


def test_readyz_checks_redis(make_app, redis_url):
    """With REDIS_URL set, readiness pings Redis; a dead Redis gives 503."""
    ok = make_app(REDIS_URL=redis_url).test_client().get("/readyz")
    assert ok.status_code == 200 and ok.json["checks"]["redis"] is True
    dead = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    assert dead.test_client().get("/readyz").status_code == 503


def test_unknown_page_is_persian(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "صفحه پیدا نشد" in response.get_data(as_text=True)


def test_every_setting_is_documented_in_readme():
    """The README's configuration table lists every setting."""
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    missing = [name for name in settings.DEFAULTS if f"`{name}`" not in readme]
    assert missing == []


def test_discovery_json_is_valid(client):
    assert json.loads(client.get("/.well-known/openid-configuration").data)["issuer"]


def test_security_headers(client):
    """Pages forbid framing, inline scripts and caching; JWKS stays cacheable."""
    page = client.get("/healthz")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/jwks.json").headers["Cache-Control"]


def test_pages_use_self_hosted_assets(client):
    """The RTL stylesheet and the font are served by the IdP itself (no CDN)."""
    html = client.get("/no-such-page").get_data(as_text=True)
    assert 'dir="rtl"' in html and "bootstrap.rtl.min.css" in html
    assert "https://" not in html
    assets = ("vendor/bootstrap/bootstrap.rtl.min.css", "vendor/vazirmatn/Vazirmatn-wght.woff2")
    for asset in assets:
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and len(response.data) > 10_000
        response.close()


def test_discovery_issuer_is_the_configured_issuer(make_app):
    """Discovery's issuer and endpoints derive from ISSUER (trailing slash dropped)."""
    document = make_app(ISSUER="https://login.example.ir/").test_client().get(
        "/.well-known/openid-configuration").json
    assert document["issuer"] == "https://login.example.ir"
    assert document["jwks_uri"] == "https://login.example.ir/jwks.json"
    assert document["response_types_supported"] == ["code"]
