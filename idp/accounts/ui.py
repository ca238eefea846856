"""Helpers the account views share: the text of a DomainError, errors onto a form."""

from __future__ import annotations

from ..errors import DomainError
from ..i18n import localized_digits
from ..messages import message


def error_text(error: DomainError) -> str:
    """Return the message of ``error`` in the page's language, numbers in its digits."""
    params = {k: localized_digits(v) for k, v in error.params.items() if k != "codes"}
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
