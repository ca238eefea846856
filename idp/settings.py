"""Every setting of the IdP, once, with its default and meaning.

Load order (later wins):

1. ``DEFAULTS`` below;
2. ``config/<env>.toml`` where ``<env>`` is ``IDP_ENV`` (default ``development``),
   or the file named by ``IDP_CONFIG``;
3. ``IDP_*`` environment variables (``IDP_ISSUER``, ``IDP_SMS_BACKEND`` …; values that
   parse as JSON are typed, so ``IDP_OIDC_ACCESS_TOKEN_TTL=600`` is an int), plus the
   conventional ``DATABASE_URL`` and ``REDIS_URL``;
4. the mapping given to :func:`idp.create_app`.

This is the only module that reads ``os.environ``. :func:`check` refuses unsafe
production settings with a one-line message and exit status 1.
"""

from __future__ import annotations

import os
import secrets
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    # --- core -----------------------------------------------------------------
    "ENV": "development",  # "development" | "testing" | "production"
    "SECRET_KEY": "",  # session/CSRF key; generated into the instance folder outside production
    "SECRET_KEY_FALLBACKS": [],  # previous SECRET_KEYs still accepted while rotating
    "HASH_KEY": "",  # base of keyed hashes and derived keys; required in production
    "ISSUER": "http://127.0.0.1:5000",  # OIDC issuer URL; must be https in production
    "DATABASE_URL": "",  # empty: SQLite file instance/idp.sqlite3; or postgresql+psycopg://...
    "REDIS_URL": "",  # redis://host:6379/0 for shared rate-limit counters; empty: per process
    "LOG_LEVEL": "INFO",  # root log level; security events use the SECURITY level (25)
    # --- branding (FLOWS.md) ----------------------------------------------------
    "BRAND_ORGANISATION": "سازمان تأمین اجتماعی",  # organisation name on every page
    "BRAND_SYSTEM": "سامانه مدیریت کاربران",  # system name in the header and <title>
    "BRAND_FOOTER": "طراحی و اجرا: تیم سامانه مدیریت کاربران",  # footer line
    "BRAND_ORGANISATION_EN": "Social Security Organization",  # the same, on English pages
    "BRAND_SYSTEM_EN": "User Management System",  # the same, on English pages
    "BRAND_FOOTER_EN": "Designed and built by the User Management System team",  # English
    "BRAND_LOGO_URL": "",  # logo image URL; empty shows the system name only
    # --- signing keys -----------------------------------------------------------
    "KEYS_DIR": str(PROJECT_ROOT / "keys"),  # where the PEM files and keys.json live
    "KEYS_PASSPHRASE": "",  # encrypts the PEM files when set (keep it in the environment)
    "KEYS_AUTO_GENERATE": True,  # make RS256 + ES256 keys on first start; never in production
    "KEYS_ROTATION_DELAY": 86400,  # seconds a rotated-in key is published before it signs
    # --- OpenID Connect -----------------------------------------------------------
    "OIDC_CODE_TTL": 60,  # seconds an authorization code is valid
    "OIDC_ACCESS_TOKEN_TTL": 300,  # seconds an access token (JWT) is valid
    "OIDC_ACCESS_TOKEN_ALG": "RS256",  # "RS256" | "ES256": access-token signature (RFC 9068)
    "OIDC_ID_TOKEN_TTL": 3600,  # seconds an ID token is valid
    "OIDC_REFRESH_TOKEN_TTL": 2592000,  # seconds a refresh token is valid (30 days)
    "OIDC_AUTH_REQUEST_TTL": 1800,  # seconds a pending authorization request waits for login
    "OIDC_JWKS_MAX_AGE": 300,  # Cache-Control max-age of /jwks.json and discovery
    "OIDC_PAIRWISE_SALT": "",  # secret salt for pairwise subjects; derived from HASH_KEY if empty
    "OIDC_BACKCHANNEL_TIMEOUT": 2.0,  # seconds per back-channel logout delivery attempt
    "OIDC_BACKCHANNEL_MAX_ATTEMPTS": 5,  # deliveries tried before a logout job is given up
    "OIDC_ALLOW_HTTP_LOOPBACK": True,  # http://127.0.0.1 etc. redirects; production: off unless set
    # --- SSO session ---------------------------------------------------------------
    "SESSION_COOKIE_NAME_IDP": "idp_session",  # cookie name; "__Host-" is prefixed on https
    "SESSION_IDLE_TIMEOUT": 1800,  # seconds of inactivity that end an SSO session
    "SESSION_MAX_AGE": 43200,  # absolute SSO session lifetime in seconds (12 h)
    # --- sign-in and recovery --------------------------------------------------------
    "LOGIN_MAX_FAILURES": 5,  # wrong passwords in a row before the account is locked for a while
    "LOGIN_LOCKOUT_SECONDS": 900,  # how long that temporary lock lasts (15 min)
    "RECOVERY_TTL": 900,  # seconds a password-recovery request (all three steps) stays open
    "PASSWORD_CHANGE_TTL": 600,  # seconds to pick a new password after an expired one signs in
    # --- passwords -------------------------------------------------------------------
    "PASSWORD_ARGON2_TIME_COST": 2,  # argon2id iterations (OWASP: m=19 MiB, t=2, p=1)
    "PASSWORD_ARGON2_MEMORY_COST": 19456,  # argon2id memory in KiB
    "PASSWORD_ARGON2_PARALLELISM": 1,  # argon2id lanes
    # --- one-time SMS codes --------------------------------------------------------
    "OTP_TTL": 120,  # seconds a code is valid
    "OTP_MAX_ATTEMPTS": 5,  # wrong tries before a code is dead
    "OTP_RESEND_AFTER": 120,  # seconds before a new code may be sent
    "OTP_HOURLY_LIMIT": 5,  # codes per mobile per hour
    "OTP_SECRET": "",  # HMAC key for stored codes; derived from HASH_KEY if empty
    # --- registration wizard ------------------------------------------------------------
    "REGISTRATION_DRAFT_TTL": 1800,  # seconds a wizard draft lives after the last step taken
    "REGISTRATION_MAX_REGISTRY_CHECKS": 5,  # registry/mobile-owner checks per draft
    # --- adapters --------------------------------------------------------------------
    "IDENTITY_BACKEND": "local",  # "local" (registry table) | "http"; production requires "http"
    "IDENTITY_HTTP_URL": "",  # base URL of the civil-registry/mobile-ownership service
    "IDENTITY_HTTP_AUTH_HEADER": "",  # e.g. "Authorization: Bearer …" (from the environment)
    "IDENTITY_HTTP_CONNECT_TIMEOUT": 3.0,  # seconds
    "IDENTITY_HTTP_TIMEOUT": 10.0,  # seconds for the whole call
    "SMS_BACKEND": "outbox",  # "outbox" (database table) | "http"; production requires "http"
    "SMS_HTTP_URL": "",  # provider URL; "{api_key}" is replaced by SMS_HTTP_API_KEY
    "SMS_HTTP_API_KEY": "",  # provider API key (never logged)
    "SMS_HTTP_AUTH": "header",  # where the key goes: "path" | "header" | "form"
    "SMS_HTTP_AUTH_HEADER": "X-API-KEY",  # header (or form field) name for the key
    "SMS_HTTP_TIMEOUT": 10.0,  # seconds; no retry after a timeout (it could double an SMS)
    "SMS_HTTP_MODE": "template",  # "template" (provider-approved templates) | "text"
    "SMS_HTTP_TEMPLATES": {},  # our message name → provider template id, e.g. {"otp": "100"}
    "SMS_HTTP_ENCODING": "json",  # request body: "json" | "form"
    "SMS_HTTP_BODY": {"mobile": "{mobile}", "templateId": "{template}",  # SMS.ir verify shape
                      "parameters": [{"name": "Code", "value": "{code}"}]},
    "SMS_HTTP_SUCCESS_PATH": "status",  # dotted JSON path checked in the answer; "" = any 2xx
    "SMS_HTTP_SUCCESS_VALUE": "1",  # value expected at SMS_HTTP_SUCCESS_PATH
    # --- administration / audit ---------------------------------------------------------
    "ADMIN_IDLE_TIMEOUT": 900,  # seconds of inactivity that end an admin session
    "AUDIT_RETENTION_DAYS": 365,  # audit rows older than this are purged
    "ADMIN_TOTP_SECRET": "",  # encrypts admins' TOTP secrets; derived from HASH_KEY if empty
    "ADMIN_TOTP_MAX_FAILURES": 5,  # wrong TOTP/recovery codes before the admin sign-in is ended
    "ADMIN_TOTP_LOCKOUT_SECONDS": 900,  # how long those failures count and lock the TOTP step
    "ADMIN_RECOVERY_CODES": 10,  # one-time recovery codes given at TOTP enrolment
    "CLIENT_SECRET_GRACE_PERIOD": 604800,  # seconds a rotated-out client secret keeps working (7 d)
    "CLIENT_CACHE_SECONDS": 2,  # how stale another process's cached client may be (0: never)
    "DCR_ENABLED": False,  # open /connect/register (RFC 7591/7592) to initial-access-token holders
    "DCR_TOKEN_TTL": 86400,  # default lifetime in seconds of an initial access token
    # --- rate limiting ----------------------------------------------------------------
    "RATELIMIT_ENABLED": True,  # per-IP limits on sign-in, SMS, registration and token endpoints
    "RATELIMIT_LOGIN": "30 per minute; 300 per hour",  # password/code guesses per client IP
    "RATELIMIT_SMS": "20 per hour",  # recovery and mobile-change SMS requests per client IP
    "RATELIMIT_REGISTRATION": "120 per hour",  # registration wizard/DCR submissions per IP
    "RATELIMIT_TOKEN": "600 per minute",  # token/introspection/revocation calls per client IP
    "PROXY_FIX_X_FOR": 0,  # trusted proxies in front (X-Forwarded-For/Proto); 0 = none
}

