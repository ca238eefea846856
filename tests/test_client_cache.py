"""The per-process client cache: how fast a client change is seen, here and elsewhere.

A second app on the same database stands for another server process: it has a cache of
its own and learns of changes only through the ``clients_version`` counter.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.clients import service
from idp.extensions import db
from idp.models import ClientsVersion

from .factories import make_client
from .statement_budget import reading, statements

WINDOW = 2  # CLIENT_CACHE_SECONDS by default


def service_client():
    client, secret = make_client(client_type="service", redirect_uris=[], scope="profile")
    return client.client_id, secret


def token(browser, client_id, secret) -> int:
    return browser.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(client_id, secret)).status_code


def version() -> int:
    # The PostgreSQL fixtures truncate every table between tests, the counter's row too;
    # the first change writes it again.
    return db.session.scalar(select(ClientsVersion.version)) or 0


def test_every_client_change_bumps_the_counter(app):
    """Register, update, rotate, disable and delete each count one change."""
    start = version()
    client_id, _ = service_client()
    service.update_client(client_id, {"name_en": "Renamed"})
    service.rotate_secret(client_id)
    service.set_enabled(client_id, False)
    service.set_enabled(client_id, False)  # no change, no bump
    service.delete_client(client_id)
    assert version() == start + 5


def test_a_disabled_client_is_refused_at_once_by_the_same_process(app, client):
    """The process that disabled a client drops its cached copy with the change."""
    client_id, secret = service_client()
    assert token(client, client_id, secret) == 200
    service.set_enabled(client_id, False)
    assert token(client, client_id, secret) == 401
    service.set_enabled(client_id, True)
    assert token(client, client_id, secret) == 200


def test_a_rotated_out_secret_and_a_deleted_client_stop_at_once(app, client):
    """Rotation without grace and deletion are seen by the next request."""
    client_id, secret = service_client()
    assert token(client, client_id, secret) == 200
    _, new_secret = service.rotate_secret(client_id, grace=0)
    assert token(client, client_id, secret) == 401
    assert token(client, client_id, new_secret) == 200
    service.delete_client(client_id)
    assert token(client, client_id, new_secret) == 401


def test_another_process_sees_a_change_within_client_cache_seconds(app, make_app, clock):
    """Another process serves its cached copy until its next counter check, at most
    ``CLIENT_CACHE_SECONDS`` later, then refuses the disabled client."""
    client_id, secret = service_client()
    other = make_app().test_client()
    assert token(other, client_id, secret) == 200
    service.set_enabled(client_id, False)
    clock.advance(WINDOW - 1)
    assert token(other, client_id, secret) == 200, "the documented staleness bound"
    clock.advance(1)
    assert token(other, client_id, secret) == 401


def test_client_cache_seconds_zero_checks_on_every_request(app, make_app):
    """With ``CLIENT_CACHE_SECONDS = 0`` another process sees a change at once."""
    client_id, secret = service_client()
    other = make_app(CLIENT_CACHE_SECONDS=0).test_client()
    assert token(other, client_id, secret) == 200
    service.set_enabled(client_id, False)
    assert token(other, client_id, secret) == 401


def test_the_counter_is_read_once_per_window(app, client, clock):
    """A warm process reads no client row; once a window has passed it reads the counter
    (one statement) and, the counter unchanged, keeps its copy."""
    client_id, secret = service_client()
    assert token(client, client_id, secret) == 200
    with statements() as warm:
        assert token(client, client_id, secret) == 200
    clock.advance(WINDOW)
    with statements() as checked:
        assert token(client, client_id, secret) == 200
    assert reading(warm, "clients") == reading(checked, "clients") == []
    assert reading(warm, "clients_version") == []
    assert len(reading(checked, "clients_version")) == 1
    assert len(checked) == len(warm) + 1


def test_an_unknown_client_is_never_cached(app, client):
    """Invented client ids cost a lookup each and leave nothing behind."""
    for attempt in range(3):
        with statements() as seen:
            assert token(client, f"no-such-client-{attempt}", "secret") == 401
        assert len(reading(seen, "clients")) == 1
    assert app.extensions["idp.client_cache"].entries == {}
