"""Protocol routes. Each view delegates; discovery and JWKS are precomputed bytes."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..extensions import now

bp = Blueprint("oidc", __name__)


def keystore():
    return current_app.extensions["idp.keys"]


@bp.get("/.well-known/openid-configuration")
def discovery():
    response = Response(current_app.extensions["idp.discovery"], mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["OIDC_JWKS_MAX_AGE"]
    response.headers["Access-Control-Allow-Origin"] = "*"
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
    response.cache_control.max_age = current_app.config["OIDC_JWKS_MAX_AGE"]
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
