"""What every form page shares: the text of a :class:`DomainError` and its place on a form.

The account, admin and registration views turn a service's error into a message next
to the field it names, or above the form when the form has no such field.
"""

from __future__ import annotations

from .errors import DomainError
from .i18n import localized_digits
from .messages import message


def error_text(error: DomainError) -> str:
    """Return the message of ``error`` in the page's language, numbers in its digits.

    Only scalar parameters fill the message; lists (the broken ``codes`` of
    ``password_rules``, the ``fields`` of a registry mismatch) are for the caller.
    """
    params = {k: localized_digits(v) for k, v in error.params.items()
              if isinstance(v, int | str)}
    return message(error.code, **params)


def form_error(form, error: DomainError, field: str | None = None) -> None:
    """Show ``error`` next to ``field`` (default: the error's own) when the form has it,
    else above the form. ``password_rules`` shows one message per broken rule.
    """
    texts = ([message(code) for code in error.params["codes"]] if "codes" in error.params
             else [error_text(error)])
    add_error(form, field or error.field, *texts)


def add_error(form, field: str | None, *texts: str) -> None:
    """Append ``texts`` to the errors of ``form.<field>``, or to the form's own errors."""
    target = getattr(form, field, None) if field else None
    if target is None:
        form.form_errors.extend(texts)
    else:
        target.errors = [*target.errors, *texts]
