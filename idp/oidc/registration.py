"""Dynamic Client Registration (RFC 7591) and its management protocol (RFC 7592).

``POST /connect/register`` needs an initial access token issued by an admin (bearer);
the answer carries a registration access token for ``GET``/``PUT``/``DELETE
/connect/register/<client_id>``. Everything answers JSON; the rules are the same
``validate`` the admin pages and the CLI use (``idp.clients.dcr``). The endpoints exist
only while ``DCR_ENABLED`` is on.

This is a small JSON adapter rather than Authlib's ``ClientRegistrationEndpoint``: the
metadata rules, the token bookkeeping and the audit trail already live in the client
services, and a second set of rules in Authlib's claims classes would drift from them.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from .. import settings
from ..clients import dcr
from ..clients.credentials import secret_matches
from ..clients.keys import public_jwks
from ..clients.spec import ClientSpec
from ..errors import DomainError
from ..extensions import csrf

bp = Blueprint("dcr", __name__)
PATH = "/connect/register"
REDIRECT_FIELDS = {"redirect_uris"}


class _BadMetadata(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


def _answer(body: dict | None, status: int = 200, headers: dict | None = None):
    response = jsonify(body) if body is not None else current_app.response_class(status=status)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # RFC 7591 §3.2.1
    response.headers["Pragma"] = "no-cache"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _error(error: str, description: str, status: int = 400):
    # RFC 7591 §3.2.2: error and an ASCII error_description.
    return _answer({"error": error, "error_description": description}, status)


def _invalid_token(description: str):
    # RFC 6750 §3.1: the registration and configuration endpoints are bearer-protected.
    return _answer({"error": "invalid_token", "error_description": description}, 401,
                   {"WWW-Authenticate": f'Bearer error="invalid_token", '
                                        f'error_description="{description}"'})


def _bearer() -> str | None:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _json_body():
    """The request's JSON, or ``None`` when it is not JSON or nests too deep to parse."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # e.g. "[" * 10000: json's recursion limit, not a ValueError
        return None


