"""What the sign-in steps decide on: one :class:`Context` per request of a sign-in."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...models import PendingAuthentication, SsoSession, User


@dataclass
class Context:
    """Who is signing in, what is done so far and what the target asks for.

    A sign-in starts anonymous; the password step sets ``user``. A step-up starts from an
    existing SSO session (``session``), with the session's ``amr`` and ``acr``.
    """

    next_url: str | None  # a checked same-site path to return to
    home: str  # where to return without ``next_url``
    user: User | None = None
    amr: list[str] = field(default_factory=list)
    acr: str | None = None
    done: list[str] = field(default_factory=list)
    #: What the target needs beyond a sign-in: ``"admin"``, a second factor in this session.
    required: frozenset[str] = frozenset()
    session: SsoSession | None = None
    #: The stored sign-in, once it waited for another page (never for a step-up).
    record: PendingAuthentication | None = None

    @property
    def target(self) -> str:
        return self.next_url or self.home

    def add(self, step) -> None:
        """Mark ``step`` done and add its authentication methods to ``amr``."""
        self.done.append(step.NAME)
        new = [m for m in step.AMR if m not in self.amr]
        # RFC 8176 §2: "mfa" once a method joins another one already used.
        mfa = ["mfa"] if new and self.amr and "mfa" not in self.amr else []
        self.amr = [*self.amr, *new, *mfa]
