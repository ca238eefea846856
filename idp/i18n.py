"""Interface languages: Persian (default, right-to-left) and English (Flask-Babel).

The language comes from the request (``?lang=en`` on any page, or the OIDC
``ui_locales`` parameter a portal sends, first supported tag wins), is remembered in a
small ``idp_lang`` cookie, and falls back to Persian. Persian text is the source
(msgid) of every message; English catalogs live in ``translations/en/LC_MESSAGES/`` as
one ``.po`` file per package (domain) and are compiled into the instance folder at start,
so no binary catalog is committed and none can drift from its source.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import has_request_context, request
from flask_babel import Babel, refresh
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import JSON_PREFIXES
from .settings import PROJECT_ROOT
from .text import fa_digits

SUPPORTED = ("fa", "en")
DEFAULT = "fa"
COOKIE = "idp_lang"
SOURCE_DIR = PROJECT_ROOT / "translations"
# Protocol endpoints, probes and static files answer programs or carry no text.
NO_LANGUAGE_PREFIXES = (*JSON_PREFIXES, "/static/")


def _requested() -> str | None:
    """The first supported language the request asks for, if any."""
    try:
        wanted = request.args.get("lang") or request.values.get("ui_locales") or ""
    except RequestEntityTooLarge:  # the 413 page still needs a language: the query's
        wanted = request.args.get("lang") or request.args.get("ui_locales") or ""
    for tag in wanted.replace(",", " ").split():
        language = tag.split("-")[0].lower()
        if language in SUPPORTED:
            return language
    return None


def current_locale() -> str:
    """The language of this request's pages: ``"fa"`` or ``"en"``.

    Kept in the WSGI environ, which lives exactly as long as the request (``g`` belongs
    to the app context, which can outlive a request).
    """
    if not has_request_context():
        return DEFAULT
    environ = request.environ
    if "idp.locale" not in environ:
        requested = _requested()
        cookie = request.cookies.get(COOKIE)
        environ["idp.locale_chosen"] = requested
        environ["idp.locale"] = requested or (cookie if cookie in SUPPORTED else DEFAULT)
    return environ["idp.locale"]


def _for_people() -> bool:
    # No language, no cookie and no Babel work where nobody reads the text.
    return not request.path.startswith(NO_LANGUAGE_PREFIXES)


def _start_request() -> None:
    if _for_people():
        refresh()


def _remember_choice(response):
    if not _for_people():
        return response
    # Also for responses that rendered no text (a redirect from /authorize with ui_locales).
    current_locale()
    chosen = request.environ.get("idp.locale_chosen")
    if chosen and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


def compile_catalogs(target: Path) -> list[str]:
    """Compile every ``translations/<lang>/LC_MESSAGES/<domain>.po`` into ``target``.

    A catalog is rewritten only when its source is newer; the write is atomic, so app
    instances starting together never read half a file. Returns the domain names.
    """
    domains = []
    for po in sorted(SOURCE_DIR.glob("*/LC_MESSAGES/*.po")):
        domains.append(po.stem)
        mo = target / po.relative_to(SOURCE_DIR).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        tmp = mo.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
    return sorted(set(domains)) or ["messages"]


def direction() -> str:
    return "rtl" if current_locale() == "fa" else "ltr"


def switch_language_url(language: str) -> str:
    """This page's URL in ``language``, keeping its other query parameters (``next``…)."""
    args = request.args.to_dict(flat=False)
    args.pop("ui_locales", None)
    args["lang"] = [language]
    return f"{request.path}?{urlencode(args, doseq=True)}"


def localized_digits(value: object) -> str:
    """Template filter ``fa_digits``: Persian digits on Persian pages, ASCII on English ones."""
    return str(value) if current_locale() == "en" else fa_digits(value)


def init_app(app) -> None:
    target = Path(app.instance_path) / "translations"
    domains = compile_catalogs(target)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Tehran"
    app.config["BABEL_DOMAIN"] = ";".join(domains)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([str(target)] * len(domains))
    Babel(app, locale_selector=current_locale)
    # Flask-Babel caches the locale on ``g``; an app context may serve several requests
    # (CLI, tests), so start each request from its own choice.
    app.before_request(_start_request)
    app.after_request(_remember_choice)
    app.jinja_env.globals.update(current_locale=current_locale, text_direction=direction,
                                 switch_language_url=switch_language_url)
    app.jinja_env.filters["fa_digits"] = localized_digits
