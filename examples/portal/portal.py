"""A demo portal: an OpenID Connect relying party of the IdP, written to be copied.

It uses only Authlib's Flask client (``authlib.integrations.flask_client``) and joserfc,
never the IdP's code, exactly as a portal team would. ``make demo`` runs it twice, as
``eservices`` (خدمات غیرحضوری) and ``profile`` (پروفایل); settings come from ``PORTAL_*``
environment variables (Flask's ``from_prefixed_env``)::

    PORTAL_CLIENT_ID=eservices PORTAL_CLIENT_SECRET=… PORTAL_TITLE="خدمات غیرحضوری" \\
    PORTAL_ISSUER=http://127.0.0.1:5000 PORTAL_BASE_URL=http://127.0.0.1:5001 \\
    PORTAL_SECRET_KEY=… flask --app examples/portal/portal.py run --port 5001

What it shows: sign-in («ورود»), registration at the IdP that comes back signed in
(«ثبت نام», ``prompt=create``), re-authentication (``max_age=0``), RP-initiated logout
(«خروج») and a back-channel logout receiver that ends the local session of a ``sid``.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, render_template, request, session, url_for
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MASKED = {"national_code", "fida_code", "phone_number"}
CLOCK_SKEW = 30  # seconds of clock difference tolerated with the IdP


class SessionStore:
    """Server-side sessions keyed by a random id; the browser's cookie holds only that id.

    A back-channel logout arrives without the citizen's cookies, so the portal must be
    able to end a session by the IdP's ``sid``. A dict is enough for one demo process;
    a real portal keeps these rows in its database or Redis (shared by every instance).
    """

    def __init__(self):
        self._rows: dict[str, dict] = {}
        self._lock = threading.Lock()

    def create(self, row: dict) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._rows[key] = row
        return key

    def get(self, key: str | None) -> dict | None:
        with self._lock:
            return self._rows.get(key) if key else None

    def end(self, key: str | None) -> None:
        with self._lock:
            self._rows.pop(key, None)

    def end_for(self, sid: str | None, sub: str | None) -> int:
        """End every session of the IdP session ``sid`` (or of ``sub`` when no sid)."""
        with self._lock:
            doomed = [k for k, row in self._rows.items()
                      if (sid and row["sid"] == sid) or (not sid and row["sub"] == sub)]
            for key in doomed:
                del self._rows[key]
        return len(doomed)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, root_path=str(Path(__file__).resolve().parent))
    app.config.from_prefixed_env("PORTAL")
    app.config.update(config or {})
    name = app.config["CLIENT_ID"]
    # Portals on one host share cookies across ports: give each its own cookie name.
    app.config["SESSION_COOKIE_NAME"] = f"portal_{name}"
    # Lax: no cross-site POST carries it (the «خروج» form), yet the IdP's redirect back does.
    # Behind https also set SESSION_COOKIE_SECURE = True.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    base_url = app.config["BASE_URL"].rstrip("/")
    store = SessionStore()
    seen_jti: set[str] = set()  # logout tokens are single use (a real portal expires these)

    oauth = OAuth(app)
    idp = oauth.register(
        "idp",
        server_metadata_url=app.config["ISSUER"] + "/.well-known/openid-configuration",
        client_id=name, client_secret=app.config["CLIENT_SECRET"],
        client_kwargs={"scope": "openid profile phone national_id",
                       "code_challenge_method": "S256"},  # PKCE, also for confidential clients
    )

    def current() -> dict | None:
        return store.get(session.get("key"))

    def to_idp(**params):
        """Start an authorization request; extra params: prompt, max_age, login_hint…"""
        return idp.authorize_redirect(base_url + "/callback", ui_locales="fa", **params)

    @app.get("/")
    def home():
        return render_template("home.html", user=current(), signed_out="state" in request.args)

    @app.get("/login")
    def login():
        return to_idp()

    @app.get("/register")
    def register():
        # OIDC "prompt=create": the IdP shows its registration wizard, then comes back here.
        return to_idp(prompt="create")

    @app.get("/reauth")
    def reauth():
        # max_age=0: the IdP asks for the password again; the SSO session stays.
        session["reauth_at"] = int(time.time())
        return to_idp(max_age=0)

    @app.get("/callback")
    def callback():
        if request.args.get("iss") != idp.load_server_metadata()["issuer"]:
            abort(400)  # RFC 9207: the answer must come from our IdP (mix-up defence)
        try:
            # Checks state, exchanges the code (with the PKCE verifier) and validates the
            # ID token: signature against the JWKS, iss, aud, exp, nonce.
            token = idp.authorize_access_token()
        except OAuthError as error:
            return render_template("home.html", user=None, error=error.error), 400
        claims = dict(token["userinfo"])  # the validated ID token's claims
        asked_at = session.pop("reauth_at", None)
        if asked_at is not None and claims["auth_time"] < asked_at - CLOCK_SKEW:
            abort(400)  # OIDC Core §3.1.2.1: max_age=0 must bring a new sign-in
        userinfo = dict(idp.userinfo(token=token))
        store.end(session.pop("key", None))
        session.clear()  # a fresh cookie session after sign-in
        session["key"] = store.create({"sid": claims.get("sid"), "sub": claims["sub"],
                                       "id_token": token["id_token"], "claims": claims,
                                       "userinfo": userinfo})
        return redirect(url_for("me"))

    @app.get("/me")
    def me():
        user = current()
        if user is None:  # never signed in, or ended by a back-channel logout
            return redirect(url_for("home"))
        claims, info = user["claims"], user["userinfo"]
        auth_time = datetime.fromtimestamp(claims["auth_time"], UTC)
        # Identifiers are personal data: shown masked, even in the table of received claims.
        shown = {k: mask(str(v)) if k in MASKED else v for k, v in info.items()}
        return render_template(
            "me.html", user=user, claims=claims, info=info, shown=shown,
            code=mask(info.get("national_code") or info.get("fida_code") or ""),
            auth_time=auth_time.astimezone(ZoneInfo("Asia/Tehran")).strftime("%Y-%m-%d %H:%M:%S"))

    @app.post("/logout")
    def logout():
        user = current()
        store.end(session.pop("key", None))
        if user is None:
            return redirect(url_for("home"))
        # RP-initiated logout: the IdP ends the SSO session (and tells the other portals).
        return idp.logout_redirect(post_logout_redirect_uri=base_url + "/",
                                   id_token_hint=user["id_token"])

    @app.post("/backchannel-logout")
    def backchannel_logout():
        try:
            claims = verify_logout_token(request.form.get("logout_token", ""))
        except (JoseError, ValueError):
            return {"error": "invalid_request"}, 400, {"Cache-Control": "no-store"}
        store.end_for(claims.get("sid"), claims.get("sub"))
        return "", 200, {"Cache-Control": "no-store"}

    def verify_logout_token(raw: str) -> dict:
        """OpenID Connect Back-Channel Logout 1.0 §2.6, step by step."""
        metadata = idp.load_server_metadata()
        algorithms = metadata["id_token_signing_alg_values_supported"]
        try:
            token = jwt.decode(raw, KeySet.import_key_set(idp.fetch_jwk_set()), algorithms)
        except InvalidKeyIdError:  # the IdP rotated its keys: fetch the JWKS again
            token = jwt.decode(raw, KeySet.import_key_set(idp.fetch_jwk_set(force=True)),
                               algorithms)
        if token.header.get("typ") != "logout+jwt":
            raise ValueError("not a logout token")
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": name},
            iat={"essential": True}, exp={"essential": True}, jti={"essential": True},
        ).validate(token.claims)
        claims = token.claims
        if not isinstance(claims.get("events"), dict) or BACKCHANNEL_EVENT not in claims["events"]:
            raise ValueError("no back-channel logout event")
        if "nonce" in claims:
            raise ValueError("a logout token never has a nonce")
        if not (claims.get("sid") or claims.get("sub")):
            raise ValueError("neither sid nor sub")
        if claims["jti"] in seen_jti:
            raise ValueError("replayed")
        seen_jti.add(claims["jti"])
        return claims

    return app


def mask(code: str) -> str:
    """Show the first three and last two digits only: 0012345679 → 001*****79."""
    return code[:3] + "*" * (len(code) - 5) + code[-2:] if len(code) > 5 else code
