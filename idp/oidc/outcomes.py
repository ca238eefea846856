"""What an authorization step ends in (:data:`AuthorizeOutcome`): each kind is a small
frozen record that :mod:`idp.oidc.views` maps to a response (a page, a redirect, or
Authlib's answer for the client). The steps themselves are :mod:`idp.oidc.authorize`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Response

from ..models import Client


@dataclass(frozen=True)
class ClientResponse:
    """Authlib's answer for the client: a redirect carrying a code or an error."""

    response: Response


@dataclass(frozen=True)
class LoginRedirect:
    """The request is parked under ``key``; the browser signs in, then resumes it."""

    key: str
    login_hint: str | None = None


@dataclass(frozen=True)
class RegisterRedirect:
    """The request is parked under ``key``; the browser registers (``prompt=create``),
    is signed in by the wizard, then resumes it."""

    key: str


@dataclass(frozen=True)
class ConsentRedirect:
    """The request is parked under ``key``; the browser goes to the consent page."""

    key: str


@dataclass(frozen=True)
class ConsentPage:
    """What the consent page shows for the request parked under ``key``."""

    key: str
    client: Client
    scopes: list[tuple[str, list[str]]] = field(default_factory=list)  # (scope, its claims)
    offline: bool = False  # offline_access: the portal keeps access after sign-out


@dataclass(frozen=True)
class StepUpRedirect:
    """The request is parked under ``key``; the browser gives the second factor, then
    resumes it."""

    key: str


@dataclass(frozen=True)
class SecondFactorMissing:
    """The request needs a second factor the citizen has not enrolled: a page tells how
    to add one (then resume ``key``) or to give up (the portal is told)."""

    key: str
    client: Client


@dataclass(frozen=True)
class ErrorPage:
    """A Persian error page; the browser is not sent back to the client."""

    code: str
    status: int = 400


#: Everything an authorization step can end in.
AuthorizeOutcome = (ClientResponse | LoginRedirect | RegisterRedirect | ConsentRedirect
                    | ConsentPage | StepUpRedirect | SecondFactorMissing | ErrorPage)