# Values that mean "not configured" for SECRET_KEY.
_WEAK_SECRETS = {"", "dev", "secret", "change-me", "changeme"}


class SettingsError(SystemExit):
    """Raised when the settings are unsafe; exits the process with a one-line message."""

    def __init__(self, message: str):
        super().__init__(f"idp: refusing to start: {message}")


def current_env(config: dict | None = None) -> str:
    """Return the environment name, from the mapping first, then ``IDP_ENV``."""
    return str((config or {}).get("ENV") or os.environ.get("IDP_ENV") or "development")


def instance_path(config: dict | None = None) -> str | None:
    """Return the instance folder chosen by the mapping or ``IDP_INSTANCE_PATH``."""
    return (config or {}).get("INSTANCE_PATH") or os.environ.get("IDP_INSTANCE_PATH")


def load(app, config: dict | None = None) -> None:
    """Fill ``app.config`` in the documented order and derive dependent settings."""
    config = dict(config or {})
    env = current_env(config)
    app.config.from_mapping(DEFAULTS)
    app.config["ENV"] = env
    if env == "production":
        # Off by default in production; an operator may turn it on for native apps.
        app.config["OIDC_ALLOW_HTTP_LOOPBACK"] = False
    config_file = os.environ.get("IDP_CONFIG") or PROJECT_ROOT / "config" / f"{env}.toml"
    if Path(config_file).is_file():
        app.config.from_file(str(config_file), load=tomllib.load, text=False)
    app.config.from_prefixed_env("IDP")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(name) and not os.environ.get(f"IDP_{name}"):
            app.config[name] = os.environ[name]
    app.config.update(config)
    app.config["ENV"] = env
    if env == "production":
        # Production keys are made on purpose (``flask keys rotate``), never at start-up:
        # instances sharing KEYS_DIR would each make their own, and the "no signing keys"
        # refusal would never fire.
        app.config["KEYS_AUTO_GENERATE"] = False
    _derive(app)


