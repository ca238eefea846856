"""The sign-in round trip of a citizen, driven with httpx.AsyncClient.

One round trip is what a browser and a portal do (OIDC Core §3.1 with PKCE, RFC 7636):

1. ``GET /authorize`` → 302 to the sign-in page (no session yet);
2. ``GET /login`` → the form, its CSRF token and the session cookie;
3. ``POST /login`` → 302 back to ``/authorize/resume`` (SSO session cookie set);
4. ``GET /authorize/resume`` → 302 to the portal's redirect URI with the code (the
   portal is first-party: no consent page);
5. ``POST /oauth/token`` (the portal, client_secret_basic) → access, refresh and ID token.

Each citizen is a fresh browser: its cookies are kept by hand, because the production
settings mark them ``Secure`` and the bench talks plain http on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.cookiejar
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote_plus, urlencode, urljoin, urlsplit

import httpx

ROUND_TRIP_REQUESTS = 5
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Portal:
    """The relying party registered for the bench (confidential, first-party)."""

    client_id: str
    secret: str
    redirect_uri: str
    scope: str

    @property
    def basic(self) -> str:
        """The ``Authorization`` value for client_secret_basic (RFC 6749 §2.3.1)."""
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.secret)}"
        return "Basic " + base64.b64encode(pair.encode()).decode()


class SignInError(Exception):
    """A step of the round trip got another answer than a browser expects."""

    def __init__(self, step: str, status: int):
        super().__init__(f"{step}: HTTP {status}")
        self.step = step


class Browser:
    """One citizen's cookies, sent and updated by hand."""

    def __init__(self, http: httpx.AsyncClient, base: str):
        self.http, self.base, self.cookies = http, base, {}

    async def request(self, method: str, url: str, step: str, expect: int, **kwargs):
        """Send a request with this browser's cookies, keep the ones it sets, and check
        the status.

        :raises SignInError: naming ``step`` when the status is not ``expect``.
        """
        headers = kwargs.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = await self.http.request(method, urljoin(self.base, url), headers=headers,
                                           **kwargs)
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.status_code != expect:
            raise SignInError(step, response.status_code)
        return response


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def round_trip(http: httpx.AsyncClient, base: str, portal: Portal, id_code: str,
                     password: str) -> dict:
    """Sign ``id_code`` in through the code flow; return the token response."""
    browser = Browser(http, base)
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)
    query = urlencode({
        "response_type": "code", "client_id": portal.client_id,
        "redirect_uri": portal.redirect_uri, "scope": portal.scope, "state": state,
        "nonce": secrets.token_urlsafe(16), "code_challenge": challenge,
        "code_challenge_method": "S256"})
    response = await browser.request("GET", f"/authorize?{query}", "authorize", 302)
    login_url = response.headers["location"]
    response = await browser.request("GET", login_url, "login_form", 200)
    match = _CSRF.search(response.text)
    if match is None:
        raise SignInError("login_form", response.status_code)
    response = await browser.request(
        "POST", login_url, "login", 302,
        data={"csrf_token": match.group(1), "id_code": id_code, "password": password})
    response = await browser.request("GET", response.headers["location"], "resume", 302)
    answer = parse_qs(urlsplit(response.headers["location"]).query)
    if answer.get("state") != [state] or "code" not in answer:
        raise SignInError("resume", response.status_code)
    response = await browser.request(
        "POST", "/oauth/token", "token", 200, headers={"Authorization": portal.basic},
        data={"grant_type": "authorization_code", "code": answer["code"][0],
              "redirect_uri": portal.redirect_uri, "code_verifier": verifier})
    return response.json()


@dataclass
class SignIns:
    """Completed round trips with their latencies, the tokens won and the failures."""

    seconds: float = 0.0
    latencies: list = field(default_factory=list)  # seconds per completed round trip
    tokens: list = field(default_factory=list)  # token responses
    errors: dict = field(default_factory=dict)  # failed step → count


def _client() -> httpx.AsyncClient:
    # No cookie jar of its own: the Browser keeps each citizen's cookies apart.
    jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(timeout=60, cookies=jar, follow_redirects=False)


async def sign_in_many(base: str, portal: Portal, codes: list[str], password: str,
                       concurrency: int, seconds: float | None = None,
                       count: int | None = None) -> SignIns:
    """Run ``concurrency`` citizens at once, each signing in again and again.

    Stop after ``seconds`` (round trips under way finish) or after ``count`` round
    trips. Citizens are taken from ``codes`` in turn.
    """
    result = SignIns()
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds if seconds is not None else None
    budget = itertools.count() if count is None else iter(range(count))
    citizens = itertools.cycle(codes)

    async def citizen() -> None:
        async with _client() as http:
            while (deadline is None or loop.time() < deadline) \
                    and next(budget, None) is not None:
                began = time.perf_counter()
                try:
                    result.tokens.append(
                        await round_trip(http, base, portal, next(citizens), password))
                except SignInError as e:
                    result.errors[e.step] = result.errors.get(e.step, 0) + 1
                except httpx.TransportError as e:
                    name = type(e).__name__
                    result.errors[name] = result.errors.get(name, 0) + 1
                else:
                    result.latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(citizen() for _ in range(concurrency)))
    result.seconds = loop.time() - started
    return result


def run(base: str, portal: Portal, codes: list[str], password: str, concurrency: int,
        seconds: float | None = None, count: int | None = None) -> SignIns:
    """Run :func:`sign_in_many` in a new event loop."""
    return asyncio.run(sign_in_many(base, portal, codes, password, concurrency, seconds, count))


async def login_form(base: str) -> tuple[str, str]:
    """Fetch the sign-in form once; return its Cookie header and CSRF token."""
    async with _client() as http:
        browser = Browser(http, base)
        response = await browser.request("GET", "/login", "login_form", 200)
        match = _CSRF.search(response.text)
        if match is None:
            raise SignInError("login_form", response.status_code)
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        return cookie, match.group(1)
