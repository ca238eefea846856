"""Client applications: the metadata rules, secrets, rotation, disable/enable, delete, CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from idp.clients import credentials, rules, service
from idp.clients.spec import ClientSpec
from idp.errors import DomainError
from idp.extensions import db, now
from idp.messages import MESSAGES
from idp.models import (
    AccessToken,
    AuditEvent,
    AuthorizationCode,
    Client,
    Consent,
    PendingAuthorization,
    RefreshToken,
    TokenFamily,
)

from .factories import make_client, make_user

JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "k1"}]}

# (spec overrides, expected error code, expected field)
INVALID = [
    ({"name_fa": "  "}, "required", "name_fa"),
    ({"name_fa": "ن" * 201}, "name_too_long", "name_fa"),
    ({"client_type": "robot"}, "client_type_invalid", "client_type"),
    ({"redirect_uris": ["/callback"]}, "redirect_uri_invalid", "redirect_uris"),
    ({"redirect_uris": ["https://rp.example.ir/cb#top"]}, "redirect_uri_invalid",
     "redirect_uris"),
    ({"redirect_uris": ["https://*.example.ir/cb"]}, "redirect_uri_invalid", "redirect_uris"),
    ({"redirect_uris": ["https:///cb"]}, "redirect_uri_invalid", "redirect_uris"),
    ({"redirect_uris": ["http://rp.example.ir/cb"]}, "redirect_uri_not_https", "redirect_uris"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uri_invalid", "redirect_uris"),
    ({"redirect_uris": []}, "redirect_uri_required", "redirect_uris"),
    ({"post_logout_redirect_uris": ["https://rp.example.ir/#x"]}, "redirect_uri_invalid",
     "post_logout_redirect_uris"),
    ({"backchannel_logout_uri": "ir.example.app:/logout"}, "uri_not_web",
     "backchannel_logout_uri"),
    ({"backchannel_logout_uri": "http://rp.example.ir/logout"}, "redirect_uri_not_https",
     "backchannel_logout_uri"),
    ({"logo_uri": "http://cdn.example.ir/logo.png"}, "redirect_uri_not_https", "logo_uri"),
    ({"client_type": "public", "token_endpoint_auth_method": "client_secret_basic"},
     "auth_method_for_type", "token_endpoint_auth_method"),
    ({"client_type": "public", "token_endpoint_auth_method": "client_secret_post"},
     "auth_method_for_type", "token_endpoint_auth_method"),
    ({"token_endpoint_auth_method": "none"}, "auth_method_for_type",
     "token_endpoint_auth_method"),
    ({"token_endpoint_auth_method": "client_secret_jwt"}, "auth_method_invalid",
     "token_endpoint_auth_method"),
    ({"client_type": "public", "grant_types": ["client_credentials"]},
     "grant_type_not_allowed", "grant_types"),
    ({"client_type": "service", "redirect_uris": [], "grant_types": ["authorization_code"]},
     "grant_type_not_allowed", "grant_types"),
    ({"client_type": "service"}, "redirect_uri_not_allowed", "redirect_uris"),
    ({"grant_types": ["refresh_token"]}, "refresh_needs_code", "grant_types"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks_required", "jwks"),
    ({"token_endpoint_auth_method": "private_key_jwt", "jwks": JWKS,
      "jwks_uri": "https://rp.example.ir/jwks"}, "jwks_both", "jwks"),
    ({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}}, "jwks_invalid",
     "jwks"),
    ({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://rp.example.ir/k"},
     "redirect_uri_not_https", "jwks_uri"),
    ({"scope": "openid admin"}, "scope_invalid", "scope"),
    ({"scope": ""}, "scope_invalid", "scope"),
    ({"id_token_signed_response_alg": "HS256"}, "id_token_alg_invalid",
     "id_token_signed_response_alg"),
    ({"subject_type": "secret"}, "subject_type_invalid", "subject_type"),
    ({"subject_type": "pairwise", "redirect_uris": ["https://a.example.ir/cb",
                                                    "https://b.example.ir/cb"]},
     "sector_identifier_required", "sector_identifier"),
    ({"subject_type": "pairwise", "sector_identifier": "https://x.ir/"},
     "sector_identifier_invalid", "sector_identifier"),
    ({"access_token_ttl": 10}, "ttl_out_of_range", "access_token_ttl"),
    ({"refresh_token_ttl": 10**9}, "ttl_out_of_range", "refresh_token_ttl"),
]


def spec(**overrides) -> ClientSpec:
    values = {"name_fa": "پورتال", "redirect_uris": ["https://rp.example.ir/cb"]}
    values.update(overrides)
    return ClientSpec(**values)


@pytest.mark.parametrize(("overrides", "code", "field"), INVALID,
                         ids=[f"{c}-{i}" for i, (_, c, _f) in enumerate(INVALID)])
def test_invalid_metadata_is_refused_with_a_persian_message(app, overrides, code, field):
    """Each rule names the offending field and has a Persian message; nothing is stored."""
    with pytest.raises(DomainError) as caught:
        service.register_client(spec(**overrides))
    assert (caught.value.code, caught.value.field) == (code, field)
    assert code in MESSAGES
    assert db.session.scalar(select(func.count(Client.id))) == 0


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8000/cb", "http://localhost/cb",
                                 "http://[::1]:9000/cb", "ir.example.app:/oauth/cb",
                                 "https://rp.example.ir/cb?portal=1"])
def test_loopback_http_and_native_schemes_are_accepted(app, uri):
    """Native apps may use loopback http (RFC 8252 §7.3) or a reverse-DNS scheme (§7.1)."""
    client, _ = service.register_client(spec(client_type="public", redirect_uris=[uri]))
    assert client.redirect_uris == [uri]


def test_loopback_http_refused_when_setting_is_off(app, configure):
    configure(OIDC_ALLOW_HTTP_LOOPBACK=False)
    with pytest.raises(DomainError) as caught:
        rules.validate(spec(redirect_uris=["http://127.0.0.1:8000/cb"]))
    assert caught.value.code == "redirect_uri_not_https"


def test_type_defaults(app):
    """Each type gets its grants and auth method; machine clients get only client_credentials."""
    confidential = rules.validate(spec())
    assert confidential.grant_types == ["authorization_code", "refresh_token"]
    assert confidential.token_endpoint_auth_method == "client_secret_basic"
    public = rules.validate(spec(client_type="public"))
    assert public.token_endpoint_auth_method == "none"
    machine = rules.validate(spec(client_type="service", redirect_uris=[]))
    assert machine.grant_types == ["client_credentials"]


def test_pairwise_sector_defaults_to_the_redirect_host(app):
    client, _ = service.register_client(spec(subject_type="pairwise"))
    assert client.sector_identifier == "rp.example.ir"


def test_public_and_key_clients_get_no_secret(app):
    """Public clients cannot use secrets; private_key_jwt clients authenticate with keys."""
    public, secret = service.register_client(spec(client_type="public"))
    assert secret is None and public.secret_hash is None
    keyed, secret = service.register_client(spec(token_endpoint_auth_method="private_key_jwt",
                                                  jwks=JWKS))
    assert secret is None and keyed.secret_hash is None


def test_secret_is_256_bits_stored_only_as_keyed_hash(app, runner):
    """The secret is returned once; no column, summary or CLI output holds it afterwards."""
    client, secret = make_client()
    assert len(secret) >= 43  # 32 random bytes, base64url
    stored = db.session.execute(select(Client.__table__)).one()._asdict()
    assert secret not in json.dumps(stored, default=str)
    assert stored["secret_hash"] == credentials.hash_client_secret(secret) != secret
    assert secret not in json.dumps(service.client_summary(client))
    shown = runner.invoke(args=["clients", "show", client.client_id, "--json"])
    assert shown.exit_code == 0 and secret not in shown.output
    assert "client_secret" not in json.loads(shown.output)
    assert credentials.secret_matches(client, secret)
    assert not credentials.secret_matches(client, secret + "x")


def test_rotation_keeps_the_old_secret_for_the_grace_period(app, clock):
    client, old = make_client()
    client, new = service.rotate_secret(client.client_id, actor_id=None, grace=3600)
    assert new != old
    assert credentials.secret_matches(client, new) and credentials.secret_matches(client, old)
    clock.advance(3599)
    assert credentials.secret_matches(client, old)
    clock.advance(2)
    assert not credentials.secret_matches(client, old)
    assert credentials.secret_matches(client, new)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event ==
                                                       "client_secret_rotated"))
    assert event.client_id == client.client_id and event.data == {"grace": 3600}


def test_rotation_grace_defaults_to_the_setting_and_zero_ends_it(app, clock, configure):
    configure(CLIENT_SECRET_GRACE_PERIOD=60)
    client, first = make_client()
    client, second = service.rotate_secret(client.client_id)
    assert client.previous_secret_expires_at == now() + timedelta(seconds=60)
    client, third = service.rotate_secret(client.client_id, grace=0)
    assert not credentials.secret_matches(client, second)
    assert not credentials.secret_matches(client, first)
    assert credentials.secret_matches(client, third)


def test_rotation_refused_without_a_secret(app):
    client, _ = service.register_client(spec(client_type="public"))
    with pytest.raises(DomainError) as caught:
        service.rotate_secret(client.client_id)
    assert caught.value.code == "client_has_no_secret"


def test_update_changes_only_what_is_given(app):
    client, secret = make_client()
    client, new_secret = service.update_client(
        client.client_id, {"name_fa": "پورتال تازه", "first_party": True}, actor_id=None)
    assert new_secret is None and credentials.secret_matches(client, secret)
    assert client.name_fa == "پورتال تازه" and client.first_party
    assert client.redirect_uris == ["https://rp.example.ir/cb"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client_updated"))
    assert event.data == {"fields": ["first_party", "name_fa"]}


def test_update_validates_and_keeps_the_type(app):
    client, _ = make_client()
    with pytest.raises(DomainError) as caught:
        service.update_client(client.client_id, {"redirect_uris": ["http://rp.example.ir/"]})
    assert caught.value.code == "redirect_uri_not_https"
    with pytest.raises(DomainError) as caught:
        service.update_client(client.client_id, {"client_type": "public"})
    assert caught.value.code == "client_type_immutable"
    db.session.refresh(client)
    assert client.redirect_uris == ["https://rp.example.ir/cb"]


def test_update_between_secret_and_key_auth(app):
    """Moving to private_key_jwt drops the secrets; moving back makes a new one."""
    client, secret = make_client()
    client, none = service.update_client(client.client_id, {
        "token_endpoint_auth_method": "private_key_jwt", "jwks": JWKS})
    assert none is None and client.secret_hash is None
    assert not credentials.secret_matches(client, secret)
    client, fresh = service.update_client(client.client_id, {
        "token_endpoint_auth_method": "client_secret_post", "jwks": None})
    assert fresh and credentials.secret_matches(client, fresh)


def test_disable_and_enable_are_audited(app):
    client, _ = make_client()
    service.set_enabled(client.client_id, False, actor_id=None)
    assert db.session.get(Client, client.id).enabled is False
    service.set_enabled(client.client_id, True)
    events = db.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
    assert events[-2:] == ["client_disabled", "client_enabled"]


def _grant(client: Client, user) -> None:
    """Give ``user`` a code, a token family with tokens, a consent and a pending request."""
    moment = now()
    later = moment + timedelta(hours=1)
    code = AuthorizationCode(code_hash=f"c-{client.client_id}", client_id=client.client_id,
                             user_id=user.id, redirect_uri=client.redirect_uris[0],
                             scope="openid", auth_time=moment, expires_at=later)
    family = TokenFamily(client_id=client.client_id, user_id=user.id, scope="openid")
    db.session.add_all([code, family])
    db.session.flush()
    db.session.add_all([
        AccessToken(jti=f"j-{client.client_id}", family_id=family.id, expires_at=later),
        RefreshToken(family_id=family.id, token_hash=f"r-{client.client_id}", expires_at=later),
        Consent(user_id=user.id, client_id=client.client_id, scope="openid"),
        PendingAuthorization(key_hash=f"p-{client.client_id}", client_id=client.client_id,
                             params={}, expires_at=later),
    ])
    db.session.commit()


def test_delete_removes_the_client_with_its_tokens_and_consents(app):
    user = make_user()
    doomed, _ = make_client()
    kept, _ = make_client()
    _grant(doomed, user)
    _grant(kept, user)
    service.delete_client(doomed.client_id, actor_id=user.id)
    for model in (AuthorizationCode, TokenFamily, AccessToken, RefreshToken, Consent,
                  PendingAuthorization):
        assert db.session.scalar(select(func.count()).select_from(model)) == 1, model
    assert db.session.scalar(select(Client.client_id)) == kept.client_id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client_deleted"))
    assert event.actor_id == user.id and event.client_id == doomed.client_id


def test_list_searches_id_and_names(app):
    make_client(name_fa="پورتال بیمه", client_id="insurance")
    make_client(name_fa="پروفایل", name_en="Profile", client_id="profile")
    assert [c.client_id for c in service.list_clients("بیمه")] == ["insurance"]
    assert [c.client_id for c in service.list_clients("PROF")] == ["profile"]
    assert len(service.list_clients("")) == 2


# --- the CLI -------------------------------------------------------------------------------

def cli_json(runner, *args):
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_create_matches_the_service(app, runner):
    """``flask clients create`` gives the same client as the service called directly."""
    made = cli_json(runner, "clients", "create", "--name", "پورتال", "--client-id", "cli",
                    "--redirect-uri", "https://rp.example.ir/cb", "--scope", "openid email",
                    "--first-party", "--pairwise")
    direct, _ = service.register_client(spec(client_id="direct", scope="openid email",
                                              first_party=True, subject_type="pairwise"))
    assert made.pop("client_secret")
    expected = service.client_summary(direct)
    assert {**made, "client_id": "direct"} == expected


def test_cli_list_show_update_rotate_disable_enable_delete(app, runner, clock):
    client, secret = make_client(client_id="portal")
    assert [c["client_id"] for c in cli_json(runner, "clients", "list")] == ["portal"]
    assert cli_json(runner, "clients", "show", "portal")["name_fa"] == "پورتال آزمایشی"

    updated = cli_json(runner, "clients", "update", "portal", "--name", "پورتال نو",
                       "--redirect-uri", "https://rp.example.ir/a",
                       "--redirect-uri", "https://rp.example.ir/b", "--access-token-ttl", "600")
    assert updated["name_fa"] == "پورتال نو" and updated["access_token_ttl"] == 600
    assert updated["redirect_uris"] == ["https://rp.example.ir/a", "https://rp.example.ir/b"]

    rotated = cli_json(runner, "clients", "rotate-secret", "portal", "--grace", "120")
    client = db.session.get(Client, client.id)
    assert credentials.secret_matches(client, rotated["client_secret"])
    assert credentials.secret_matches(client, secret)  # within the grace period

    assert cli_json(runner, "clients", "disable", "portal") == {"client_id": "portal",
                                                                "enabled": False}
    assert cli_json(runner, "clients", "enable", "portal")["enabled"] is True
    assert cli_json(runner, "clients", "delete", "portal", "--yes")["deleted"] is True
    assert db.session.scalar(select(func.count(Client.id))) == 0


def test_cli_reports_errors_in_words(app, runner):
    make_client(client_id="portal")
    result = runner.invoke(args=["clients", "update", "portal", "--redirect-uri",
                                 "http://rp.example.ir/cb"])
    assert result.exit_code == 1
    assert "redirect_uri_not_https [redirect_uris]" in result.output
    assert MESSAGES["redirect_uri_not_https"] in result.output
    missing = runner.invoke(args=["clients", "show", "nobody"])
    assert missing.exit_code == 1 and "client_not_found" in missing.output
    nothing = runner.invoke(args=["clients", "update", "portal"])
    assert nothing.exit_code == 2


def test_cli_delete_asks_first(app, runner):
    make_client(client_id="portal")
    result = runner.invoke(args=["clients", "delete", "portal"], input="n\n")
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count(Client.id))) == 1


def test_generated_client_ids_are_hex(app):
    """Generated ids are 32 hex digits: safe as CLI arguments (never a leading "-")."""
    import re

    ids = {make_client()[0].client_id for _ in range(20)}
    assert len(ids) == 20 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


@pytest.mark.parametrize("client_id", ["-rm", "a b", "x" * 65, "پورتال", "a/b"])
def test_chosen_client_id_must_be_safe(app, client_id):
    with pytest.raises(DomainError) as excinfo:
        make_client(client_id=client_id)
    assert excinfo.value.code == "client_id_invalid"