def _strings(body: dict, name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _BadMetadata("invalid_client_metadata", f"{name} must be an array of strings")
    return value


def _string(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _BadMetadata("invalid_client_metadata", f"{name} must be a string")
    return value or None


def spec_from_metadata(body) -> ClientSpec:
    """Turn RFC 7591 §2 client metadata into a ``ClientSpec`` (unknown members ignored).

    The client type follows from the metadata: only ``client_credentials`` makes a
    machine client, ``token_endpoint_auth_method=none`` a public one (PKCE required).

    :raises _BadMetadata: on members of the wrong JSON type or unsupported values.
    """
    if not isinstance(body, dict):
        raise _BadMetadata("invalid_client_metadata", "the body must be a JSON object")
    grant_types = _strings(body, "grant_types") or ["authorization_code"]  # §2 default
    response_types = _strings(body, "response_types") or (
        ["code"] if "authorization_code" in grant_types else [])
    if set(response_types) - {"code"} or (
            ("code" in response_types) != ("authorization_code" in grant_types)):
        # §2.1: "code" goes with authorization_code; implicit and hybrid are not offered.
        raise _BadMetadata("invalid_client_metadata",
                           "response_types must be [\"code\"] with authorization_code only")
    if body.get("sector_identifier_uri") is not None:
        raise _BadMetadata("invalid_client_metadata", "sector_identifier_uri is not supported")
    profile = _string(body, "profile")
    method = _string(body, "token_endpoint_auth_method") or (
        "private_key_jwt" if profile == "fapi2" else "client_secret_basic")
    client_type = ("service" if grant_types == ["client_credentials"]
                   else "public" if method == "none" else "confidential")
    name = _string(body, "client_name")
    name_fa = _string(body, "client_name#fa") or _string(body, "client_name#fa-IR") or name
    name_en = _string(body, "client_name#en") or (name if name and name.isascii() else "")
    if not name_fa:
        raise _BadMetadata("invalid_client_metadata", "client_name is required")
    jwks = body.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise _BadMetadata("invalid_client_metadata", "jwks must be a JSON object")
    require_par = body.get("require_pushed_authorization_requests", False)  # RFC 9126 §6
    if not isinstance(require_par, bool):
        raise _BadMetadata("invalid_client_metadata",
                           "require_pushed_authorization_requests must be a boolean")
    dpop_bound = body.get("dpop_bound_access_tokens", False)
    if not isinstance(dpop_bound, bool):  # RFC 9449 §5.2: a JSON boolean
        raise _BadMetadata("invalid_client_metadata",
                           "dpop_bound_access_tokens must be a boolean")
    return ClientSpec(
        name_fa=name_fa, name_en=name_en, client_type=client_type,
        redirect_uris=_strings(body, "redirect_uris"),
        post_logout_redirect_uris=_strings(body, "post_logout_redirect_uris"),
        backchannel_logout_uri=_string(body, "backchannel_logout_uri"),
        grant_types=grant_types, scope=_string(body, "scope") or "openid",
        token_endpoint_auth_method=method, jwks=jwks, jwks_uri=_string(body, "jwks_uri"),
        id_token_signed_response_alg=_string(body, "id_token_signed_response_alg") or (
            "ES256" if profile == "fapi2" else "RS256"),
        # RFC 9701 §6: the client asks for signed introspection answers by registering this.
        introspection_signed_response_alg=_string(body, "introspection_signed_response_alg"),
        authorization_signed_response_alg=_string(body, "authorization_signed_response_alg"),
        profile=profile,
        subject_type=_string(body, "subject_type") or "public",
        logo_uri=_string(body, "logo_uri"), require_pushed_authorization_requests=require_par,
        request_object_signing_alg=_string(body, "request_object_signing_alg"),
        dpop_bound_access_tokens=dpop_bound,
        # OIDC Registration §2; values must be among ACR_LEVELS (rules.validate).
        default_acr_values=_strings(body, "default_acr_values"))


def client_metadata(client, registration_token: str, secret: str | None = None) -> dict:
    """The client information response (RFC 7591 §3.2.1, RFC 7592 §3)."""
    data = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name_fa, "client_name#fa": client.name_fa,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types, "response_types": client.response_types,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": client.scope,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "subject_type": client.subject_type,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "dpop_bound_access_tokens": bool(client.dpop_bound_access_tokens),
        "registration_access_token": registration_token,
        "registration_client_uri": settings.current().issuer + f"{PATH}/{client.client_id}",
    }
    if client.name_en:
        data["client_name#en"] = client.name_en
    if client.default_acr_values:
        data["default_acr_values"] = list(client.default_acr_values)
    for name in ("logo_uri", "jwks_uri", "backchannel_logout_uri", "request_object_signing_alg",
                 "introspection_signed_response_alg", "authorization_signed_response_alg",
                 "profile"):
        if getattr(client, name):
            data[name] = getattr(client, name)
    if client.jwks:
        data["jwks"] = public_jwks(client.jwks)
    if client.secret_hash:
        data["client_secret_expires_at"] = 0  # never
    if secret:
        data["client_secret"] = secret
    return data


def _domain_error(error: DomainError):
    kind = "invalid_redirect_uri" if error.field in REDIRECT_FIELDS else "invalid_client_metadata"
    return _error(kind, f"{error.field or 'metadata'}: {error.code}")


@bp.before_request
def _only_when_enabled():
    if not dcr.enabled():
        abort(404)


@bp.post(PATH)
def register():
    """RFC 7591 §3.1: register a client with an initial access token."""
    token = _bearer()
    try:
        spec = spec_from_metadata(_json_body())
        client, secret, registration_token = dcr.register(spec, token, ip=request.remote_addr)
    except _BadMetadata as e:
        return _error(e.error, e.description)
    except DomainError as e:
        if e.code == "iat_invalid":
            dcr.refuse("missing_initial_token" if token is None else "bad_initial_token",
                       ip=request.remote_addr)
            return _invalid_token("initial access token missing, unknown, expired or used up")
        return _domain_error(e)
    return _answer(client_metadata(client, registration_token, secret), 201)


def _managed(client_id: str):
    try:
        return dcr.authorize(client_id, _bearer())
    except DomainError:
        dcr.refuse("bad_registration_token", ip=request.remote_addr, client_id=client_id)
        return None


@bp.get(f"{PATH}/<client_id>")
def read(client_id):
    """RFC 7592 §2.1: the client's current metadata (and a new registration token)."""
    client = _managed(client_id)
    if client is None:
        return _invalid_token("registration access token invalid for this client")
    return _answer(client_metadata(client, dcr.new_registration_token(client)))


@bp.put(f"{PATH}/<client_id>")
def update(client_id):
    """RFC 7592 §2.2: replace the client's metadata; omitted members are cleared."""
    client = _managed(client_id)
    if client is None:
        return _invalid_token("registration access token invalid for this client")
    body = _json_body()
    if not isinstance(body, dict) or body.get("client_id") != client_id:
        return _error("invalid_client_metadata", "client_id must be the client's own")
    if "client_secret" in body and not (isinstance(body["client_secret"], str)
                                        and secret_matches(client, body["client_secret"])):
        return _error("invalid_client_metadata", "client_secret does not match")
    try:
        spec = spec_from_metadata(body)
        if spec.client_type != client.client_type:
            raise DomainError("client_type_immutable", field="token_endpoint_auth_method")
        client, secret = dcr.replace(client_id, _bearer(), spec, ip=request.remote_addr)
    except _BadMetadata as e:
        return _error(e.error, e.description)
    except DomainError as e:
        return _domain_error(e)
    return _answer(client_metadata(client, dcr.new_registration_token(client), secret))


@bp.delete(f"{PATH}/<client_id>")
def delete(client_id):
    """RFC 7592 §2.3: remove the client with its tokens and consents."""
    if _managed(client_id) is None:
        return _invalid_token("registration access token invalid for this client")
    dcr.remove(client_id, _bearer(), ip=request.remote_addr)
    return _answer(None, 204)


def init_app(app) -> None:
    csrf.exempt(bp)  # bearer-authenticated JSON: no cookie, no CSRF
    app.register_blueprint(bp)
