"""The authorization endpoint's decisions, step by step (OIDC Core §3.1.2).

0. a pushed request (``request_uri``, RFC 9126) or a request object (``request``, RFC
   9101) replaces the query's parameters: only the pushed or signed ones are used
   (``push`` handles the PAR endpoint itself, with the checks of steps 1 and 2);
1. client and redirect URI: an unknown client or an unregistered URI gets an error
   page and never a redirect (RFC 6749 §4.1.2.1);
2. the protocol checks (Authlib: response type, scope, PKCE, nonce; here: prompt,
   max_age, claims, id_token_hint) answer by redirect;
3. sign-in: no session, ``prompt=login``, ``max_age`` exceeded or a hint for someone
   else → the request is parked server-side and the browser goes to ``/login``;
   ``prompt=create`` (Initiating User Registration via OpenID Connect 1.0) → parked too,
   and the browser goes to the registration wizard, which signs the new citizen in;
4. assurance: a session below the level the request needs (the client's minimum, the
   level asked by ``acr_values`` or an ``acr`` claim, else the client's default; see
   :func:`idp.oidc.levels.required_level`) is raised by the missing step only: the
   browser goes to the second-factor page, or to a page telling how to add one;
   ``prompt=none`` or giving up answers ``unmet_authentication_requirements``;
5. consent: first-party clients skip it; others need a stored consent covering the
   scopes or see the consent page;
6. a code is issued, bound to the SSO session.

Every public function returns an :data:`AuthorizeOutcome`; the view maps each kind to
a response (a page, a redirect, or Authlib's answer for the client). Each runs in one
unit of work: the parked request, the consent, the code and the dropped request commit
together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authlib.consts import default_json_headers
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc9101.errors import RequestUriNotSupportedError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Response, request

from .. import audit
from ..accounts import assurance
from ..accounts.session import current_session, current_user
from ..extensions import now
from ..grants import consents
from ..unit_of_work import set_rollback_only, transactional, unit_of_work
from . import claims as claims_mod
from . import dpop, jarm, levels, metadata, par, request_object, resources, storage, tokens
from .errors import UnmetAuthenticationRequirementsError
from .grants import AUTH_METHODS
from .outcomes import (  # noqa: F401  (the outcome kinds are part of this module's answer)
    AuthorizeOutcome,
    ClientResponse,
    ConsentPage,
    ConsentRedirect,
    ErrorPage,
    LoginRedirect,
    RegisterRedirect,
    SecondFactorMissing,
    StepUpRedirect,
)
from .server import oauth_server

#: The parameters kept when a request is parked; anything else is ignored.
PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt",
          "max_age", "login_hint", "ui_locales", "acr_values", "id_token_hint", "claims",
          "code_challenge", "code_challenge_method", "response_mode", "display", "request",
          "request_uri", "dpop_jkt")
#: The largest ``max_age`` accepted (seconds, about 68 years); larger is invalid_request.
MAX_AGE_MAX = 2**31 - 1
#: The longest value of any authorization parameter (an id_token_hint is ~1-2 KB).
PARAM_MAX = 8192
#: Parameters that may repeat, kept as lists (RFC 8707 ``resource``).
LIST_PARAMS = ("resource",)


@dataclass
class Checked:
    """A request that passed every protocol check."""

    client: storage.OAuthClient
    grant: AuthorizationCodeGrant
    prompts: set[str]
    max_age: int | None
    claims_request: dict | None
    hint: dict | None  # the claims of a valid id_token_hint
    scope: set[str]
    resources: list[str] = field(default_factory=list)  # RFC 8707, checked
    level: int = 1  # the assurance level the sign-in must reach (required_level)
    params: dict = field(default_factory=dict)  # the request's parameters, to park it


@transactional
def start() -> AuthorizeOutcome:
    """Handle ``/authorize`` (GET or POST)."""
    params = _params_of(request.values)
    if "request" not in params and "request_uri" not in params:
        client = _client_of(params)
        if client is not None and (refused := _unpushed_refused(client, params)):
            return _respond(refused, params)
        return _respond(_run(params, None, None), params)
    resolved = _resolve(params)
    if not isinstance(resolved, dict):
        return _respond(resolved, params)
    return _respond(_run(resolved, None, None, live=False), resolved)


def push() -> Response:
    """Handle a pushed authorization request (RFC 9126 §2) at ``/par``.

    The client authenticates as at the token endpoint; the parameters (or the request
    object among them) are checked as ``/authorize`` checks them, and kept for
    :data:`par.URN_PREFIX` request_uri. Errors are JSON (§2.3): 400 with the
    authorization error's code, 401 ``invalid_client``; never a redirect.
    """
    server = oauth_server()
    oauth_request = server.create_oauth2_request(None)
    with unit_of_work():
        try:
            client = server.authenticate_client(oauth_request, AUTH_METHODS,
                                                "pushed_authorization_request")
            params = _pushed_params(client)
        except OAuth2Error as error:
            set_rollback_only()  # what must outlive it (an assertion's jti) is committed
            error.redirect_uri = error.state = None  # §2.3: answered to the client, as JSON
            return server.handle_error_response(oauth_request, error)
        request_uri, expires_in = par.store(client.client_id, params)
    return server.handle_response(201, {"request_uri": request_uri, "expires_in": expires_in},
                                  default_json_headers)


def _pushed_params(client) -> dict:
    """Return the checked parameters of the pushed request. Raises ``OAuth2Error``."""
    params = _params_of(request.form)  # RFC 9126 §2.1: a form body, not the query
    if params.get("client_id", client.client_id) != client.client_id:
        raise InvalidRequestError("client_id is not the authenticated client.")
    if "request_uri" in params:
        raise InvalidRequestError("request_uri cannot be pushed (RFC 9126 section 2.1).")
    if "request" in params:
        params = request_object.verify(params["request"], client)
    elif client.request_object_signing_alg:
        raise InvalidRequestError(
            "This client must send a signed request object (request parameter).")
    params["client_id"] = client.client_id
    _bind_pushed_dpop_key(params)
    redirect_uri = params.get("redirect_uri")
    if not isinstance(redirect_uri, str) or not client.check_redirect_uri(redirect_uri):
        raise InvalidRequestError("redirect_uri is missing or not registered for the client.")
    _check_oidc(params, client, oauth_server().get_consent_grant(params, end_user=None))
    return params


def _bind_pushed_dpop_key(params: dict) -> None:
    """RFC 9449 §10.1: a DPoP proof sent with the push binds the code to its key, as
    ``dpop_jkt`` would; with both, they must name the same key."""
    values = request.headers.getlist("DPoP")
    if not values:
        return
    try:
        proof = dpop.verify_proof(values, method="POST", path=metadata.PATHS[
            "pushed_authorization_request_endpoint"])
    except dpop.ProofError as e:
        raise e.at_token_endpoint() from e
    if params.setdefault("dpop_jkt", proof.jkt) != proof.jkt:
        raise dpop.InvalidDPoPProofError(
            description="dpop_jkt and the DPoP proof name different keys.")


def _params_of(values) -> dict:
    """The authorization parameters among ``values`` (a Werkzeug ``MultiDict``)."""
    # RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    params = {k: values[k] for k in PARAMS if values.get(k)}
    for name in LIST_PARAMS:
        if found := [v for v in values.getlist(name) if v]:
            params[name] = found
    return params


def _unpushed_refused(client, params: dict) -> ClientResponse | ErrorPage | None:
    """Refuse a plain request from a client that must push it or sign it."""
    if par.par_required(client):
        return _refuse(client, params, _par_required_error())
    if client.request_object_signing_alg:
        return _refuse(client, params, InvalidRequestError(
            "This client must send a signed request object (request parameter)."))
    return None


def _resolve(params: dict) -> dict | ClientResponse | ErrorPage:
    """Return the parameters a pushed request or a request object carries.

    RFC 9126 §4 and RFC 9101 §5: the query's other parameters are ignored, but its
    ``client_id`` must be the one the pushed request or the request object names.
    """
    if _has_nul(params.get("client_id")):
        return ErrorPage("oidc_bad_request")
    client = _client_of(params)
    if client is None:
        return ErrorPage("oidc_unknown_client")
    if "request" in params and "request_uri" in params:
        return _refuse(client, params, InvalidRequestError(
            "request and request_uri cannot be sent together."))
    if "request_uri" in params:
        if not par.is_pushed(params["request_uri"]):
            # Only this server's pushed requests: no request object fetched by reference.
            return _refuse(client, params, RequestUriNotSupportedError())
        pushed = par.consume(params["request_uri"], client.client_id)
        if pushed is None:  # invalid_request_uri; the query's redirect_uri is not trusted
            return ErrorPage("oidc_request_uri_invalid")
        return pushed
    if par.par_required(client):
        return _refuse(client, params, _par_required_error())
    try:
        inner = request_object.verify(params["request"], client)
    except OAuth2Error as error:
        return _refuse(client, params, error)
    return {**inner, "client_id": client.client_id}


def _client_of(params: dict):
    """The enabled client ``params`` names; ``None`` for an unknown one or a ``client_id``
    holding NUL (PostgreSQL text cannot hold it: ``_check`` answers that one)."""
    client_id = params.get("client_id")
    return None if _has_nul(client_id) else storage.find_client(client_id)


def _par_required_error() -> InvalidRequestError:
    return InvalidRequestError("This client must push its authorization requests (PAR, RFC 9126).")


def _refuse(client, params: dict, error: OAuth2Error) -> ClientResponse | ErrorPage:
    """Answer ``error`` at the query's ``redirect_uri`` when it is registered for
    ``client``, else with an error page (RFC 6749 §4.1.2.1)."""
    redirect_uri = params.get("redirect_uri")
    if not isinstance(redirect_uri, str) or not client.check_redirect_uri(redirect_uri):
        return ErrorPage("oidc_bad_request")
    error.redirect_uri, error.state = redirect_uri, params.get("state")
    server = oauth_server()
    source = {"client_id": client.client_id, "redirect_uri": redirect_uri}
    return ClientResponse(server.authorization_error(server.create_oauth2_request(source),
                                                     error))


@transactional
def resume(key: str | None) -> AuthorizeOutcome:
    """Continue a parked request after the citizen signed in."""
    pending = storage.load_pending(key)
    if pending is None:
        return ErrorPage("oidc_request_expired")
    return _respond(_run(pending.params, pending, key), pending.params)


@transactional
def consent_page(key: str | None) -> AuthorizeOutcome:
    """Return what the consent page shows (:class:`ConsentPage`), or where to go instead."""
    pending = storage.load_pending(key)
    if pending is None:
        return ErrorPage("oidc_request_expired")
    checked = _check(pending.params, pending)
    if not isinstance(checked, Checked):
        return _respond(checked, pending.params)
    user, session = _signed_in(checked, pending)
    if user is None:
        return _to_login(key, pending.params)
    if (below := _below_level(checked, user, session, pending, key)) is not None:
        return _respond(below, pending.params)
    return ConsentPage(key, checked.client.row, claims_mod.claims_by_scope(checked.scope),
                       "offline_access" in checked.scope)


@transactional
def decide(key: str | None, approved: bool, ip: str | None = None) -> AuthorizeOutcome:
    """Record the citizen's answer on the consent page and answer the client."""
    pending = storage.load_pending(key)
    if pending is None:
        return ErrorPage("oidc_request_expired")
    return _respond(_decide(key, pending, approved, ip), pending.params)


