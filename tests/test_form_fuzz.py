"""Every form, fuzzed: arbitrary text (NUL, bidi marks, non-BMP, huge) posted with a valid
CSRF token, anonymously, as a signed-in citizen and as an administrator, never gets a 5xx.

Hypothesis runs a fixed number of derandomized examples per form, without a deadline.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .factories import make_portal, make_user
from .test_hostile_input import HOSTILE

FUZZ = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
_CHARS = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be sent
TEXT = st.one_of(
    st.text(_CHARS, max_size=30),
    st.sampled_from(sorted(HOSTILE.values())),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),  # controls
    st.text(st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF,
                          exclude_categories=("Cs",)), min_size=1, max_size=5),  # non-BMP
    st.builds(lambda c, n: c * n, _CHARS, st.sampled_from([129, 4097, 20_000, 70_000])),
)

#: (who, path, fields): who is "anonymous", "citizen", "registration" or "admin".
FORMS = [
    ("anonymous", "/login", ["id_code", "password"]),
    ("anonymous", "/login/new-password", ["new_password", "confirm"]),
    ("anonymous", "/recover", ["id_code", "method"]),
    ("anonymous", "/recover/code", ["code"]),
    ("anonymous", "/recover/password", ["new_password", "confirm"]),
    ("anonymous", "/register", ["id_type", "next"]),
    ("registration", "/register/step/1", ["id_code", "mobile", "action"]),
    ("registration", "/register/restart", []),
    ("citizen", "/account/email", ["email"]),
    ("citizen", "/account/password", ["current_password", "new_password", "confirm"]),
    ("citizen", "/account/mobile", ["mobile", "password"]),
    ("citizen", "/account/mobile/verify", ["code"]),
    ("citizen", "/account/sessions/end", ["sid"]),
    ("citizen", "/account/consents/revoke", ["client_id"]),
    ("citizen", "/authorize/consent", ["key", "approve", "deny"]),
    ("citizen", "/logout", ["id_token_hint", "client_id", "post_logout_redirect_uri",
                            "state", "ui_locales", "confirm"]),
    ("admin", "/admin/clients/new", [
        "name_fa", "name_en", "logo_uri", "client_type", "redirect_uris",
        "post_logout_redirect_uris", "backchannel_logout_uri", "grant_types", "scope",
        "token_endpoint_auth_method", "jwks", "jwks_uri", "id_token_signed_response_alg",
        "first_party", "subject_type", "sector_identifier", "is_resource_server",
        "resource_uri", "access_token_ttl", "refresh_token_ttl"]),
    ("admin", "/admin/clients/{client}/edit", ["name_fa", "redirect_uris", "scope", "jwks",
                                               "access_token_ttl", "subject_type"]),
    ("admin", "/admin/clients/{client}/rotate-secret", ["grace_hours"]),
    ("admin", "/admin/registration-tokens", ["label", "ttl_hours", "max_uses"]),
    ("admin", "/admin/users/{user}/lock", []),
    ("admin", "/admin/verify", ["code"]),
]
#: Forms read from the query string (GET).
SEARCHES = [
    ("/admin/users", ["q"]),
    ("/admin/audit", ["event", "user_code", "client_id", "date_from", "date_to", "page"]),
    ("/admin/audit.csv", ["event", "user_code", "client_id", "date_from", "date_to"]),
    ("/admin/clients", ["q"]),
]
CSRF_EXEMPT = {"/logout"}  # RP-initiated logout is cross-site by design (idp.oidc.views)
ANSWERS_400 = {"/authorize/consent"}  # no parked request: the 400 error page
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def browser(app, client, oidc, auth):
    """Return a function that prepares ``client`` as ``who`` (CSRF switched on after)."""

    def prepare(who: str) -> dict:
        names = {}
        if who == "citizen":
            rp, _ = make_portal()
            names["client"] = rp.client_id
            oidc.sign_in(make_user())
        elif who == "admin":
            admin = auth.admin_session()
            names.update(client=make_portal()[0].client_id, user=make_user().id)
            assert admin is not None
        app.config["WTF_CSRF_ENABLED"] = True  # a framework key, not a setting
        page = client.get("/register" if who == "registration" else "/login?lang=fa")
        names["csrf"] = CSRF_RE.search(page.get_data(as_text=True))[1]
        if who == "registration":
            client.post("/register", data={"id_type": "national", "csrf_token": names["csrf"]})
        return names

    return prepare


@pytest.mark.parametrize(("who", "path", "fields"), FORMS,
                         ids=[f"{who}:{path}" for who, path, _ in FORMS])
def test_no_form_answers_5xx(client, browser, who, path, fields):
    """Arbitrary text in every field of the form, with a valid CSRF token → never a 5xx."""
    names = browser(who)
    url = path.format(**names)

    @FUZZ
    @given(values=st.fixed_dictionaries({name: TEXT for name in fields}))
    def post(values):
        response = client.post(url, data={**values, "csrf_token": names["csrf"]})
        assert response.status_code < 500, (url, response.status_code)

    # The token is accepted (a refused one would make every example a 400 page).
    if path not in CSRF_EXEMPT:
        assert client.post(url, data={}).status_code == 400
        if path not in ANSWERS_400:
            assert client.post(url, data={"csrf_token": names["csrf"]}).status_code != 400
    post()


@pytest.mark.parametrize(("path", "fields"), SEARCHES, ids=[p for p, _ in SEARCHES])
def test_no_search_answers_5xx(client, browser, path, fields):
    """Arbitrary text in the query of each admin search or filter → never a 5xx."""
    browser("admin")

    @FUZZ
    @given(values=st.fixed_dictionaries({name: TEXT for name in fields}))
    def search(values):
        response = client.get(path, query_string=values)
        assert response.status_code < 500, (path, response.status_code)

    search()
