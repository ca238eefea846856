"""Plain factories for test data: users, registry records, clients, admins, and an
authorization request's parameters (and reading its redirect back).

Actions that drive the app are fixtures in ``conftest.py``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
from datetime import date
from urllib.parse import parse_qs, urlsplit

from idp.accounts.passwords import hash_password
from idp.admin import admins
from idp.clients.service import register_client
from idp.clients.spec import ClientSpec
from idp.extensions import db
from idp.identity.national_id import check_digit
from idp.models import Client, RegistryRecord, User

DEFAULT_PASSWORD = "Secret123"
RP_REDIRECT = "https://rp.example.ir/cb"
#: Keys that pass the production strength rule (test values, never used anywhere real).
PRODUCTION_SECRET_KEY = "b8ac7d31647ba5bd487ea278169bdfc147961b7913cc4684f858fd1c6996fcfb"
PRODUCTION_HASH_KEY = "DjUOzUJawEXTEq-0dmiRGWRHt07naiUWltWb7zcXYr8"
#: What production requires besides the keys: https issuer, HTTP adapters with their URLs.
PRODUCTION_ADAPTERS = {
    "ISSUER": "https://login.example.ir", "IDENTITY_BACKEND": "http",
    "IDENTITY_HTTP_URL": "https://registry.example.ir", "SMS_BACKEND": "http",
    "SMS_HTTP_URL": "https://sms.example.ir/send"}
# What the TOTP enrolment page shows: the secret to type in, then the recovery codes.
TOTP_SECRET_RE = re.compile(r'class="totp-secret">([A-Z2-7]+)<')
RECOVERY_CODE_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")
_serial = itertools.count(100001)


def national_code() -> str:
    """Return a fresh, valid national code."""
    body = f"001{next(_serial):06d}"
    return body + str(check_digit(body))


def make_registry_record(**overrides) -> RegistryRecord:
    values = {
        "id_type": "national", "id_code": national_code(), "first_name": "علی",
        "last_name": "احمدی", "father_name": "حسین", "certificate_number": "1234",
        "birth_date": date(1990, 3, 21), "gender": "male",
        "mobile": f"0912{next(_serial):07d}", "is_deceased": False,
    }
    values.update(overrides)
    record = RegistryRecord(**values)
    db.session.add(record)
    db.session.commit()
    return record


def make_user(password: str = DEFAULT_PASSWORD, **overrides) -> User:
    """Create an active account (with its registry record) and return it."""
    record = make_registry_record(**{k: v for k, v in overrides.items()
                                     if k in RegistryRecord.__table__.columns})
    values = {name: getattr(record, name) for name in (
        "id_type", "id_code", "mobile", "first_name", "last_name", "father_name",
        "birth_date", "gender", "certificate_number")}
    values.update(email="citizen@example.ir", password_hash=hash_password(password))
    values.update({k: v for k, v in overrides.items() if k in User.__table__.columns})
    user = User(**values)
    db.session.add(user)
    db.session.commit()
    return user


def make_client(**overrides) -> tuple[Client, str | None]:
    """Register a client through the real service; return it and its one-time secret."""
    values = {"name_fa": "پورتال آزمایشی", "redirect_uris": [RP_REDIRECT],
              "scope": "openid profile email phone national_id"}
    values.update(overrides)
    return register_client(ClientSpec(**values))


def make_admin(**overrides) -> User:
    """Create an account (as :func:`make_user`) and make it an administrator."""
    user = make_user(**overrides)
    admins.grant_admin(user.id_code)
    return user


def make_portal(**overrides) -> tuple[Client, str | None]:
    """Register a confidential portal allowed every scope; return it and its secret."""
    values = {"redirect_uris": [RP_REDIRECT], "first_party": False,
              "post_logout_redirect_uris": ["https://rp.example.ir/bye"],
              "grant_types": ["authorization_code", "refresh_token"]}
    values.update(overrides)
    return make_client(**values)


def pkce_pair() -> tuple[str, str]:
    """Return a (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_params(client: Client, **extra) -> dict:
    """Return the parameters of an authorization request for ``client``.

    ``pkce`` replaces the fresh (verifier, challenge) pair. The verifier is kept under
    ``_verifier``; keys starting with ``_`` and ``None`` values are not sent.
    """
    verifier, challenge = extra.pop("pkce", pkce_pair())
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": client.redirect_uris[0], "scope": "openid profile",
              "state": "st-1", "nonce": "n-1", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(extra)
    params["_verifier"] = verifier
    return params


def query_of(response) -> dict:
    """Return the query parameters of a redirect's ``Location``."""
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