def _decide(key: str, pending, approved: bool, ip: str | None) -> AuthorizeOutcome:
    checked = _check(pending.params, pending)
    if not isinstance(checked, Checked):
        return checked
    # The consent form is no way around prompt=login, max_age or a blocked account.
    user, session = _signed_in(checked, pending)
    if user is None:
        return _to_login(key, pending.params)
    if (below := _below_level(checked, user, session, pending, key)) is not None:
        return below
    client_id = checked.client.client_id
    if not approved:
        storage.drop_pending(pending)
        audit.record("consent_denied", user_id=user.id, client_id=client_id, ip=ip)
        error = AccessDeniedError(redirect_uri=pending.params["redirect_uri"],
                                  state=pending.params.get("state"))
        return ClientResponse(oauth_server().authorization_error(checked.grant.request, error))
    consents.grant(user.id, client_id, checked.scope)
    return _issue(checked, user, session, pending)


def _respond(outcome: AuthorizeOutcome, params: dict) -> AuthorizeOutcome:
    """Wrap the answer for the client in a signed JWT when the request asked for a JARM
    ``response_mode`` (``idp.oidc.jarm``); every other outcome is unchanged."""
    mode = jarm.requested(params)
    if mode is None or not isinstance(outcome, ClientResponse) \
            or "Location" not in outcome.response.headers:
        return outcome
    client = storage.find_client(params.get("client_id"))
    return ClientResponse(jarm.wrap(outcome.response, client, mode, params["redirect_uri"]))


