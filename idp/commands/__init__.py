"""Operator commands (``flask <group> …``), one module per group. They call services only."""

from __future__ import annotations

from . import (
    admins,  # noqa: F401  (adds grant-admin/revoke-admin to the users group)
    initial_tokens,  # noqa: F401  (adds initial-token to the clients group)
)
from .clients import clients_cli
from .demo import demo_cli
from .keys import keys_cli
from .mail import mail_cli
from .maintenance import maintenance_cli
from .oidc import oidc_cli
from .registry import registry_cli
from .sms import sms_cli
from .users import users_cli

GROUPS = (keys_cli, registry_cli, sms_cli, mail_cli, clients_cli, demo_cli, users_cli, oidc_cli,
          maintenance_cli)


def init_app(app) -> None:
    for group in GROUPS:
        app.cli.add_command(group)
