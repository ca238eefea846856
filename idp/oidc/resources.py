"""Resource indicators (RFC 8707): which resource servers an access token is for.

A resource server is a client with ``is_resource_server`` and a registered
``resource_uri``; a portal names it with the repeatable ``resource`` parameter at the
authorization and token endpoints, and the access token's ``aud`` becomes that URI.
Without ``resource`` the ``aud`` stays the client's own ``client_id``.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from sqlalchemy import select

from ..extensions import db
from ..models import Client


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, unknown or not allowed."""

    error = "invalid_target"
    description = "The requested resource is invalid, unknown or not allowed."


def requested(values) -> list[str]:
    """The non-empty ``resource`` values of a request, once each, in order."""
    if isinstance(values, str):
        values = [values]
    return list(dict.fromkeys(v for v in values or [] if v))


def check(values: list[str]) -> list[str]:
    """Return ``values`` when each is the ``resource_uri`` of an enabled resource server.

    :raises InvalidTargetError: otherwise.
    """
    if not values:
        return values
    known = set(db.session.scalars(select(Client.resource_uri).where(
        Client.resource_uri.in_(values), Client.is_resource_server.is_(True),
        Client.enabled.is_(True))))
    if set(values) - known:
        raise InvalidTargetError()
    return values


def narrow(values: list[str], granted: list[str] | None, *, widen: bool = True) -> list | None:
    """Return the resources a token is issued for: ``values`` (checked) within ``granted``.

    No ``values`` means everything ``granted``. A value outside a non-empty ``granted``
    is refused, and so is any value when ``widen`` is false and nothing was granted (a
    refresh never widens its grant).

    :raises InvalidTargetError: for an unknown resource or one outside the grant.
    """
    if not values:
        return list(granted) if granted else None
    check(values)
    if (granted or not widen) and not set(values) <= set(granted or []):
        raise InvalidTargetError("The resource was not granted in the authorization.")
    return values