def _run(params: dict, pending, key: str | None, live: bool = True) -> AuthorizeOutcome:
    checked = _check(params, pending, live)
    if not isinstance(checked, Checked):
        return checked
    prompts = checked.prompts
    user, session = _signed_in(checked, pending)
    if user is None:
        if "none" in prompts:  # OIDC Core §3.1.2.1: prompt=none never shows a page
            return _error(checked, LoginRequiredError(), pending)
        key = key or storage.park(checked.client.client_id, params)
        if "create" in prompts:
            return RegisterRedirect(key)
        return _to_login(key, params)
    if (below := _below_level(checked, user, session, pending, key)) is not None:
        return below
    granted = checked.client.first_party or (
        "consent" not in prompts and consents.covers(user.id, checked.client.client_id,
                                                     checked.scope))
    if not granted:
        if "none" in prompts:
            return _error(checked, ConsentRequiredError(), pending)
        key = key or storage.park(checked.client.client_id, params)
        return ConsentRedirect(key)
    return _issue(checked, user, session, pending)


def _signed_in(checked: Checked, pending):
    """Return ``(user, session)`` when the SSO session satisfies the request, else
    ``(None, None)``: an active citizen, the one ``id_token_hint`` names, signed in
    recently enough for ``max_age`` and freshly for ``prompt=login``.
    """
    session, user = current_session(), current_user()
    if session is None or user is None or user.status != "active":
        return None, None
    # One account per browser: choosing an account means signing in again (Core §3.1.2.1).
    # prompt=create asks for a new account: only a sign-in after parking (the wizard's) counts.
    fresh = bool({"login", "select_account", "create"} & checked.prompts)
    if checked.hint and checked.hint.get("sub") != claims_mod.subject(user, checked.client):
        fresh = True  # the client expects someone else: sign in again
    # A sign-in that happened after this request was parked satisfies prompt=login and
    # max_age (even max_age=0, OIDC Core §3.1.2.1: then like prompt=login).
    fresh_since_parked = pending is not None and session.auth_time >= pending.created_at
    if fresh_since_parked:
        return user, session
    if fresh:
        return None, None
    if checked.max_age is not None \
            and (now() - session.auth_time).total_seconds() > checked.max_age:
        return None, None
    return user, session


