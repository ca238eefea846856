"""Administration: client applications, citizen support, the audit log and DCR tokens.

Pages live under ``/admin`` and need an admin account that passed the TOTP step in
this session. Operators use the same services from ``flask clients …`` and
``flask users grant-admin|revoke-admin``.
"""

from __future__ import annotations


def init_app(app) -> None:
    from ..i18n import localized_digits
    from ..text import mask_mobile
    from . import client_views, support_views, views  # noqa: F401  (routes on one blueprint)
    from .audit_log import format_datetime
    from .guard import bp

    def jalali_datetime(moment):
        """Jalali Tehran time, in the digits of the page's language."""
        return localized_digits(format_datetime(moment, persian_digits=False))

    app.jinja_env.filters["jalali_datetime"] = jalali_datetime
    app.jinja_env.filters["mask_mobile"] = mask_mobile
    app.register_blueprint(bp)
