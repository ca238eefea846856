"""Administration: client applications, citizen support, the audit log and DCR tokens.

Pages live under ``/admin`` and need an admin account that passed the TOTP step in
this session. Operators use the same services from ``flask clients …`` and
``flask users grant-admin|revoke-admin``.
"""

from __future__ import annotations


def init_app(app) -> None:
    from ..text import mask_mobile
    from . import client_views, support_views, views  # noqa: F401  (routes on one blueprint)
    from .audit_log import format_datetime
    from .guard import bp

    app.jinja_env.filters["jalali_datetime"] = format_datetime
    app.jinja_env.filters["mask_mobile"] = mask_mobile
    app.register_blueprint(bp)