@transactional
def cancel(key: str | None, ip: str | None = None) -> AuthorizeOutcome:
    """The citizen gave up the step-up of the request parked under ``key``: answer the
    client ``unmet_authentication_requirements``."""
    pending = storage.load_pending(key)
    if pending is None:
        return ErrorPage("oidc_request_expired")
    checked = _check(pending.params, pending)
    if not isinstance(checked, Checked):
        return checked
    user = current_user()
    audit.record("step_up_cancelled", user_id=user.id if user else None,
                 client_id=checked.client.client_id, ip=ip)
    return _error(checked, UnmetAuthenticationRequirementsError(), pending)


def _below_level(checked: Checked, user, session, pending, key: str | None):
    """Return where to go when ``session`` is below the level the request needs, else
    ``None``: the second factor (the request parked), the page telling how to add one,
    or ``unmet_authentication_requirements`` for ``prompt=none``."""
    if assurance.level_of(session.amr) >= checked.level:
        return None
    if "none" in checked.prompts:
        return _error(checked, UnmetAuthenticationRequirementsError(), pending)
    key = key or storage.park(checked.client.client_id, checked.params)
    if not assurance.second_factors(user):
        return SecondFactorMissing(key, checked.client.row)
    return StepUpRedirect(key)


def _to_login(key: str, params: dict) -> LoginRedirect:
    return LoginRedirect(key, params.get("login_hint"))


def _issue(checked: Checked, user, session, pending) -> ClientResponse:
    grant = checked.grant
    grant.request.sso_session = session
    grant.request.claims_request = checked.claims_request
    grant.request.granted_scope = " ".join(_ordered(checked.scope))
    grant.request.resources = checked.resources
    response = oauth_server().create_authorization_response(
        request=grant.request, grant_user=user, grant=grant)
    storage.drop_pending(pending)
    return ClientResponse(response)


def _ordered(scopes: set) -> list:
    known = ["openid", *claims_mod.SCOPE_CLAIMS, "offline_access"]
    return sorted(scopes, key=lambda s: (known.index(s) if s in known else len(known), s))


