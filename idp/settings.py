"""Every setting of the IdP, once, with its type, default and meaning.

Load order (later wins):

1. the defaults of :class:`Settings` below;
2. ``config/<env>.toml`` where ``<env>`` is ``IDP_ENV`` (default ``development``),
   or the file named by ``IDP_CONFIG``;
3. ``IDP_<NAME>`` environment variables (``IDP_ISSUER``, ``IDP_SMS_BACKEND`` …; a setting
   that is not a string is read as JSON, so ``IDP_OIDC_ACCESS_TOKEN_TTL=600`` is an int),
   plus the conventional ``DATABASE_URL`` and ``REDIS_URL``, and the worker count the
   server is given (``GRANIAN_WORKERS``, else ``WEB_CONCURRENCY``) for ``SERVER_WORKERS``;
4. the mapping given to :func:`idp.create_app`.

A TOML key or ``IDP_`` variable that is neither a setting nor one of
:data:`FRAMEWORK_KEYS` is refused, naming the closest setting, and so is a value of the
wrong type from any source. The result is a frozen :class:`Settings`, kept on the app and
read with :func:`current`; ``app.config`` holds the same values for Flask and its
extensions.

This is the only module that reads ``os.environ``. :func:`check` refuses unsafe
production settings. Every refusal is a one-line message and exit status 1.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import secrets
import tomllib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SECRET = {"repr": False}  # never in a repr, so never in a log line or a traceback


@dataclass(frozen=True)
class Settings:
    """The settings of one app; field ``otp_ttl`` is setting ``OTP_TTL``."""

    # --- core -----------------------------------------------------------------
    env: str = "development"  # "development" | "testing" | "production"
    # session/CSRF key; generated into the instance folder outside production
    secret_key: str = field(default="", **_SECRET)
    # previous SECRET_KEYs still accepted while rotating
    secret_key_fallbacks: tuple[str, ...] = field(default=(), **_SECRET)
    # base of keyed hashes and derived keys; required in production
    hash_key: str = field(default="", **_SECRET)
    issuer: str = "http://127.0.0.1:5000"  # OIDC issuer URL; must be https in production
    # empty: SQLite file instance/idp.sqlite3; or postgresql+psycopg://...
    database_url: str = field(default="", **_SECRET)
    # redis://host:6379/0 for shared rate-limit counters; empty: per process
    redis_url: str = field(default="", **_SECRET)
    db_pool_size: int = 5  # PostgreSQL connections kept per process; >= threads per worker
    db_max_overflow: int = 10  # extra PostgreSQL connections under bursts, closed when returned
    db_pool_recycle: int = 1800  # seconds before a pooled connection is replaced (idle drops)
    db_pool_pre_ping: bool = False  # ping each connection on checkout: a round trip per request
    db_statement_timeout: float = 30.0  # seconds a PostgreSQL statement may run; 0: no limit
    log_level: str = "INFO"  # root log level; security events use the SECURITY level (25)
    log_format: str = "text"  # "text" | "json": one JSON object per line (time, level, request id…)
    # --- production server (config/server.py) -------------------------------------------
    server_host: str = "127.0.0.1"  # address Granian listens on
    server_port: int = 5000  # port Granian listens on
    # worker processes; 0: one per CPU core. Read from GRANIAN_WORKERS (else WEB_CONCURRENCY)
    # when those are set, so another launcher and the IdP agree; more than one needs
    # REDIS_URL in production
    server_workers: int = 1
    server_threads: int = 4  # requests run at once per worker (Granian blocking threads)
    server_graceful_timeout: int = 30  # seconds a stopping worker may finish its requests
    server_access_log: bool = False  # one access-log line per request (JSON with LOG_FORMAT)
    # --- metrics (/metrics, Prometheus text format) -------------------------------------
    metrics_enabled: bool = True  # serve /metrics and count requests, sign-ins, SMS, tokens…
    # bearer token a scraper sends to /metrics (keep it in the environment)
    metrics_token: str = field(default="", **_SECRET)
    # client networks allowed to read /metrics without the token, e.g. ["10.0.0.0/8"]
    metrics_networks: tuple[str, ...] = ()
    # largest request body in bytes (forms, token, JSON); larger → 413 before it is read
    max_content_length: int = 65536
    # --- branding (docs/FLOWS.md, "Branding") -------------------------------------
    brand_organisation: str = "سازمان تأمین اجتماعی"  # organisation name on every page
    brand_system: str = "سامانه مدیریت کاربران"  # system name in the header and <title>
    brand_footer: str = "طراحی و اجرا: تیم سامانه مدیریت کاربران"  # footer line
    brand_organisation_en: str = "Social Security Organization"  # the same, on English pages
    brand_system_en: str = "User Management System"  # the same, on English pages
    brand_footer_en: str = "Designed and built by the User Management System team"  # English
    brand_logo_url: str = ""  # logo image URL; empty shows the system name only
    # --- signing keys -----------------------------------------------------------
    keys_dir: str = str(PROJECT_ROOT / "keys")  # where the PEM files and keys.json live
    # encrypts the PEM files when set (keep it in the environment)
    keys_passphrase: str = field(default="", **_SECRET)
    keys_auto_generate: bool = True  # make RS256 + ES256 keys on first start; never in production
    keys_rotation_delay: int = 86400  # seconds a rotated-in key is published before it signs
    # --- OpenID Connect -----------------------------------------------------------
    oidc_code_ttl: int = 60  # seconds an authorization code is valid
    oidc_access_token_ttl: int = 300  # seconds an access token (JWT) is valid
    oidc_access_token_alg: str = "RS256"  # "RS256" | "ES256": access-token signature (RFC 9068)
    oidc_id_token_ttl: int = 3600  # seconds an ID token is valid
    oidc_refresh_token_ttl: int = 2592000  # seconds a refresh token is valid (30 days)
    oidc_auth_request_ttl: int = 1800  # seconds a pending authorization request waits for login
    oidc_jwks_max_age: int = 300  # Cache-Control max-age of /jwks.json and discovery
    # secret salt for pairwise subjects; derived from HASH_KEY if empty
    oidc_pairwise_salt: str = field(default="", **_SECRET)
    oidc_backchannel_timeout: float = 2.0  # seconds per back-channel logout delivery attempt
    oidc_backchannel_max_attempts: int = 5  # deliveries tried before a logout job is given up
    # http://127.0.0.1 etc. redirects; production: off unless set
    oidc_allow_http_loopback: bool = True
    par_expires_in: int = 60  # seconds a pushed authorization request_uri is valid (RFC 9126)
    require_par: bool = False  # every client must push its authorization requests (RFC 9126 §6)
    # --- DPoP (RFC 9449) ---------------------------------------------------------------
    dpop_iat_window: int = 60  # seconds a DPoP proof stays acceptable after its iat
    dpop_nonce_required: bool = False  # demand a server nonce in every proof (§8, §9)
    dpop_nonce_lifetime: int = 300  # seconds per nonce period; a nonce lasts one to two
    # the acr values of the assurance levels, lowest first: level 1 (a password or a passkey
    # alone), level 2 (two factors, or a passkey with user verification); see idp.accounts.assurance
    acr_levels: tuple[str, ...] = ("urn:idp:loa:1", "urn:idp:loa:2")
    # --- SSO session ---------------------------------------------------------------
    session_cookie_name_idp: str = "idp_session"  # cookie name; "__Host-" is prefixed on https
    session_idle_timeout: int = 1800  # seconds of inactivity that end an SSO session
    session_max_age: int = 43200  # absolute SSO session lifetime in seconds (12 h)
    # --- sign-in and recovery --------------------------------------------------------
    login_max_failures: int = 5  # wrong passwords in a row before the account is locked for a while
    login_lockout_seconds: int = 900  # how long that temporary lock lasts (15 min)
    recovery_ttl: int = 900  # seconds a password-recovery request (all three steps) stays open
    password_change_ttl: int = 600  # seconds to pick a new password after an expired one signs in
    # --- passkeys (WebAuthn; RP id and origin come from ISSUER) -------------------------
    webauthn_challenge_seconds: int = 300  # seconds a passkey challenge may be answered (once)
    passkeys_max_per_user: int = 10  # passkeys one citizen may register
    # --- passwords -------------------------------------------------------------------
    password_argon2_time_cost: int = 2  # argon2id iterations (OWASP: m=19 MiB, t=2, p=1)
    password_argon2_memory_cost: int = 19456  # argon2id memory in KiB
    password_argon2_parallelism: int = 1  # argon2id lanes
    # --- one-time SMS codes --------------------------------------------------------
    otp_ttl: int = 120  # seconds a code is valid
    otp_max_attempts: int = 5  # wrong tries before a code is dead
    otp_resend_after: int = 120  # seconds before a new code of the same purpose may be sent
    otp_hourly_limit: int = 5  # codes per mobile per hour
    # HMAC key for stored codes; derived from HASH_KEY if empty
    otp_secret: str = field(default="", **_SECRET)
    # --- registration wizard ------------------------------------------------------------
    registration_draft_ttl: int = 1800  # seconds a wizard draft lives after the last step taken
    registration_max_registry_checks: int = 5  # registry/mobile-owner checks per draft
    # --- adapters --------------------------------------------------------------------
    identity_backend: str = "local"  # "local" (registry table) | "http"; production requires "http"
    identity_http_url: str = ""  # base URL of the civil-registry/mobile-ownership service
    # e.g. "Authorization: Bearer …" (from the environment)
    identity_http_auth_header: str = field(default="", **_SECRET)
    identity_http_connect_timeout: float = 3.0  # seconds
    identity_http_timeout: float = 10.0  # seconds for the whole call
    sms_backend: str = "outbox"  # "outbox" (database table) | "http"; production requires "http"
    sms_http_url: str = ""  # provider URL; "{api_key}" is replaced by SMS_HTTP_API_KEY
    sms_http_api_key: str = field(default="", **_SECRET)  # provider API key (never logged)
    sms_http_auth: str = "header"  # where the key goes: "path" | "header" | "form"
    sms_http_auth_header: str = "X-API-KEY"  # header (or form field) name for the key
    sms_http_timeout: float = 10.0  # seconds; no retry after a timeout (it could double an SMS)
    sms_http_mode: str = "template"  # "template" (provider-approved templates) | "text"
    # our message name → provider template id, e.g. {"otp": "100"}
    sms_http_templates: dict[str, str] = field(default_factory=dict)
    sms_http_encoding: str = "json"  # request body: "json" | "form"
    sms_http_body: dict = field(default_factory=lambda: {  # SMS.ir verify shape
        "mobile": "{mobile}", "templateId": "{template}",
        "parameters": [{"name": "Code", "value": "{code}"}]})
    sms_http_success_path: str = "status"  # dotted JSON path checked in the answer; "" = any 2xx
    sms_http_success_value: str = "1"  # value expected at SMS_HTTP_SUCCESS_PATH
    # --- mail (verified email, notices) -------------------------------------------------
    # "outbox" (rows in mail_outbox, nothing sent) | "smtp" (rows delivered after commit)
    mail_backend: str = "outbox"
    mail_from: str = "no-reply@localhost"  # From: address of every mail
    smtp_host: str = ""  # SMTP relay; required in production when MAIL_BACKEND=smtp
    smtp_port: int = 587  # 587 submission with STARTTLS; 25 for a local relay
    smtp_starttls: bool = True  # upgrade the connection with STARTTLS before AUTH
    smtp_username: str = ""  # empty: no AUTH
    smtp_password: str = field(default="", **_SECRET)  # from the environment (never logged)
    smtp_timeout: float = 10.0  # seconds for each SMTP conversation
    mail_max_attempts: int = 5  # deliveries tried per message before it is left failed
    email_code_ttl: int = 1800  # seconds an email verification code is valid (mail is slow)
    # --- new-sign-in notices ----------------------------------------------------------------
    device_cookie_name: str = "idp_device"  # long-lived random id marking a known browser
    device_cookie_max_age: int = 63072000  # seconds (2 years)
    signin_history_keep: int = 20  # sign-in rows kept per citizen (the oldest are pruned)
    # --- administration / audit ---------------------------------------------------------
    admin_idle_timeout: int = 900  # seconds of inactivity that end an admin session
    audit_retention_days: int = 365  # audit rows older than this are purged
    # encrypts admins' TOTP secrets; derived from HASH_KEY if empty
    admin_totp_secret: str = field(default="", **_SECRET)
    admin_totp_max_failures: int = 5  # wrong TOTP/recovery codes before the admin sign-in is ended
    admin_totp_lockout_seconds: int = 900  # how long those failures count and lock the TOTP step
    admin_recovery_codes: int = 10  # one-time recovery codes given at TOTP enrolment
    # seconds a rotated-out client secret keeps working (7 d)
    client_secret_grace_period: int = 604800
    client_cache_seconds: int = 2  # how stale another process's cached client may be (0: never)
    # open /connect/register (RFC 7591/7592) to initial-access-token holders
    dcr_enabled: bool = False
    dcr_token_ttl: int = 86400  # default lifetime in seconds of an initial access token
    # --- rate limiting ----------------------------------------------------------------
    # per-IP limits on sign-in, SMS, registration and token endpoints
    ratelimit_enabled: bool = True
    ratelimit_login: str = "30 per minute; 300 per hour"  # password/code guesses per client IP
    ratelimit_sms: str = "20 per hour"  # recovery, mobile-change SMS and email-code requests per IP
    ratelimit_registration: str = "120 per hour"  # registration wizard/DCR submissions per IP
    ratelimit_token: str = "600 per minute"  # token/introspection/revocation calls per client IP
    proxy_fix_x_for: int = 0  # trusted proxies in front (X-Forwarded-For/Proto); 0 = none
    # --- CAPTCHA (self-hosted image + audio, past soft limits) --------------------------
    captcha_enabled: bool = True  # ask for a CAPTCHA past the soft limits below
    captcha_login_ip_failures: int = 10  # failed sign-ins from one IP in the window
    captcha_login_account_failures: int = 3  # failed sign-ins for one national/FIDA code
    # registration/recovery step-1 submissions (each may send an SMS) from one IP
    captcha_sms_ip_limit: int = 5
    captcha_sms_target_limit: int = 2  # … for one mobile (registration) or code (recovery)
    captcha_window: int = 3600  # seconds those counts are kept
    captcha_ttl: int = 300  # seconds a CAPTCHA challenge may be answered (once)
    captcha_length: int = 5  # digits in a challenge

    @property
    def https(self) -> bool:
        """Whether the issuer, and so every page and cookie, is on https."""
        return self.issuer.startswith("https://")

    @property
    def sso_cookie_name(self) -> str:
        """The SSO cookie's name: ``__Host-`` prefixed on https (RFC 6265bis §4.1.3.2)."""
        name = self.session_cookie_name_idp
        return f"__Host-{name}" if self.https else name


