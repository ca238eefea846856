"""Scopes → claims, the ``claims`` request parameter and subject identifiers.

Functions over a ``User`` row; nothing here reads the database or the request (only
``subject`` reads the app's pairwise salt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jdatetime

from .. import settings
from ..accounts import assurance
from ..security.hashing import purpose_key
from ..text import mobile_e164
from .metadata import SCOPE_CLAIMS

#: The scope that carries each claim (``sub`` is always released).
CLAIM_SCOPE = {claim: scope for scope, claims in SCOPE_CLAIMS.items() for claim in claims
               if scope != "openid"}

LOCALE = "fa-IR"


class ClaimsRequestError(ValueError):
    """The ``claims`` authorization parameter is not a valid JSON object."""


def subject_for(user_subject: str, client, salt: bytes) -> str:
    """Return the ``sub`` a client sees for a user.

    Public clients get the user's stable opaque ``subject``. Pairwise clients get an
    HMAC of it under the sector identifier (OIDC Core §8.1), so two sectors cannot
    link their users; ``salt`` must never change or every pairwise ``sub`` changes.
    """
    if client.subject_type != "pairwise":
        return user_subject
    sector = client.sector_identifier or client.client_id
    digest = hmac.new(salt, f"{sector}|{user_subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pairwise_salt() -> bytes:
    """Return the pairwise salt: ``OIDC_PAIRWISE_SALT``, else a key derived for the purpose."""
    salt = settings.current().oidc_pairwise_salt
    return salt.encode() if salt else purpose_key("oidc_pairwise")


def subject(user, client) -> str:
    """The ``sub`` ``client`` sees for ``user`` (pairwise-aware)."""
    return subject_for(user.subject, client, pairwise_salt())


def acr_for(acr: str | None, amr: list | None, claims_request: dict | None = None) -> str:
    """Return the ``acr`` an ID token carries: the session's level (or the level its
    ``amr`` reaches, for a session started before levels were recorded).

    OIDC Core §5.5.1.1: an *essential* ``acr`` request with ``values`` is answered with
    one of them: the highest requested level the session reaches (levels are ordered, so
    a level-2 session satisfies a level-1 request; ``amr`` still tells what was proven).
    """
    reached = acr or assurance.acr_of(amr)
    values, essential = requested_acr(claims_request)
    if not essential or not values or reached in values:
        return reached
    names = assurance.names()
    level = names.index(reached) + 1 if reached in names else assurance.level_of(amr)
    satisfied = [v for v in values if v in names and names.index(v) + 1 <= level]
    return max(satisfied, key=names.index) if satisfied else reached


def parse_claims_request(raw: str | None) -> dict | None:
    """Parse the ``claims`` parameter (OIDC Core §5.5).

    :raises ClaimsRequestError: when it is not a JSON object whose ``userinfo`` and
        ``id_token`` members (both optional) are objects.
    """
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as e:  # RecursionError: nested too deep
        raise ClaimsRequestError("claims is not JSON") from e
    if not isinstance(value, dict):
        raise ClaimsRequestError("claims is not an object")
    for member in ("userinfo", "id_token"):
        if not isinstance(value.get(member, {}), dict | type(None)):
            raise ClaimsRequestError(f"claims.{member} is not an object")
    return {m: dict(value.get(m) or {}) for m in ("userinfo", "id_token") if m in value}


def requested_acr(claims_request: dict | None) -> tuple[list[str], bool]:
    """Return the ``acr`` values an ID-token ``acr`` claim request names (OIDC Core
    §5.5.1.1: ``values``, or one ``value``) and whether it is essential.

    Anything but strings is left out; no request gives ``([], False)``.
    """
    claim = ((claims_request or {}).get("id_token") or {}).get("acr")
    if not isinstance(claim, dict):
        return [], False
    values = claim.get("values") if "values" in claim else [claim.get("value")]
    values = [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
    return values, claim.get("essential") is True


def requested_names(claims_request: dict | None, member: str) -> set[str]:
    """Return the user claims named in one member of a ``claims`` request."""
    if not claims_request:
        return set()
    return {name for name in claims_request.get(member, {}) if name in CLAIM_SCOPE}


def consent_scopes(scopes: set[str], claims_request: dict | None,
                   allowed: set[str]) -> set[str]:
    """Return the scopes a request really asks for.

    A claim named in the ``claims`` parameter counts as a request for its scope, if the
    client may have that scope at all; otherwise it is ignored (OIDC Core §5.5: an OP
    need not return a requested claim).
    """
    extra = {CLAIM_SCOPE[name] for member in ("userinfo", "id_token")
             for name in requested_names(claims_request, member)}
    return set(scopes) | (extra & set(allowed))


def released_names(scopes: set[str], claims_request: dict | None, member: str) -> set[str]:
    """Return the claim names released to ``member`` ("userinfo" or "id_token").

    UserInfo carries every claim of the granted scopes; the ID token carries only the
    claims explicitly requested for it. Either way a claim is released only when its
    scope is among ``scopes`` (which includes what the ``claims`` request added).
    """
    names = requested_names(claims_request, member)
    if member == "userinfo":
        names |= {c for s in scopes for c in SCOPE_CLAIMS.get(s, []) if s != "openid"}
    return {n for n in names if CLAIM_SCOPE[n] in scopes}


def user_claims(user, names: set[str]) -> dict:
    """Return the values of ``names`` for ``user``, leaving out claims without a value."""
    values = {
        "name": lambda: user.full_name,
        "given_name": lambda: user.first_name,
        "family_name": lambda: user.last_name,
        "gender": lambda: user.gender,
        "birthdate": lambda: user.birth_date.isoformat(),
        "locale": lambda: LOCALE,
        "email": lambda: user.email,
        # True only after a code mailed to this very address was typed (a change resets it).
        "email_verified": lambda: user.email_verified_at is not None if user.email else None,
        "phone_number": lambda: mobile_e164(user.mobile),
        # The mobile was proven by an SMS code and matched to the code's owner (Shahkar).
        "phone_number_verified": lambda: True,
        "national_code": lambda: user.id_code if user.id_type == "national" else None,
        "fida_code": lambda: user.id_code if user.id_type == "fida" else None,
        "father_name": lambda: user.father_name,
        "birthdate_jalali": lambda: jdatetime.date.fromgregorian(
            date=user.birth_date).strftime("%Y/%m/%d"),
    }
    result = {}
    for name in sorted(names):
        value = values[name]() if name in values else None
        if value is not None:
            result[name] = value
    return result


def claims_by_scope(scopes: set[str]) -> list[tuple[str, list[str]]]:
    """Return ``(scope, claims)`` pairs in discovery order, for the consent page."""
    return [(s, claims) for s, claims in SCOPE_CLAIMS.items() if s in scopes and s != "openid"]
