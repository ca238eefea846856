"""Protocol routes. Each view delegates; discovery and JWKS are precomputed bytes.

CSRF: token, pushed authorization requests (``/par``), revocation, introspection and
UserInfo are client-authenticated back channels and exempt. ``/authorize`` and
``/logout`` are cross-site by design (the relying party's page sends the browser there,
by GET or by an auto-submitted POST);
they never act on the citizen's behalf without either a consent form or a valid
``id_token_hint``, and those forms (consent, logout confirmation) carry CSRF tokens.
"""

from __future__ import annotations

from typing import assert_never

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from .. import settings
from ..extensions import csrf, now
from ..messages import message
from ..security.headers import content_security_policy, image_origin
from . import authorize as authorize_service
from . import logout as logout_service
from .authorize import (
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
from .forms import CancelForm, ConsentForm, LogoutForm
from .server import oauth_server

bp = Blueprint("oidc", __name__)

_CORS_ENDPOINTS = {"oidc.discovery", "oidc.jwks", "oidc.openapi", "oidc.token", "oidc.userinfo",
                   "oidc.revoke"}


def keystore():
    return current_app.extensions["idp.keys"]


@bp.get("/.well-known/openid-configuration")
def discovery():
    response = Response(current_app.extensions["idp.discovery"], mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = settings.current().oidc_jwks_max_age
    return response


@bp.get("/jwks.json")
def jwks():
    body, etag = keystore().public_jwks(now())
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/jwk-set+json")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = settings.current().oidc_jwks_max_age
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of the JSON endpoints (``idp.oidc.openapi``)."""
    response = Response(current_app.extensions["idp.openapi"], mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = settings.current().oidc_jwks_max_age
    return response


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
def authorize():
    return _answer(authorize_service.start())


@bp.post("/par")
@csrf.exempt  # RFC 9126: a client-authenticated back channel, like the token endpoint
def par():
    return authorize_service.push()


@bp.get("/authorize/resume")
def resume():
    return _answer(authorize_service.resume(request.args.get("key")))


@bp.route("/authorize/consent", methods=["GET", "POST"])
def consent():
    form = ConsentForm()
    if form.validate_on_submit():
        return _answer(authorize_service.decide(form.key.data, approved=bool(form.approve.data),
                                                ip=request.remote_addr))
    return _answer(authorize_service.consent_page(request.values.get("key")), form)


@bp.post("/authorize/cancel")
def cancel():
    """Give up the step-up of a parked request: the portal gets
    ``unmet_authentication_requirements`` (the form's key, or ``?key=``)."""
    form = CancelForm()
    if not form.validate_on_submit():
        return _error_page("oidc_bad_request")
    key = form.key.data or request.args.get("key")
    return _answer(authorize_service.cancel(key, ip=request.remote_addr))


@bp.post("/oauth/token")
@csrf.exempt
def token():
    return oauth_server().create_token_response()


@bp.post("/oauth/revoke")
@csrf.exempt
def revoke():
    return oauth_server().create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
@csrf.exempt
def introspect():
    return oauth_server().create_endpoint_response("introspection")


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    return oauth_server().create_endpoint_response("userinfo")


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt
def logout():
    form = LogoutForm()
    confirmed = request.method == "POST" and "confirm" in request.form and form.validate()
    outcome = logout_service.rp_logout(confirmed)
    if isinstance(outcome, logout_service.ConfirmLogout):
        form = LogoutForm(formdata=None, data=outcome.fields)
        return _page(render_template("oidc/logout_confirm.html", form=form,
                                     client=outcome.client))
    if isinstance(outcome, logout_service.SignedOut):
        return _page(render_template("oidc/logged_out.html", client=outcome.client))
    if isinstance(outcome, logout_service.LogoutError):
        return _error_page(outcome.code)
    return outcome


def _answer(outcome: AuthorizeOutcome, form: ConsentForm | None = None) -> Response:
    """Turn an authorization outcome into the browser's response."""
    match outcome:
        case ClientResponse(response=response):
            return response
        case LoginRedirect(key=key, login_hint=login_hint):
            return redirect(url_for("accounts.login", next=url_for("oidc.resume", key=key),
                                    login_hint=login_hint))
        case RegisterRedirect(key=key):
            return redirect(url_for("registration.start", next=url_for("oidc.resume", key=key)))
        case ConsentRedirect(key=key):
            return redirect(url_for("oidc.consent", key=key))
        case ConsentPage(key=key, client=client, scopes=scopes, offline=offline):
            form = form or ConsentForm()
            form.key.data = key
            # The portal's logo is its own image: the consent page alone allows its origin.
            logo_origin = image_origin(client.logo_uri)
            response = _page(render_template(
                "oidc/consent.html", form=form, client=client, scopes=scopes, offline=offline,
                logo_uri=client.logo_uri if logo_origin else None))
            if logo_origin:
                response.headers["Content-Security-Policy"] = content_security_policy(
                    settings.current(), (logo_origin,))
            return response
        case StepUpRedirect(key=key):
            return redirect(url_for("accounts.second_factor_step",
                                    next=url_for("oidc.resume", key=key),
                                    cancel=url_for("oidc.cancel", key=key)))
        case SecondFactorMissing(key=key, client=client):
            form = CancelForm(formdata=None, key=key)
            resume_url = url_for("oidc.resume", key=key)
            return _page(render_template(
                "oidc/second_factor_missing.html", form=form, client=client,
                enrol_url=url_for("accounts.enrol_second_factor", next=resume_url)))
        case ErrorPage(code=code, status=status):
            return _error_page(code, status)
        case _:
            assert_never(outcome)


def _error_page(code: str, status: int = 400):
    return _page(render_template("oidc/error.html", text=message(code), status=status), status)


def _page(body: str, status: int = 200) -> Response:
    # Never framed nor cached: security.headers adds CSP frame-ancestors and no-store.
    return Response(body, status=status, mimetype="text/html")


@bp.after_request
def _cors(response):
    # Bearer/JSON endpoints used by browser apps; no cookies are involved, so "*" is safe.
    if request.endpoint in _CORS_ENDPOINTS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        # RFC 9449: browser apps send DPoP proofs and read the nonce and the challenge.
        response.headers["Access-Control-Expose-Headers"] = "DPoP-Nonce, WWW-Authenticate"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Headers"] = \
                "Authorization, Content-Type, DPoP"
            response.headers["Access-Control-Max-Age"] = "600"
    return response
