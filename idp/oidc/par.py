"""Pushed authorization requests (RFC 9126): where they are kept and who must use them.

A client POSTs its authorization request to the PAR endpoint (``/par``), authenticated as
at the token endpoint; ``idp.oidc.authorize.push`` checks it as ``/authorize`` would and
:func:`store` keeps the checked parameters in the database (every instance of a cluster
sees them), under the SHA-256 of a random key. The client gets
``urn:ietf:params:oauth:request_uri:<key>``, valid ``PAR_EXPIRES_IN`` seconds, and sends
the browser to ``/authorize?client_id=…&request_uri=…``. :func:`consume` deletes the row
when ``/authorize`` first reads it, so a ``request_uri`` is used once; the sign-in and
consent round trip that may follow carries the parameters as any parked request.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from .. import settings
from ..extensions import db, now
from ..models import PushedAuthorizationRequest
from ..security.hashing import sha256
from . import fapi2

#: RFC 9126 §2.2: the request_uri is a URN of this form.
URN_PREFIX = "urn:ietf:params:oauth:request_uri:"


def par_required(client) -> bool:
    """Whether ``client`` may send authorization requests only through the PAR endpoint:
    ``REQUIRE_PAR`` for every client, its ``require_pushed_authorization_requests``, or
    the FAPI 2.0 profile (§5.3.1.2)."""
    return (settings.current().require_par or bool(client.require_pushed_authorization_requests)
            or fapi2.is_fapi2(client))


def is_pushed(request_uri: str) -> bool:
    """Whether ``request_uri`` has the form of one this server hands out (RFC 9126 §2.2)."""
    return request_uri.startswith(URN_PREFIX)


def store(client_id: str, params: dict) -> tuple[str, int]:
    """Keep checked authorization ``params`` for ``client_id``, in the current unit of work.

    Return the ``request_uri`` and its lifetime in seconds (``expires_in``).
    """
    key = secrets.token_urlsafe(32)
    lifetime = settings.current().par_expires_in
    moment = now()
    db.session.add(PushedAuthorizationRequest(
        key_hash=sha256(key), client_id=client_id, params=params, created_at=moment,
        expires_at=moment + timedelta(seconds=lifetime)))
    return URN_PREFIX + key, lifetime


def consume(request_uri: str, client_id: str) -> dict | None:
    """Take the parameters pushed under ``request_uri`` by ``client_id``; delete the row.

    ``None`` when it is unknown, expired, pushed by another client or taken already. The
    conditional DELETE decides: of two requests racing for one ``request_uri`` only the
    one that deleted the row gets its parameters.
    """
    if not is_pushed(request_uri):
        return None
    key_hash = sha256(request_uri[len(URN_PREFIX):])
    row = db.session.execute(select(PushedAuthorizationRequest.id,
                                    PushedAuthorizationRequest.params).where(
        PushedAuthorizationRequest.key_hash == key_hash,
        PushedAuthorizationRequest.client_id == client_id,
        PushedAuthorizationRequest.expires_at > now())).first()
    if row is None:
        return None
    deleted = db.session.execute(delete(PushedAuthorizationRequest).where(
        PushedAuthorizationRequest.id == row.id).execution_options(synchronize_session=False))
    return dict(row.params) if deleted.rowcount == 1 else None
