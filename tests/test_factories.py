"""The shared factories produce valid rows (other tests build on them)."""

from idp.accounts.passwords import verify_password
from idp.identity.national_id import is_valid_national_code
from idp.security.hashing import matches

from .factories import DEFAULT_PASSWORD, make_client, make_user


def test_make_user(app):
    user = make_user()
    assert is_valid_national_code(user.id_code)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)
    assert not verify_password(user.password_hash, "wrong")


def test_make_client_secret_is_only_hashed(app):
    client, secret = make_client()
    assert secret and client.secret_hash != secret
    assert matches(secret, client.secret_hash, "client_secret")
