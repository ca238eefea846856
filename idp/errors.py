"""Domain errors and the error pages: Persian HTML for people, JSON for protocol callers."""

from __future__ import annotations

from flask import abort, current_app, jsonify, render_template, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from .text import mask_personal_numbers

# Paths whose callers are programs: they get RFC 6749-style JSON errors.
JSON_PREFIXES = ("/oauth/", "/userinfo", "/connect/", "/.well-known/", "/jwks.json",
                 "/openapi.json", "/healthz", "/readyz")
#: Seconds a client is asked to wait (``Retry-After``) while the database is unreachable.
DATABASE_RETRY_AFTER = 30


class DomainError(Exception):
    """A rule of the domain was broken; ``code`` keys the Persian message in ``messages``."""

    def __init__(self, code: str, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def handle_http_error(error: HTTPException):
    if _wants_json():
        # 413: RFC 6749 §5.2 has no code for a body too large; it is a malformed request.
        body = {"error": "invalid_request" if error.code in (400, 413) else "server_error"
                if error.code >= 500 else (error.name or "error").lower().replace(" ", "_"),
                "error_description": error.description}
        return jsonify(body), error.code
    return render_template("errors/error.html", status=error.code), error.code


def database_unreachable(error: Exception) -> bool:
    """Whether ``error`` means the database cannot be reached or its connection was lost
    (refused, terminated, a pool timeout), rather than a bug in a statement."""
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError
                      | sa_exc.TimeoutError | sa_exc.DisconnectionError) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


def handle_database_error(error: sa_exc.SQLAlchemyError):
    """Answer 503 with ``Retry-After`` while the database is unreachable, logging one line
    (the driver's reason, never the statement or its parameters) and no traceback."""
    if not database_unreachable(error):
        return handle_unexpected(error)
    reason = getattr(error, "orig", None) or error
    first_line = (str(reason).strip().splitlines() or [""])[0]
    current_app.logger.error("database unavailable on %s %s: %s: %s", request.method,
                             request.path, type(reason).__name__,
                             mask_personal_numbers(first_line))
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER), "Cache-Control": "no-store"}
    if _wants_json():
        return jsonify(error="temporarily_unavailable"), 503, headers
    return render_template("errors/error.html", status=503), 503, headers


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error on %s", request.path)
    if _wants_json():
        return jsonify(error="server_error"), 500
    return render_template("errors/error.html", status=500), 500


def refuse_nul() -> None:
    """Answer 400 to a query or form value holding NUL: no input needs one, and PostgreSQL
    text cannot store it (a query with one fails). ``/authorize`` checks its own
    parameters, to answer the client by redirect (``idp.oidc.authorize``)."""
    if request.path == "/authorize":
        return
    sources = [request.args, *([request.form] if request.mimetype in _FORM_TYPES else [])]
    if any("\x00" in value for source in sources for _, value in source.items(multi=True)):
        abort(400)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_app(app) -> None:
    app.before_request(refuse_nul)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.SQLAlchemyError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
