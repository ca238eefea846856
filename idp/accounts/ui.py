"""Helpers the account views share: Persian text for a DomainError, errors onto a form."""

from __future__ import annotations

from ..errors import DomainError
from ..messages import message
from ..text import fa_digits


def error_text(error: DomainError) -> str:
    """Return the Persian message of ``error``, its numbers in Persian digits."""
    params = {k: fa_digits(v) for k, v in error.params.items() if k != "codes"}
    return message(error.code, **params)


def form_error(form, error: DomainError) -> None:
    """Show ``error`` next to its field (every rule for ``password_rules``), else on top."""
    texts = ([message(c) for c in error.params["codes"]] if "codes" in error.params
             else [error_text(error)])
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.extend(texts)
    else:
        field.errors = [*field.errors, *texts]
