"""Operator commands (``flask <group> …``), one module per group. They call services only."""

from __future__ import annotations

from .clients import clients_cli
from .demo import demo_cli
from .keys import keys_cli
from .registry import registry_cli
from .users import users_cli

GROUPS = (keys_cli, registry_cli, clients_cli, demo_cli, users_cli)


def init_app(app) -> None:
    for group in GROUPS:
        app.cli.add_command(group)
