"""The CAPTCHA's image and audio (``/captcha/<id>.png|.wav``); forms show them past soft
limits (:mod:`idp.security.captcha`)."""

from __future__ import annotations

from flask import abort, request

from ..security import captcha
from .views import bp

_NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/captcha/<challenge>.png")
def captcha_image(challenge: str):
    """The challenge as an image; ``?new=1`` first gives it new digits ("a new image")."""
    if request.args.get("new") and not captcha.renew(challenge):
        abort(404)
    body = captcha.image(challenge)
    if body is None:
        abort(404)
    return body, 200, {**_NO_STORE, "Content-Type": "image/png"}


@bp.get("/captcha/<challenge>.wav")
def captcha_audio(challenge: str):
    """The same digits spoken one by one, for those who cannot see the image."""
    body = captcha.audio(challenge)
    if body is None:
        abort(404)
    return body, 200, {**_NO_STORE, "Content-Type": "audio/wav"}