_TYPES = typing.get_type_hints(Settings)
#: ``OTP_TTL`` → ``"otp_ttl"``: the name of each setting (as ``app.config`` and operators
#: spell it) and its field.
FIELDS = {f.name.upper(): f.name for f in fields(Settings)}
#: Each setting's default, as ``app.config`` holds it.
DEFAULTS: dict[str, object] = {
    key: list(value) if isinstance(value, tuple) else value
    for key, value in ((key, getattr(Settings(), name)) for key, name in FIELDS.items())}

#: Flask and extension keys that a TOML file or an ``IDP_<KEY>`` variable may set besides
#: the settings; they go to ``app.config`` as they are. Keys the IdP derives itself
#: (``SESSION_COOKIE_*``, ``PREFERRED_URL_SCHEME``, ``SQLALCHEMY_DATABASE_URI``,
#: ``WTF_CSRF_TIME_LIMIT``, ``BABEL_*``) are not among them:
#: they would be overwritten. The mapping given to ``create_app`` may carry any key.
FRAMEWORK_KEYS = frozenset({
    "SERVER_NAME",  # Flask: the host URLs are built for outside a request (CLI)
    "SQLALCHEMY_ENGINE_OPTIONS",  # Flask-SQLAlchemy: pool size etc., a JSON object
    "SQLALCHEMY_ECHO",  # Flask-SQLAlchemy: log every SQL statement (debugging only)
})
#: Variables the loader itself reads; they are not settings.
_LOADER_VARIABLES = {"IDP_ENV", "IDP_CONFIG", "IDP_INSTANCE_PATH"}
_PREFIX = "IDP_"

