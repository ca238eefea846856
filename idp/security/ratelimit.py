"""Per-client-IP rate limits on the endpoints that guess, send SMS or cost money.

Flask-Limiter with a fixed window; counters live in Redis (``REDIS_URL``) so every app
instance shares them, or in process memory for a single server. The limits are settings
(``RATELIMIT_*``), generous enough for carrier-grade NAT, where many citizens share one
address; the per-account lockout and the per-mobile SMS caps are the finer-grained
defences behind them.

Both counter stores are our own, registered with ``limits`` under ``idp+…`` schemes:
``limits``' memory storage starts a ``threading.Timer`` on nearly every hit to expire
keys, and its Redis storage spends three round trips per limited request (the hit, then
the count and the TTL for the ``X-RateLimit-*`` headers).

Redis going away does not take sign-in down with it: the Redis store then counts in
process memory (each instance on its own, so limits are looser by the number of
processes), says so once in the security log, and tries Redis again every
:data:`REDIS_RETRY_SECONDS`; ``/readyz`` answers 503 meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import RedisStorage, Storage

from .. import settings
from ..audit import SECURITY

logger = logging.getLogger("idp.security")

# endpoint → (Settings field holding the limit, methods it applies to)
LIMITED_ENDPOINTS = {
    "accounts.login": ("ratelimit_login", ["POST"]),
    "accounts.expired_password": ("ratelimit_login", ["POST"]),
    "accounts.recover": ("ratelimit_sms", ["POST"]),
    "accounts.recover_resend": ("ratelimit_sms", ["POST"]),
    "accounts.recover_code": ("ratelimit_login", ["POST"]),
    "accounts.change_password": ("ratelimit_login", ["POST"]),
    "accounts.change_mobile": ("ratelimit_sms", ["POST"]),
    "accounts.verify_mobile": ("ratelimit_login", ["POST"]),
    "accounts.resend_mobile_code": ("ratelimit_sms", ["POST"]),
    "accounts.email": ("ratelimit_sms", ["POST"]),  # a new address is mailed a code
    "accounts.send_email_code": ("ratelimit_sms", ["POST"]),
    "accounts.verify_email": ("ratelimit_login", ["POST"]),
    "registration.start": ("ratelimit_registration", ["POST"]),
    "registration.step": ("ratelimit_registration", ["POST"]),
    "admin.verify": ("ratelimit_login", ["POST"]),
    # Passkeys: each answer is a sign-in attempt, each options call a stored challenge.
    "accounts.passkey_login": ("ratelimit_login", ["POST"]),
    "accounts.passkey_login_options": ("ratelimit_login", ["POST"]),
    "accounts.passkey_step_page": ("ratelimit_login", ["POST"]),
    "accounts.passkey_step_options": ("ratelimit_login", ["POST"]),
    "accounts.passkey_registration_options": ("ratelimit_login", ["POST"]),
    "accounts.passkey_register": ("ratelimit_login", ["POST"]),
    "accounts.passkey_remove": ("ratelimit_login", ["POST"]),
    "admin.enrol": ("ratelimit_login", ["POST"]),
    "oidc.token": ("ratelimit_token", ["POST"]),
    "oidc.par": ("ratelimit_token", ["POST"]),
    "oidc.introspect": ("ratelimit_token", ["POST"]),
    "oidc.revoke": ("ratelimit_token", ["POST"]),
    "dcr.register": ("ratelimit_registration", ["POST"]),
    # A CAPTCHA's audio costs about 0.6 s of CPU to draw, its image about 15 ms.
    "accounts.captcha_audio": ("ratelimit_sms", ["GET"]),
    "accounts.captcha_image": ("ratelimit_login", ["GET"]),
}

SWEEP_INTERVAL = 60.0  # seconds between purges of expired windows from memory
REDIS_RETRY_SECONDS = 5.0  # while Redis is down, how often a hit tries it again
# Redis answers in microseconds on a LAN; a hung connection must not hang sign-in.
REDIS_SOCKET_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}


class MemoryCounterStorage(Storage):
    """Fixed-window counters in a dict: a hit is a lock and a dict update, no thread.

    Expired windows are dropped when next touched, and all of them once a minute by the
    hit that comes due, so memory follows the addresses seen in the last window.
    """

    STORAGE_SCHEME = ["idp+memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 clock: Callable[[], float] = time.time, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._windows: dict[str, list[float]] = {}  # key → [count, expires_at]
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        self._clock = clock  # epoch seconds: Flask-Limiter puts get_expiry in headers

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
                self._next_sweep = now + SWEEP_INTERVAL
            window = self._windows.get(key)
            if window is None or window[1] <= now:
                window = self._windows[key] = [0, now + expiry]
            window[0] += amount
            return int(window[0])

    def get(self, key: str) -> int:
        window = self._windows.get(key)
        return int(window[0]) if window and window[1] > self._clock() else 0

    def get_expiry(self, key: str) -> float:
        window = self._windows.get(key)
        return window[1] if window else self._clock()

    def peek(self, key: str) -> int:
        """Return the count of ``key`` in its current window (0 when none)."""
        return self.get(key)

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            count, self._windows = len(self._windows), {}
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


class RedisCounterStorage(RedisStorage):
    """Fixed-window counters in Redis, shared by every instance: one round trip per hit.

    The hit pipelines INCRBY, EXPIRE NX and TTL, and keeps the reply (per thread) so the
    count and reset time Flask-Limiter reads next for its headers cost no round trip. With
    a fixed window it reads a key only right after hitting it in the same request, so the
    kept reply is that request's; the allow/deny decision is the INCRBY reply itself.

    When Redis fails, the hit is counted in a :class:`MemoryCounterStorage` instead, and
    so is every hit until ``retry_after`` seconds of ``clock`` have passed; then the next
    hit tries Redis again. Going down and coming back are each logged once.
    """

    STORAGE_SCHEME = ["idp+redis", "idp+rediss", "idp+unix"]
    REPLIES_KEPT = 16  # per thread; a request reads the replies of its own one or two hits

    def __init__(self, uri: str, clock: Callable[[], float] = time.monotonic,
                 retry_after: float = REDIS_RETRY_SECONDS, name: str = "rate-limit",
                 **options):
        super().__init__(uri.removeprefix("idp+"), **{**REDIS_SOCKET_OPTIONS, **options})
        self._replies = threading.local()
        self.fallback = MemoryCounterStorage()
        self._clock = clock
        self._retry_after = retry_after
        self._retry_at: float | None = None  # set while degraded: when to try Redis again
        self._state = threading.Lock()
        self._name = name  # which counters, in the log lines

    @property
    def degraded(self) -> bool:
        """Whether hits are being counted in process memory because Redis failed."""
        return self._retry_at is not None

    def _reply(self, key: str) -> tuple[int, float] | None:
        return getattr(self._replies, "by_key", {}).get(key)

    def _use_redis(self) -> bool:
        retry_at = self._retry_at
        return retry_at is None or self._clock() >= retry_at

    def _failed(self, error: redis.RedisError) -> None:
        with self._state:
            first = self._retry_at is None
            self._retry_at = self._clock() + self._retry_after
        if first:
            logger.log(SECURITY, "ratelimit_degraded %s counters degraded to per-process "
                       "memory: Redis unreachable (%s)", self._name, type(error).__name__)

    def _recovered(self) -> None:
        with self._state:
            was_degraded, self._retry_at = self._retry_at is not None, None
        if was_degraded:
            self.fallback.reset()
            logger.log(SECURITY, "ratelimit_restored %s counters restored to Redis",
                       self._name)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        if not self._use_redis():
            return self.fallback.incr(key, expiry, amount)
        name = self.prefixed_key(key)
        pipe = self.get_connection().pipeline(transaction=False)
        pipe.incrby(name, amount)
        # Sets the expiry only where none is set: the hit that opens the window, or any
        # later one should that hit have been lost (Redis 7.0+).
        pipe.expire(name, expiry, nx=True)
        pipe.ttl(name)
        try:
            count, _, ttl = pipe.execute()
        except redis.RedisError as e:
            self._failed(e)
            return self.fallback.incr(key, expiry, amount)
        if self._retry_at is not None:
            self._recovered()
        replies = getattr(self._replies, "by_key", None)
        if replies is None or len(replies) >= self.REPLIES_KEPT:
            replies = self._replies.by_key = {}
        replies[key] = (count, time.time() + max(ttl, 0))
        return count

    def _from_redis(self, read, fallback):
        """``read()`` from Redis; on a Redis error, note the failure and ``fallback()``."""
        try:
            return read()
        except redis.RedisError as e:
            self._failed(e)
            return fallback()

    def get(self, key: str) -> int:
        reply = self._reply(key)
        if reply:
            return reply[0]
        if self.degraded:
            return self.fallback.get(key)
        return self._from_redis(lambda: RedisStorage.get(self, key),
                                lambda: self.fallback.get(key))

    def peek(self, key: str) -> int:
        """Return the count of ``key`` as Redis has it now (not this thread's last reply)."""
        if not self._use_redis():
            return self.fallback.get(key)
        return self._from_redis(lambda: RedisStorage.get(self, key),
                                lambda: self.fallback.get(key))

    def get_expiry(self, key: str) -> float:
        reply = self._reply(key)
        if reply:
            return reply[1]
        if self.degraded:
            return self.fallback.get_expiry(key)
        return self._from_redis(lambda: RedisStorage.get_expiry(self, key),
                                lambda: self.fallback.get_expiry(key))


def app_clock(app) -> Callable[[], float]:
    """The app's clock as epoch seconds: it decides when a down Redis is tried again."""
    clock = app.extensions["idp.clock"]
    return lambda: clock.now().timestamp()


def counter_storage(app, name: str) -> MemoryCounterStorage | RedisCounterStorage:
    """Return a fixed-window counter store of its own for ``name`` (CAPTCHA soft limits):
    in Redis when ``REDIS_URL`` is set (falling back to memory), else in process memory."""
    redis_url = settings.of(app).redis_url
    if redis_url:
        return RedisCounterStorage(f"idp+{redis_url}", clock=app_clock(app), name=name)
    return MemoryCounterStorage()


def init_app(app) -> None:
    """Attach the limits to the registered views; call after every blueprint is registered."""
    cfg = settings.of(app)
    redis_url = cfg.redis_url
    # While Redis is down, the app's clock decides when to try it again (tests move it).
    options = {"clock": app_clock(app)} if redis_url else {}
    limiter = Limiter(get_remote_address, app=app, strategy="fixed-window",
                      storage_uri=f"idp+{redis_url}" if redis_url else "idp+memory://",
                      storage_options=options, headers_enabled=True, key_prefix="idp")
    app.extensions["idp.limiter"] = limiter
    if not limiter.enabled:
        return
    # Flask-Limiter's before_request hook applies default and application-wide limits;
    # we have none, and the decorated views below check their own. Without it an
    # unlimited request (UserInfo, pages) skips ~50 µs of limit resolution.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    for endpoint, (name, methods) in LIMITED_ENDPOINTS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            limit = getattr(cfg, name)
            app.view_functions[endpoint] = limiter.limit(lambda limit=limit: limit,
                                                         methods=methods)(view)
