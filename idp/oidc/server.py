"""Wiring: one Authlib ``AuthorizationServer`` per app, in ``app.extensions["idp.oauth"]``."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import current_app
from flask import request as flask_request
from werkzeug.datastructures import MultiDict

from .. import settings
from ..settings import SettingsError
from ..unit_of_work import set_rollback_only, unit_of_work
from . import dpop, errors, grants, storage, tokens
from .endpoints import (
    EndSessionEndpoint,
    IntrospectionEndpoint,
    RevocationEndpoint,
    UserInfoEndpoint,
    make_protector,
)
from .metadata import PATHS, SCOPE_CLAIMS


class _IssuerRequest(OAuth2Request):
    """The current Flask request, its URL taken from ``ISSUER``.

    Behind a TLS-terminating proxy ``request.url`` may say ``http://``; Authlib would
    refuse that as insecure transport although the client used https.
    """

    def __init__(self, request):
        super().__init__(request.method, settings.current().issuer + request.full_path,
                         headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


class _StoredPayload(OAuth2Payload):
    def __init__(self, params: Mapping):
        self._data = MultiDict(params)

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return {k: self._data.getlist(k) for k in self._data}


class StoredRequest(OAuth2Request):
    """A parked authorization request, replayed after sign-in or consent."""

    def __init__(self, params: Mapping):
        super().__init__("GET", settings.current().issuer + "/authorize", headers={})
        self.payload = _StoredPayload(params)

    @property
    def args(self):
        return self.payload.data

    @property
    def form(self):
        return MultiDict()


class Issuer(IssuerParameter):
    """RFC 9207: ``iss`` in every authorization response, errors included."""

    def get_issuer(self):
        return settings.current().issuer


class IdpAuthorizationServer(AuthorizationServer):
    issuer_parameter = Issuer()

    def create_token_response(self, request=None):
        """Answer a token request as one unit of work: one commit when tokens are issued.

        An error answer rolls back whatever the request wrote (a used code, a rotated
        refresh token); what must outlive it (a replay's revocation, a client assertion's
        ``jti``) was committed on its own by a failure record.

        A ``DPoP`` header is verified first (RFC 9449 §5): the grants find the proof on
        the request as ``dpop_proof`` (``None`` without one) and bind what they issue.
        """
        oauth_request = self.create_oauth2_request(request)
        oauth_request.dpop_proof = None
        proofs = flask_request.headers.getlist(dpop.HEADER)
        if proofs:
            try:
                oauth_request.dpop_proof = dpop.verify_proof(
                    proofs, method=flask_request.method, path=PATHS["token_endpoint"])
            except dpop.ProofError as e:
                return self._with_nonce(self.handle_error_response(
                    oauth_request, e.at_token_endpoint()))
        with unit_of_work():
            response = super().create_token_response(oauth_request)
            if response.status_code != 200:
                set_rollback_only()
        return self._with_nonce(response) if proofs else response

    @staticmethod
    def _with_nonce(response):
        # RFC 9449 §8.2: a fresh nonce may ride on any answer; clients keep the newest.
        if settings.current().dpop_nonce_required:
            response.headers[dpop.NONCE_HEADER] = dpop.current_nonce()
        return response

    def load_config(self, config):
        self.register_token_generator("default", tokens.generate_token)
        self.scopes_supported = [*SCOPE_CLAIMS, "offline_access"]
        self._error_uris = None

    def create_oauth2_request(self, request):
        if isinstance(request, OAuth2Request):
            return request
        if isinstance(request, Mapping):
            return StoredRequest(request)
        return _IssuerRequest(flask_request)

    def get_authorization_grant(self, request):
        """Authlib's grant lookup, except that an unknown ``response_type`` is quoted
        safely in the error (Authlib echoes it raw, and a character RFC 6749 forbids in
        ``error_description`` made that a ``ValueError``)."""
        if not any(grant.check_authorization_endpoint(request)
                   for grant, _ in self._authorization_grants):
            # RFC 6749 §4.1.2.1: redirect only to a URI registered for a known client.
            client = self.query_client(request.payload.client_id or "")
            uri = request.payload.redirect_uri
            redirect_uri = None if client is None else (
                client.get_default_redirect_uri() if not uri
                else uri if client.check_redirect_uri(uri) else None)
            raise errors.unsupported_response_type(request.payload.response_type, redirect_uri)
        return super().get_authorization_grant(request)

    def authorization_error(self, request, error):
        """Answer an authorization request with ``error`` (a redirect carrying ``iss``)."""
        response = self.handle_error_response(request, error)
        self.issuer_parameter.add_issuer_parameter(self, response)
        return response


class _RedactIssuedTokens(logging.Filter):
    """Replace the token in Authlib's DEBUG "Issue token %r to %r" lines (the whole token
    response: access, refresh and ID tokens) with ``***``; never logged, at any level."""

    MESSAGES = frozenset({"Issue token %r to %r", "Grant token %r to %r"})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.MESSAGES and isinstance(record.args, tuple) and record.args:
            record.args = ("***", *record.args[1:])
        return True


def _redact_authlib_logs() -> None:
    # A logger's filters see only the records of that logger, not of its children, so
    # the filter goes on each Authlib module logger (they exist once Authlib is imported).
    redactor = _RedactIssuedTokens()
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("authlib.") and isinstance(logger, logging.Logger) and not any(
                isinstance(f, _RedactIssuedTokens) for f in logger.filters):
            logger.addFilter(redactor)


def init_app(app) -> None:
    """Build the app's authorization server: grants, client auth, endpoints.

    :raises SettingsError: when ``OIDC_ACCESS_TOKEN_ALG`` names no signing algorithm, or a
        DPoP period is not positive.
    """
    cfg = settings.of(app)
    if cfg.oidc_access_token_alg not in tokens.ALGORITHMS:
        raise SettingsError(f"OIDC_ACCESS_TOKEN_ALG must be one of {tokens.ALGORITHMS}")
    if cfg.dpop_iat_window <= 0 or cfg.dpop_nonce_lifetime <= 0:
        raise SettingsError("DPOP_IAT_WINDOW and DPOP_NONCE_LIFETIME must be positive")
    server = IdpAuthorizationServer()
    server.init_app(app, query_client=storage.find_client, save_token=tokens.save_token)
    server.register_extension(server.issuer_parameter)
    server.register_client_auth_method("client_secret_basic", errors.client_secret_basic)
    server.register_client_auth_method("private_key_jwt", grants.PrivateKeyJwt())
    server.register_grant(grants.AuthorizationCodeGrant,
                          [grants.PKCE(required=True), grants.OpenIDCode(require_nonce=False)])
    server.register_grant(grants.RefreshTokenGrant, [grants.RefreshIdToken()])
    server.register_grant(grants.ClientCredentialsGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(UserInfoEndpoint(resource_protector=make_protector()))
    server.register_endpoint(EndSessionEndpoint)
    app.extensions["idp.oauth"] = server
    _redact_authlib_logs()


def oauth_server() -> IdpAuthorizationServer:
    return current_app.extensions["idp.oauth"]
