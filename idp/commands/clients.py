"""``flask clients``: register and list client applications (portals).

Each command that changes a client is one unit of work (:mod:`idp.unit_of_work`).
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..clients import service as clients_service
from ..clients.spec import ClientSpec
from ..errors import DomainError
from ..unit_of_work import unit_of_work
from .output import echo_json, failure

clients_cli = AppGroup("clients", help="Client applications (portals).")


@clients_cli.command("create")
@click.option("--name", required=True, help="Name shown to citizens (Persian).")
@click.option("--name-en", default="")
@click.option("--type", "client_type", type=click.Choice(["confidential", "public", "service"]),
              default="confidential", show_default=True,
              help="confidential: a server with a secret or key; public: SPA/mobile app "
                   "(PKCE, no secret); service: client credentials only.")
@click.option("--client-id", default=None, help="Fix the client_id (default: random).")
@click.option("--redirect-uri", multiple=True, help="Exact redirect URI (repeatable).")
@click.option("--post-logout-redirect-uri", multiple=True,
              help="Where RP-initiated logout may return (repeatable).")
@click.option("--grant-type", multiple=True,
              help="authorization_code, refresh_token, client_credentials (repeatable; "
                   "default: those of the type).")
@click.option("--scope", default="openid profile", show_default=True,
              help='Allowed scopes, e.g. "openid profile email phone national_id".')
@click.option("--auth-method", default=None,
              help="client_secret_basic (default), client_secret_post, private_key_jwt, "
                   "none (public clients).")
@click.option("--jwks", "jwks_file", type=click.File("r"), default=None,
              help="JSON file with the client's public JWKS (private_key_jwt).")
@click.option("--jwks-uri", default=None, help="Where the client publishes its JWKS.")
@click.option("--first-party", is_flag=True, help="Skip the consent page (our own portals).")
@click.option("--pairwise", is_flag=True, help="Give this client pairwise subjects.")
@click.option("--sector-identifier", default=None, help="Pairwise sector (default: the "
              "redirect URIs' host).")
@click.option("--resource-server", is_flag=True, help="May introspect any token.")
@click.option("--resource-uri", default=None,
              help="RFC 8707 resource identifier of a resource server (access token aud).")
@click.option("--backchannel-logout-uri", default=None)
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default=None,
              help="Default RS256; ES256 with --profile fapi2.")
@click.option("--introspection-alg", type=click.Choice(["RS256", "ES256"]), default=None,
              help="Sign introspection answers asked for as JWTs (RFC 9701).")
@click.option("--authorization-alg", type=click.Choice(["RS256", "ES256"]), default=None,
              help="Sign JARM authorization responses with this (default RS256).")
@click.option("--profile", type=click.Choice(["fapi2"]), default=None,
              help="Hold the client to the FAPI 2.0 Security Profile (docs/FAPI2.md).")
@click.option("--access-token-ttl", type=int, default=None,
              help="Seconds; default OIDC_ACCESS_TOKEN_TTL.")
@click.option("--refresh-token-ttl", type=int, default=None,
              help="Seconds; default OIDC_REFRESH_TOKEN_TTL.")
@click.option("--logo-uri", default=None)
@click.option("--require-par", is_flag=True,
              help="Accept authorization requests only through /par (RFC 9126).")
@click.option("--request-object-alg", type=click.Choice(["RS256", "PS256", "ES256"]),
              default=None, help="Require request objects signed with this algorithm "
                                 "(RFC 9101; needs --jwks or --jwks-uri).")
@click.option("--dpop-bound-access-tokens", "dpop_bound", is_flag=True,
              help="Require a DPoP proof at every token request (RFC 9449).")
@click.option("--acr", multiple=True,
              help="Default acr value, asked for when a request names none (repeatable; "
                   "one of ACR_LEVELS).")
@click.option("--minimum-acr", default=None,
              help="The lowest assurance level every sign-in for this client reaches.")
@click.option("--json", "as_json", is_flag=True,
              help="Print client_id, client_secret and the stored metadata as JSON.")
def clients_create(name, name_en, client_type, client_id, redirect_uri, post_logout_redirect_uri,
                   grant_type, scope, auth_method, jwks_file, jwks_uri, first_party, pairwise,
                   sector_identifier, resource_server, resource_uri, backchannel_logout_uri,
                   id_token_alg, introspection_alg, authorization_alg, profile, access_token_ttl,
                   refresh_token_ttl, logo_uri, require_par, request_object_alg, dpop_bound,
                   acr, minimum_acr,
                   as_json):
    """Register a client; its secret is printed this once."""
    try:
        jwks = json.load(jwks_file) if jwks_file else None
    except ValueError as e:
        raise click.BadParameter("not a JSON file", param_hint="--jwks") from e
    spec = ClientSpec(
        name_fa=name, name_en=name_en, client_type=client_type, client_id=client_id,
        redirect_uris=list(redirect_uri), post_logout_redirect_uris=list(post_logout_redirect_uri),
        grant_types=list(grant_type), scope=scope, token_endpoint_auth_method=auth_method,
        jwks=jwks, jwks_uri=jwks_uri, first_party=first_party,
        is_resource_server=resource_server, resource_uri=resource_uri,
        subject_type="pairwise" if pairwise else "public",
        sector_identifier=sector_identifier, backchannel_logout_uri=backchannel_logout_uri,
        id_token_signed_response_alg=id_token_alg or ("ES256" if profile else "RS256"),
        introspection_signed_response_alg=introspection_alg,
        authorization_signed_response_alg=authorization_alg, profile=profile,
        access_token_ttl=access_token_ttl, refresh_token_ttl=refresh_token_ttl,
        logo_uri=logo_uri, require_pushed_authorization_requests=require_par,
        request_object_signing_alg=request_object_alg, dpop_bound_access_tokens=dpop_bound,
        default_acr_values=list(acr), minimum_acr=minimum_acr)
    try:
        with unit_of_work():
            client, secret = clients_service.register_client(spec)
    except DomainError as e:
        raise failure(e) from e
    data = {**clients_service.client_summary(client), "client_secret": secret}
    if as_json:
        echo_json(data)
    else:
        click.echo(f"client_id:     {client.client_id}")
        click.echo(f"client_secret: {secret or '(none)'}  <- shown only now")


@clients_cli.command("list")
@click.option("--search", default="", help="Only clients whose id or name contains this.")
@click.option("--json", "as_json", is_flag=True)
def clients_list(search, as_json):
    """Print every client: id, type, state and name."""
    clients = clients_service.list_clients(search)
    if as_json:
        echo_json([clients_service.client_summary(c) for c in clients])
        return
    for client in clients:
        state = "enabled" if client.enabled else "disabled"
        click.echo(f"{client.client_id}  {client.client_type}  {state}  {client.name_fa}")


# --- show / update / rotate-secret / disable / enable / delete (administration, issue 6) ---

def _echo_client(client, secret=None, as_json=False) -> None:
    data = clients_service.client_summary(client)
    if as_json:
        echo_json({**data, "client_secret": secret} if secret else data)
        return
    for name, value in data.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
        click.echo(f"{name}: {shown}")
    if secret:
        click.echo(f"client_secret: {secret}  <- shown only now")


@clients_cli.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def clients_show(client_id, as_json):
    """Print the metadata of CLIENT_ID (never its secret: it is not stored)."""
    try:
        client = clients_service.get_client(client_id)
    except DomainError as e:
        raise failure(e) from e
    _echo_client(client, as_json=as_json)


def _uris(values):
    """A repeated URI option; one empty value clears the list."""
    return [v for v in values if v.strip()]


def _optional(value):
    return value.strip() or None


@clients_cli.command("update")
@click.argument("client_id")
@click.option("--name", default=None, help="Name shown to citizens (Persian).")
@click.option("--name-en", default=None)
@click.option("--logo-uri", default=None, help='Logo URL ("" removes it).')
@click.option("--redirect-uri", multiple=True, help="Replaces the list (repeatable).")
@click.option("--post-logout-redirect-uri", multiple=True,
              help='Replaces the list (repeatable; "" clears it).')
@click.option("--backchannel-logout-uri", default=None, help='"" removes it.')
@click.option("--grant-type", multiple=True, help="Replaces the list (repeatable).")
@click.option("--scope", default=None)
@click.option("--auth-method", default=None)
@click.option("--jwks-uri", default=None, help='"" removes it.')
@click.option("--jwks", "--jwks-file", "jwks_file", type=click.File(), default=None,
              help="JWK Set (JSON) file.")
@click.option("--first-party/--third-party", default=None)
@click.option("--pairwise/--public-subject", default=None)
@click.option("--sector-identifier", default=None)
@click.option("--resource-server/--no-resource-server", default=None)
@click.option("--resource-uri", default=None, help='RFC 8707 resource identifier ("" removes it).')
@click.option("--id-token-alg", default=None)
@click.option("--introspection-alg", default=None,
              help='RS256 or ES256: sign introspection JWTs (RFC 9701; "" stops it).')
@click.option("--authorization-alg", default=None,
              help='RS256 or ES256: sign JARM responses ("" for the default).')
@click.option("--profile", default=None, help='fapi2 ("" removes the profile).')
@click.option("--access-token-ttl", type=int, default=None, help="Seconds (0: IdP default).")
@click.option("--refresh-token-ttl", type=int, default=None, help="Seconds (0: IdP default).")
@click.option("--require-par/--no-require-par", default=None,
              help="Accept authorization requests only through /par (RFC 9126).")
@click.option("--request-object-alg", default=None,
              help='Require request objects signed with RS256, PS256 or ES256 ("" removes it).')
@click.option("--dpop-bound-access-tokens/--no-dpop-bound-access-tokens", "dpop_bound",
              default=None, help="Require a DPoP proof at every token request (RFC 9449).")
@click.option("--acr", multiple=True,
              help='Replaces the default acr values (repeatable; "" clears them).')
@click.option("--minimum-acr", default=None, help='Lowest assurance level ("" removes it).')
@click.option("--json", "as_json", is_flag=True)
def clients_update(client_id, name, name_en, logo_uri, redirect_uri, post_logout_redirect_uri,
                   backchannel_logout_uri, grant_type, scope, auth_method, jwks_uri, jwks_file,
                   first_party, pairwise, sector_identifier, resource_server, resource_uri,
                   id_token_alg, introspection_alg, authorization_alg, profile, access_token_ttl,
                   refresh_token_ttl, require_par, request_object_alg, dpop_bound, acr,
                   minimum_acr, as_json):
    """Change the options given; everything else stays as it is."""
    changes = {
        "name_fa": name, "name_en": name_en, "scope": scope,
        "token_endpoint_auth_method": auth_method, "first_party": first_party,
        "is_resource_server": resource_server, "id_token_signed_response_alg": id_token_alg,
        "require_pushed_authorization_requests": require_par,
        "dpop_bound_access_tokens": dpop_bound,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    for key, value in (("logo_uri", logo_uri), ("backchannel_logout_uri", backchannel_logout_uri),
                       ("jwks_uri", jwks_uri), ("sector_identifier", sector_identifier),
                       ("resource_uri", resource_uri),
                       ("request_object_signing_alg", request_object_alg),
                       ("introspection_signed_response_alg", introspection_alg),
                       ("authorization_signed_response_alg", authorization_alg),
                       ("profile", profile), ("minimum_acr", minimum_acr)):
        if value is not None:
            changes[key] = _optional(value)
    for key, values in (("redirect_uris", redirect_uri),
                        ("post_logout_redirect_uris", post_logout_redirect_uri),
                        ("grant_types", grant_type), ("default_acr_values", acr)):
        if values:
            changes[key] = _uris(values)
    if jwks_file is not None:
        try:
            changes["jwks"] = json.load(jwks_file)
        except ValueError as e:
            raise click.ClickException(f"--jwks-file is not JSON: {e}") from e
    if pairwise is not None:
        changes["subject_type"] = "pairwise" if pairwise else "public"
    for key, value in (("access_token_ttl", access_token_ttl),
                       ("refresh_token_ttl", refresh_token_ttl)):
        if value is not None:
            changes[key] = value or None
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    try:
        with unit_of_work():
            client, secret = clients_service.update_client(client_id, changes)
    except DomainError as e:
        raise failure(e) from e
    _echo_client(client, secret, as_json)


@clients_cli.command("rotate-secret")
@click.argument("client_id")
@click.option("--grace", type=int, default=None,
              help="Seconds the old secret keeps working (default CLIENT_SECRET_GRACE_PERIOD).")
@click.option("--json", "as_json", is_flag=True)
def clients_rotate_secret(client_id, grace, as_json):
    """Give CLIENT_ID a new secret (printed this once)."""
    try:
        with unit_of_work():
            client, secret = clients_service.rotate_secret(client_id, grace=grace)
    except DomainError as e:
        raise failure(e) from e
    expiry = clients_service.client_summary(client)["previous_secret_expires_at"]
    if as_json:
        echo_json({"client_id": client.client_id, "client_secret": secret,
                    "previous_secret_expires_at": expiry})
        return
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"client_secret: {secret}  <- shown only now")
    click.echo(f"old secret valid until: {expiry}" if expiry else "old secret: no longer valid")


def _set_enabled(client_id, enabled, as_json):
    try:
        with unit_of_work():
            client = clients_service.set_enabled(client_id, enabled)
    except DomainError as e:
        raise failure(e) from e
    if as_json:
        echo_json({"client_id": client.client_id, "enabled": client.enabled})
    else:
        click.echo(f"{client.client_id} {'enabled' if client.enabled else 'disabled'}")


@clients_cli.command("disable")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def clients_disable(client_id, as_json):
    """Refuse CLIENT_ID at once: no sign-in, tokens inactive, userinfo refused."""
    _set_enabled(client_id, False, as_json)


@clients_cli.command("enable")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def clients_enable(client_id, as_json):
    """Let a disabled CLIENT_ID work again."""
    _set_enabled(client_id, True, as_json)


@clients_cli.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
def clients_delete(client_id, yes, as_json):
    """Delete CLIENT_ID with its tokens and consents (cannot be undone)."""
    if not yes:
        click.confirm(f"Delete {client_id} with all its tokens and consents?", abort=True)
    try:
        with unit_of_work():
            clients_service.delete_client(client_id)
    except DomainError as e:
        raise failure(e) from e
    if as_json:
        echo_json({"client_id": client_id, "deleted": True})
    else:
        click.echo(f"deleted {client_id}")
