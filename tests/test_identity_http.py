"""The HTTP identity adapter against a tiny fake service on 127.0.0.1 (README contract)."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from idp.identity import Status, registry
from idp.identity.http import HttpIdentityRegistry, parse_auth_header


class FakeService:
    """A loopback HTTP server answering from a script; records every request it gets.

    Each script entry is ``(status, body)``, ``"drop"`` (close the connection without an
    answer: a transport error) or ``("sleep", seconds, status, body)``; the last entry
    repeats.
    """

    def __init__(self, *script):
        self.script = list(script) or [(200, {})]
        self.requests: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.requests.append({"path": self.path, "headers": dict(self.headers),
                                         "body": raw.decode()})
                step = service.script[min(len(service.requests) - 1, len(service.script) - 1)]
                if step == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if step[0] == "sleep":
                    time.sleep(step[1])
                    step = step[2:]
                status, body = step
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


RECORD = {"first_name": "علی", "last_name": "احمدی", "father_name": "حسین",
          "certificate_number": "1234", "birth_date": "1990-03-21", "gender": "male",
          "is_deceased": False}


def adapter(url, **kw):
    return HttpIdentityRegistry(url, "Authorization: Bearer t0ken", **kw)


@pytest.mark.parametrize("result", ["MATCH", "MISMATCH", "INVALID_INPUT", "DECEASED"])
def test_mobile_owner_results(result):
    """Each documented result maps to its status; the request follows the contract."""
    with FakeService((200, {"result": result})) as fake:
        answer = adapter(fake.url + "/").verify_mobile_owner("national", "0012345679",
                                                             "09121234567")
    assert answer.status is Status(result)
    assert fake.requests[0]["path"] == "/mobile-owner"
    assert fake.requests[0]["headers"]["Authorization"] == "Bearer t0ken"
    assert fake.json() == {"id_type": "national", "id_code": "0012345679",
                           "mobile": "09121234567"}


def test_lookup_match_returns_the_record():
    with FakeService((200, {"result": "MATCH", "record": RECORD})) as fake:
        answer = adapter(fake.url).lookup_identity("national", "0012345679", date(1990, 3, 21))
    assert answer.status is Status.MATCH and answer.ok
    assert answer.record.first_name == "علی" and answer.record.birth_date == date(1990, 3, 21)
    assert answer.record.id_code == "0012345679"
    assert fake.requests[0]["path"] == "/identity"
    assert fake.json() == {"id_type": "national", "id_code": "0012345679",
                           "birth_date": "1990-03-21", "birth_date_jalali": "1369/01/01"}


def test_lookup_match_of_a_deceased_person_is_deceased():
    with FakeService((200, {"result": "MATCH", "record": {**RECORD, "is_deceased": True}})) as f:
        answer = adapter(f.url).lookup_identity("national", "0012345679", date(1990, 3, 21))
    assert answer.status is Status.DECEASED and answer.record is None


@pytest.mark.parametrize("reply", [
    (500, {"result": "MATCH"}), (503, {}), (401, {}), (403, {}), (429, {}), (404, {}),
    (200, b"<html>maintenance</html>"), (200, ["MATCH"]), (200, {"result": "YES"}),
    (200, {"result": "MATCH"}),  # a lookup MATCH without a record
    (200, {"result": "MATCH", "record": {**RECORD, "birth_date": "1369/01/01"}}),
    (200, {"result": "MATCH", "record": {**RECORD, "gender": "x"}}),
])
def test_anything_else_is_unavailable_and_not_retried(reply):
    """Errors, refused credentials, quota and malformed answers are UNAVAILABLE, tried once."""
    with FakeService(reply) as fake:
        answer = adapter(fake.url).lookup_identity("national", "0012345679", date(1990, 3, 21))
    assert answer.status is Status.UNAVAILABLE
    assert len(fake.requests) == 1


def test_one_retry_after_a_transport_error():
    """A dropped connection is retried once; the second answer counts."""
    with FakeService("drop", (200, {"result": "MATCH"})) as fake:
        answer = adapter(fake.url).verify_mobile_owner("national", "0012345679", "09121234567")
    assert answer.status is Status.MATCH
    assert len(fake.requests) == 2


def test_only_one_retry():
    with FakeService("drop") as fake:
        answer = adapter(fake.url).verify_mobile_owner("national", "0012345679", "09121234567")
    assert answer.status is Status.UNAVAILABLE
    assert len(fake.requests) == 2


def test_mismatch_is_never_retried():
    with FakeService((200, {"result": "MISMATCH"})) as fake:
        answer = adapter(fake.url).verify_mobile_owner("national", "0012345679", "09121234567")
    assert answer.status is Status.MISMATCH and len(fake.requests) == 1


def test_refused_connection_is_unavailable():
    with FakeService() as fake:
        url = fake.url
    answer = adapter(url).verify_mobile_owner("national", "0012345679", "09121234567")
    assert answer.status is Status.UNAVAILABLE


def test_total_timeout_bounds_the_call_with_its_retry():
    """A service slower than the budget gives UNAVAILABLE within about the total timeout."""
    with FakeService(("sleep", 1.0, 200, {"result": "MATCH"})) as fake:
        started = time.monotonic()
        answer = adapter(fake.url, timeout=0.3).verify_mobile_owner(
            "national", "0012345679", "09121234567")
        elapsed = time.monotonic() - started
    assert answer.status is Status.UNAVAILABLE
    assert elapsed < 0.9


def test_empty_url_is_unavailable():
    answer = HttpIdentityRegistry("").verify_mobile_owner("national", "0012345679", "0912")
    assert answer.status is Status.UNAVAILABLE


def test_auth_header_parsing():
    assert parse_auth_header("Authorization: Bearer a:b") == {"Authorization": "Bearer a:b"}
    assert parse_auth_header("X-Token:abc") == {"X-Token": "abc"}
    assert parse_auth_header("") == {} and parse_auth_header("no colon") == {}


def test_settings_choose_the_http_adapter(make_app):
    """IDENTITY_BACKEND=http builds the adapter from the IDENTITY_HTTP_* settings."""
    with FakeService((200, {"result": "MATCH"})) as fake:
        app = make_app(IDENTITY_BACKEND="http", IDENTITY_HTTP_URL=fake.url,
                       IDENTITY_HTTP_AUTH_HEADER="X-Api-Key: k1",
                       IDENTITY_HTTP_CONNECT_TIMEOUT=2.5, IDENTITY_HTTP_TIMEOUT=7.0)
        with app.app_context():
            adapter_ = registry().adapter  # inside the wrapper that counts its calls
            answer = registry().verify_mobile_owner("fida", "123456789012", "09121234567")
    assert isinstance(adapter_, HttpIdentityRegistry)
    assert (adapter_.connect_timeout, adapter_.timeout) == (2.5, 7.0)
    assert answer.status is Status.MATCH
    assert fake.requests[0]["headers"]["X-Api-Key"] == "k1"


def test_unknown_backend_is_refused(make_app):
    with pytest.raises(ValueError):
        make_app(IDENTITY_BACKEND="carrier-pigeon")