# Values that mean "not configured" for SECRET_KEY.
_WEAK_SECRETS = {"", "dev", "secret", "change-me", "changeme"}
#: The strength rule for SECRET_KEY and HASH_KEY in production (see :func:`weak_key`).
KEY_MIN_LENGTH = 32
KEY_MIN_BITS = 96


class SettingsError(SystemExit):
    """Raised when a setting is unknown, mistyped or unsafe; exits the process with a
    one-line message."""

    def __init__(self, message: str):
        super().__init__(f"idp: refusing to start: {message}")


def current() -> Settings:
    """Return the settings of the current app."""
    return of(current_app)


def of(app) -> Settings:
    """Return the settings of ``app`` (for ``init_app`` functions, before any context)."""
    return app.extensions["idp.settings"]


def prometheus_multiproc_dir() -> str:
    """Return ``PROMETHEUS_MULTIPROC_DIR``: where worker processes keep their metrics
    (prometheus-client reads it too); empty for a single process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def current_env(config: dict | None = None) -> str:
    """Return the environment name, from the mapping first, then ``IDP_ENV``."""
    return str((config or {}).get("ENV") or os.environ.get("IDP_ENV") or "development")


def instance_path(config: dict | None = None) -> str | None:
    """Return the instance folder chosen by the mapping or ``IDP_INSTANCE_PATH``."""
    return (config or {}).get("INSTANCE_PATH") or os.environ.get("IDP_INSTANCE_PATH")


def load(app, config: dict | None = None) -> Settings:
    """Fill ``app.config`` in the documented order, derive dependent settings and keep
    the typed :class:`Settings` on the app.

    :raises SettingsError: on an unknown key in the TOML file or the environment, or a
        value of the wrong type.
    """
    config = dict(config or {})
    env = current_env(config)
    app.config.from_mapping(DEFAULTS)
    app.config["ENV"] = env
    if env == "production":
        # Off by default in production; an operator may turn it on for native apps.
        app.config["OIDC_ALLOW_HTTP_LOOPBACK"] = False
    config_file = os.environ.get("IDP_CONFIG") or PROJECT_ROOT / "config" / f"{env}.toml"
    if Path(config_file).is_file():
        app.config.update(_from_toml(Path(config_file)))
    app.config.update(_from_environment())
    for name in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(name) and not os.environ.get(f"{_PREFIX}{name}"):
            app.config[name] = os.environ[name]
    for name in ("GRANIAN_WORKERS", "WEB_CONCURRENCY"):
        if os.environ.get(name) and not os.environ.get(f"{_PREFIX}SERVER_WORKERS"):
            raw = os.environ[name]
            app.config["SERVER_WORKERS"] = _typed(
                "SERVER_WORKERS", int(raw) if raw.isdigit() else raw, lambda k, name=name: name)
            break
    app.config.update({key: _typed(key, value, lambda k: f"{k} given to create_app")
                       for key, value in config.items()})
    app.config["ENV"] = env
    if env == "production":
        # Production keys are made on purpose (``flask keys rotate``), never at start-up:
        # instances sharing KEYS_DIR would each make their own, and the "no signing keys"
        # refusal would never fire.
        app.config["KEYS_AUTO_GENERATE"] = False
    _derive(app)
    settings = Settings(**{name: _frozen(app.config[key]) for key, name in FIELDS.items()})
    app.config.update(SESSION_COOKIE_SECURE=settings.https,
                      SSO_COOKIE_NAME=settings.sso_cookie_name,
                      PREFERRED_URL_SCHEME="https" if settings.https else "http")
    app.extensions["idp.settings"] = settings
    return settings


def _from_toml(path: Path) -> dict:
    with path.open("rb") as f:
        data = tomllib.load(f)
    for key in data:
        _known(key, f"{key} in {path}", "")
    return {key: _typed(key, value, lambda k: f"{k} in {path}") for key, value in data.items()}


def _from_environment() -> dict:
    values = {}
    for variable in sorted(os.environ):
        if not variable.startswith(_PREFIX) or variable in _LOADER_VARIABLES:
            continue
        key = variable.removeprefix(_PREFIX)
        _known(key, f"{variable} in the environment", _PREFIX)
        raw = os.environ[variable]
        # A string setting takes the text as it is (a SECRET_KEY of digits stays a string);
        # anything else is JSON: 600, true, ["a", "b"], {"otp": "100"}.
        if _TYPES.get(FIELDS.get(key)) is not str:
            try:
                raw = json.loads(raw)
            except ValueError:
                pass
        values[key] = _typed(key, raw, lambda k: _PREFIX + k)
    return values


def _known(key: str, where: str, prefix: str) -> None:
    """Refuse ``key`` unless it is a setting or a framework key, naming the closest one."""
    if key in FIELDS or key in FRAMEWORK_KEYS:
        return
    close = difflib.get_close_matches(key.upper(), [*FIELDS, *FRAMEWORK_KEYS], n=1)
    hint = (f"; did you mean {prefix}{close[0]}?" if close
            else "; the settings are listed in README.md (Configuration)")
    raise SettingsError(f"unknown setting {where}{hint}")


_EXPECTED: dict[type, tuple[str, Callable[[object], bool]]] = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    str: ("a string", lambda v: isinstance(v, str)),
    tuple: ("a list of strings",
            lambda v: isinstance(v, list | tuple) and all(isinstance(i, str) for i in v)),
    dict: ("a table (JSON object)", lambda v: isinstance(v, Mapping)),
}


def _typed(key: str, value: object, name: Callable[[str], str]) -> object:
    """Return ``value`` for ``app.config`` if it has the type of setting ``key``.

    :param name: how the refusal names the key (``IDP_OTP_TTL``, ``OTP_TTL in x.toml``).
    :raises SettingsError: naming the key, the expected type and the value.
    """
    if key not in FIELDS:
        return value
    hint = _TYPES[FIELDS[key]]
    kind = typing.get_origin(hint) or hint
    label, accepts = _EXPECTED[kind]
    if not accepts(value):
        raise SettingsError(f"{name(key)} must be {label}, not {value!r}")
    if kind is float:
        return float(value)
    return list(value) if kind is tuple else value


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _derive(app) -> None:
    cfg = app.config
    if not cfg["SECRET_KEY"] and cfg["ENV"] != "production":
        cfg["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    url = cfg["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'idp.sqlite3'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    cfg["ISSUER"] = str(cfg["ISSUER"]).rstrip("/")
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
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


def weak_key(value: str) -> str | None:
    """Return why ``value`` is too weak for ``SECRET_KEY`` or ``HASH_KEY``, or ``None``.

    A key must be at least :data:`KEY_MIN_LENGTH` characters, must not repeat a shorter
    string (``"ab" * 16``, ``"0123456789" * 4``), and must carry at least
    :data:`KEY_MIN_BITS` bits by a character-frequency (Shannon) estimate: its length times
    the entropy of its own characters' frequencies. One repeated character scores 0 bits; a
    ``secrets.token_hex(16)`` about 110, ``token_hex(32)`` about 240. The estimate cannot see
    every pattern (a dictionary phrase of varied letters passes); generate keys with
    ``secrets``.
    """
    length = len(value)
    if value.strip().lower() in _WEAK_SECRETS or length < KEY_MIN_LENGTH:
        return f"is empty, a default or shorter than {KEY_MIN_LENGTH} characters"
    if any(value[shift:] == value[:-shift] for shift in range(1, length // 2 + 1)):
        return "repeats a shorter string"
    counts = [value.count(c) for c in set(value)]
    bits = -sum(n * math.log2(n / length) for n in counts)
    if bits < KEY_MIN_BITS:
        return (f"has too little entropy (about {bits:.0f} bits estimated, {KEY_MIN_BITS} "
                "needed): generate it with secrets.token_hex(32)")
    return None


def check(settings: Settings, keys_present: bool, require_keys: bool = True) -> None:
    """Refuse production settings that would make the IdP unsafe.

    :param keys_present: whether ``KEYS_DIR`` holds signing keys.
    :param require_keys: ``False`` only for ``flask keys``, the command that creates them.
    :raises SettingsError: with a one-line reason; the process exits with status 1.
    """
    levels = settings.acr_levels
    if len(levels) != 2 or len(set(levels)) != 2 or not all(levels):
        raise SettingsError(f"ACR_LEVELS must name two different levels, not {list(levels)!r}")
    if settings.env != "production":
        return
    secret_key = settings.secret_key
    if reason := weak_key(secret_key):
        raise SettingsError(f"SECRET_KEY {reason}")
    if settings.hash_key == secret_key:
        raise SettingsError("HASH_KEY must be set and differ from SECRET_KEY")
    if reason := weak_key(settings.hash_key):
        raise SettingsError(f"HASH_KEY {reason}")
    if urlsplit(settings.issuer).scheme != "https":
        raise SettingsError(f"IDP_ISSUER must be an https URL, not {settings.issuer!r}")
    if settings.identity_backend != "http":
        raise SettingsError("IDENTITY_BACKEND must be 'http' (the local registry is for tests)")
    if not settings.identity_http_url:
        raise SettingsError("IDENTITY_HTTP_URL is empty: the http identity adapter needs "
                            "the registry service's URL")
    if settings.sms_backend != "http":
        raise SettingsError("SMS_BACKEND must be 'http' (the outbox only stores messages)")
    if not settings.sms_http_url:
        raise SettingsError("SMS_HTTP_URL is empty: SMS_BACKEND=http needs the provider's URL")
    if settings.mail_backend == "smtp" and not settings.smtp_host:
        raise SettingsError("SMTP_HOST is empty: MAIL_BACKEND=smtp needs the relay's host")
    workers = settings.server_workers or os.cpu_count() or 1
    if workers > 1 and not settings.redis_url:
        raise SettingsError(f"{workers} SERVER_WORKERS but REDIS_URL is empty: per-process "
                            "rate-limit counters would multiply every limit by the workers")
    if require_keys and not keys_present:
        raise SettingsError(f"no signing keys in {settings.keys_dir}; run 'flask keys rotate'")
