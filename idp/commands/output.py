"""How every ``flask`` command shows its result and a refused use case."""

from __future__ import annotations

import json

import click

from ..errors import DomainError
from ..messages import message


def echo_json(data) -> None:
    """Print ``data`` as indented JSON, Persian text left readable."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def failure(error: DomainError) -> click.ClickException:
    """The command's exit for a refused use case: its code, the field, and the message."""
    where = f" [{error.field}]" if error.field else ""
    return click.ClickException(f"{error.code}{where}: {message(error.code, **error.params)}")