def _error(checked: Checked, error: OAuth2Error, pending) -> ClientResponse:
    request_ = checked.grant.request
    error.redirect_uri = request_.payload.redirect_uri
    error.state = request_.payload.state
    storage.drop_pending(pending)
    return ClientResponse(oauth_server().authorization_error(request_, error))


def _check(params: dict, pending, live: bool = True) -> Checked | ErrorPage | ClientResponse:
    """Steps 1 and 2: return ``Checked``, an error page or an error redirect.

    ``live``: the parameters are the current Flask request's own (not parked, pushed or
    from a request object).
    """
    if _has_nul(params.get("client_id")) or _has_nul(params.get("redirect_uri")):
        return ErrorPage("oidc_bad_request")  # PostgreSQL text cannot hold NUL
    client = storage.find_client(params.get("client_id"))
    if client is None:
        return ErrorPage("oidc_unknown_client")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or not client.check_redirect_uri(redirect_uri):
        return ErrorPage("oidc_redirect_uri_mismatch")
    server = oauth_server()
    source = None if pending is None and live else params  # None: the live Flask request
    try:
        grant = server.get_consent_grant(source, end_user=None)
    except OAuth2Error as error:
        if not error.redirect_uri:
            return ErrorPage("oidc_bad_request")
        storage.drop_pending(pending)
        return ClientResponse(
            server.authorization_error(server.create_oauth2_request(source), error))
    try:
        checked = _check_oidc(params, client, grant)
    except OAuth2Error as error:
        error.redirect_uri, error.state = redirect_uri, params.get("state")
        storage.drop_pending(pending)
        return ClientResponse(server.authorization_error(grant.request, error))
    return checked


def _has_nul(value) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _check_oidc(params: dict, client, grant) -> Checked:
    """The OpenID parameters Authlib leaves to us. Raises ``OAuth2Error``."""
    if any(_has_nul(v) for v in params.values()):
        raise InvalidRequestError("Parameters must not contain NUL characters.")
    if any(len(v) > PARAM_MAX for v in params.values() if isinstance(v, str)):
        # A query string is not bounded by MAX_CONTENT_LENGTH; nothing this long is parked.
        raise InvalidRequestError(f"A parameter is longer than {PARAM_MAX} characters.")
    if "request" in params or "request_uri" in params:
        # Resolved before (_resolve); a parameter left over is not one to act on.
        raise InvalidRequestError("request and request_uri cannot be nested.")
    if params.get("response_mode", "query") not in ("query", *jarm.MODES):
        raise InvalidRequestError(
            "response_mode must be query, jwt, query.jwt, fragment.jwt or form_post.jwt.")
    if "dpop_jkt" in params and not dpop.valid_jkt(params["dpop_jkt"]):
        # RFC 9449 §10: the base64url SHA-256 JWK thumbprint of the client's DPoP key.
        raise InvalidRequestError("dpop_jkt must be a JWK SHA-256 thumbprint (base64url).")
    prompts = set(params.get("prompt", "").split())
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    max_age = params.get("max_age")
    if max_age is not None:
        text = str(max_age)
        # Bounded before int(): 4,301 digits would exceed Python's int-string limit.
        if not (text.isascii() and text.isdigit() and len(text) <= 10
                and int(text) <= MAX_AGE_MAX):
            raise InvalidRequestError(
                f"max_age must be an integer from 0 to {MAX_AGE_MAX} (seconds).")
        max_age = int(text)
    try:
        claims_request = claims_mod.parse_claims_request(params.get("claims"))
    except claims_mod.ClaimsRequestError as e:
        raise InvalidRequestError("The claims parameter is not valid JSON.") from e
    hint = None
    if params.get("id_token_hint"):
        try:
            _, hint = tokens.verify(params["id_token_hint"], check_exp=False)
        except tokens.TokenError as e:
            raise InvalidRequestError("id_token_hint is not a valid ID token of this issuer.") \
                from e
        audience = hint.get("aud")
        if client.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise InvalidRequestError("id_token_hint was issued to another client.")
    allowed = set(client.scope.split())
    scope = claims_mod.consent_scopes(set(grant.request.scope.split()), claims_request, allowed)
    targets = resources.check(resources.requested(params.get("resource")))
    level = levels.required_level(params, claims_request, client)
    return Checked(client, grant, prompts, max_age, claims_request, hint, scope, targets,
                   level, params)