def _derive(app) -> None:
    cfg = app.config
    if not cfg["SECRET_KEY"] and cfg["ENV"] != "production":
        cfg["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    url = cfg["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'idp.sqlite3'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if url.startswith("postgresql"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    cfg["ISSUER"] = str(cfg["ISSUER"]).rstrip("/")
    https = cfg["ISSUER"].startswith("https://")
    cfg["SESSION_COOKIE_SECURE"] = https
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SSO_COOKIE_NAME"] = (
        f"__Host-{cfg['SESSION_COOKIE_NAME_IDP']}" if https else cfg["SESSION_COOKIE_NAME_IDP"]
    )
    cfg["PREFERRED_URL_SCHEME"] = "https" if https else "http"
    cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"] or "memory://"
    cfg["WTF_CSRF_TIME_LIMIT"] = None  # the SSO session bounds the form's life


def _instance_secret(folder: Path) -> str:
    """Return the development SECRET_KEY kept in the instance folder, creating it once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def check(app, keys_present: bool) -> None:
    """Refuse production settings that would make the IdP unsafe.

    :raises SettingsError: with a one-line reason; the process exits with status 1.
    """
    cfg = app.config
    if cfg["ENV"] != "production":
        return
    if str(cfg["SECRET_KEY"]).strip().lower() in _WEAK_SECRETS or len(cfg["SECRET_KEY"]) < 32:
        raise SettingsError("SECRET_KEY is empty, a default or shorter than 32 characters")
    if len(str(cfg["HASH_KEY"])) < 32 or cfg["HASH_KEY"] == cfg["SECRET_KEY"]:
        raise SettingsError("HASH_KEY must be set (32+ characters) and differ from SECRET_KEY")
    if urlsplit(cfg["ISSUER"]).scheme != "https":
        raise SettingsError(f"IDP_ISSUER must be an https URL, not {cfg['ISSUER']!r}")
    if cfg["IDENTITY_BACKEND"] != "http":
        raise SettingsError("IDENTITY_BACKEND must be 'http' (the local registry is for tests)")
    if cfg["SMS_BACKEND"] != "http":
        raise SettingsError("SMS_BACKEND must be 'http' (the outbox only stores messages)")
    if not keys_present and not _running_keys_command():
        raise SettingsError(f"no signing keys in {cfg['KEYS_DIR']}; run 'flask keys rotate'")


def _running_keys_command() -> bool:
    """Tell whether this process is ``flask keys …``, which must run before keys exist."""
    return Path(sys.argv[0]).name == "flask" and "keys" in sys.argv[1:]
