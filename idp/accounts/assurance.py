"""Assurance levels: what a session's authentication methods (``amr``) are worth.

Two levels, named by ``ACR_LEVELS`` (default ``urn:idp:loa:1`` and ``urn:idp:loa:2``):

1. one factor: a password, or a passkey without user verification;
2. two factors (``"mfa"`` in ``amr``: a password and an authenticator-app code), or a
   passkey with user verification (``"hwk"`` or ``"swk"`` with ``"user"``, RFC 8176).

An SMS code is not a second factor here: it proves the mobile number, which a SIM swap
takes over, and recovery by SMS sets the password it is paired with. :func:`acr_of` is
the one place a session's ``acr`` comes from (``session.login_user``, ``raise_session``,
the ID token); levels are ordered, so a level-2 session satisfies a level-1 request.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from .. import settings
from ..extensions import db
from ..models import Passkey, User
from ..security import totp

#: The requirement a step-up names for a second factor (``steps.step_up(required=…)``).
SECOND_FACTOR = "mfa"


def names() -> tuple[str, ...]:
    """The ``acr`` value of each level, lowest first (``ACR_LEVELS``)."""
    return settings.current().acr_levels


def level_of(amr) -> int:
    """Return the level (1 or 2) that the methods ``amr`` reach."""
    methods = set(amr or ())
    if "mfa" in methods or ({"hwk", "swk"} & methods and "user" in methods):
        return 2
    return 1


def acr_of(amr) -> str:
    """Return the ``acr`` value of the level that ``amr`` reaches."""
    return names()[level_of(amr) - 1]


def level_named(acr: str | None) -> int | None:
    """Return the level an ``acr`` value names, or ``None`` for a value not ours."""
    levels = names()
    return levels.index(acr) + 1 if acr in levels else None


def lowest_level(values) -> int | None:
    """Return the lowest level among ``acr`` values (unknown ones left out), or ``None``."""
    known = [level for level in map(level_named, values or ()) if level is not None]
    return min(known) if known else None


def second_factors(user: User) -> list[str]:
    """The second factors ``user`` can give now, the app first (empty: none enrolled)."""
    factors = ["totp"] if totp.is_enrolled(user) else []
    has_passkey = db.session.scalar(select(exists().where(Passkey.user_id == user.id)))
    return [*factors, "passkey"] if has_passkey else factors


def second_factor_due(ctx) -> bool:
    """Tell whether the citizen's sign-in or step-up ``ctx`` must give a second factor
    now: below level 2, with a factor enrolled, and asked for by the target (``"mfa"``
    in ``ctx.required``) or, at a sign-in, by the citizen ("always ask")."""
    if ctx.user is None or level_of(ctx.amr) >= 2:
        return False
    # The cheap conditions first: the factors cost a query, asked only when one is wanted.
    wanted = ctx.user.always_second_factor if ctx.session is None else (
        SECOND_FACTOR in ctx.required)
    return bool(wanted) and bool(second_factors(ctx.user))


def asks_second_factor(user: User) -> bool:
    """Tell whether ``user`` asked for the second factor at every sign-in (and has one)."""
    return bool(user.always_second_factor and second_factors(user))
