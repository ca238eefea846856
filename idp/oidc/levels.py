"""The assurance level an authorization request needs (OIDC Core §3.1.2.1 ``acr_values``,
§5.5.1.1 the ``acr`` claim request; OIDC Registration §2 ``default_acr_values``).

The levels themselves, and what a session's ``amr`` reaches, are
:mod:`idp.accounts.assurance`'s.
"""

from __future__ import annotations

from ..accounts import assurance
from . import claims as claims_mod
from .errors import UnmetAuthenticationRequirementsError


def required_level(params: dict, claims_request: dict | None, client) -> int:
    """Return the assurance level a request needs (1 or 2).

    The highest of the client's ``minimum_acr`` and what the request asks: the lowest
    of our levels named by an ``acr`` claim request's ``values`` (``claims`` parameter,
    OIDC Core §5.5.1.1), else by ``acr_values``, else by the client's
    ``default_acr_values``. Values that are not ours are left out.

    :raises UnmetAuthenticationRequirementsError: an essential ``acr`` claim names only
        values that are not ours.
    """
    values, essential = claims_mod.requested_acr(claims_request)
    asked = assurance.lowest_level(values)
    if asked is None and values and essential:
        raise UnmetAuthenticationRequirementsError(
            "None of the essential acr values is supported.")
    if asked is None:
        asked = assurance.lowest_level(str(params.get("acr_values", "")).split())
    if asked is None:
        asked = assurance.lowest_level(client.default_acr_values)
    return max(assurance.level_named(client.minimum_acr) or 1, asked or 1)
