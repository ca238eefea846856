"""WebAuthn ceremonies for passkeys, on py_webauthn: options, single-use challenges and
the verification of what the authenticator signed.

The relying party id is the issuer's host and the only accepted origin is the issuer's
origin (WebAuthn L3 §5.1.3 step 9, §7.1 step 13). Attestation is ``none`` (we trust no
vendor list, so an attestation statement would prove nothing we check); user
verification is required, so a passkey alone is two factors (possession and a PIN or a
biometric on the device). Challenges are rows: any instance of the cluster can take the
answer, and a conditional DELETE uses each one once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    parse_authentication_credential_json,
    parse_client_data_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import settings
from ..extensions import db, now
from ..models import WebauthnChallenge

#: Purposes a challenge is bound to.
REGISTER, SIGN_IN, STEP = "register", "sign_in", "step"

#: What a hostile or garbled credential may raise inside py_webauthn and its CBOR and
#: base64 helpers; every one of them is a refusal, never a 500.
_BAD_INPUT = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError,
              OverflowError, RecursionError)


class CeremonyFailed(Exception):
    """The browser's answer does not verify (``reason`` is for the logs, never shown)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party() -> RelyingParty:
    """The relying party of this IdP: the issuer's host and origin (scheme, host, port)."""
    cfg = settings.current()
    parts = urlsplit(cfg.issuer)
    return RelyingParty(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}",
                        name=cfg.brand_system_en or cfg.brand_system)


def registration_options(*, user_handle: bytes, user_name: str, display_name: str,
                         exclude: list[tuple[bytes, list[str]]], challenge: bytes) -> dict:
    """Options for ``navigator.credentials.create()`` as JSON-ready data."""
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_handle, user_name=user_name,
        user_display_name=display_name, challenge=challenge,
        timeout=settings.current().webauthn_challenge_seconds * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[_descriptor(cid, transports) for cid, transports in exclude])
    return json.loads(options_to_json(options))


def authentication_options(*, allow: list[tuple[bytes, list[str]]], challenge: bytes) -> dict:
    """Options for ``navigator.credentials.get()``; an empty ``allow`` asks for a
    discoverable credential (the browser lists the passkeys it has for this site)."""
    options = generate_authentication_options(
        rp_id=relying_party().id, challenge=challenge,
        timeout=settings.current().webauthn_challenge_seconds * 1000,
        allow_credentials=[_descriptor(cid, transports) for cid, transports in allow],
        user_verification=UserVerificationRequirement.REQUIRED)
    return json.loads(options_to_json(options))


def _descriptor(credential_id: bytes, transports: list[str]) -> PublicKeyCredentialDescriptor:
    known = {t.value for t in AuthenticatorTransport}
    return PublicKeyCredentialDescriptor(
        id=credential_id, transports=[AuthenticatorTransport(t) for t in transports if t in known])


def new_challenge(purpose: str, user_id: int | None, browser_key: str) -> bytes:
    """Store a fresh challenge for ``purpose`` bound to the browser and the account; return it.

    Expired challenges are purged on the way (in the caller's unit of work).
    """
    moment = now()
    db.session.execute(delete(WebauthnChallenge).where(WebauthnChallenge.expires_at <= moment))
    challenge = secrets.token_bytes(32)
    db.session.add(WebauthnChallenge(
        challenge_hash=_hash(challenge), browser_hash=_hash(browser_key.encode()),
        purpose=purpose, user_id=user_id,
        expires_at=moment + timedelta(seconds=settings.current().webauthn_challenge_seconds)))
    return challenge


def consume_challenge(credential: dict, purpose: str, user_id: int | None,
                      browser_key: str | None) -> bytes:
    """Use up the challenge that ``credential``'s client data answers; return it.

    One conditional DELETE: the challenge must be live, of ``purpose``, issued to this
    browser and (unless ``user_id`` is ``None``) to this account. Of two requests racing
    with the same answer one wins.

    :raises CeremonyFailed: for an unknown, used, expired or foreign challenge.
    """
    challenge = challenge_of(credential)
    if not browser_key:
        raise CeremonyFailed("no browser key")
    conditions = [WebauthnChallenge.challenge_hash == _hash(challenge),
                  WebauthnChallenge.browser_hash == _hash(browser_key.encode()),
                  WebauthnChallenge.purpose == purpose, WebauthnChallenge.expires_at > now()]
    conditions.append(WebauthnChallenge.user_id.is_(None) if user_id is None
                      else WebauthnChallenge.user_id == user_id)
    if db.session.execute(delete(WebauthnChallenge).where(*conditions)).rowcount != 1:
        raise CeremonyFailed("challenge unknown, used, expired or of another browser")
    return challenge


def discard_challenge(challenge: bytes) -> None:
    """Delete ``challenge`` (a refused answer uses it up too)."""
    db.session.execute(delete(WebauthnChallenge).where(
        WebauthnChallenge.challenge_hash == _hash(challenge)))


def challenge_of(credential: dict) -> bytes:
    """The challenge in ``credential``'s client data (not yet verified)."""
    try:
        data = base64url_to_bytes(credential["response"]["clientDataJSON"])
        return parse_client_data_json(data).challenge
    except _BAD_INPUT as e:
        raise CeremonyFailed("client data unreadable") from e


def credential_id_of(credential: dict) -> tuple[bytes, bytes | None]:
    """The raw credential id of an assertion and its user handle (not yet verified)."""
    try:
        parsed = parse_authentication_credential_json(credential)
        return parsed.raw_id, parsed.response.user_handle
    except _BAD_INPUT as e:
        raise CeremonyFailed("assertion unreadable") from e


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backup_state: bool
    transports: list[str]


def verify_registration(credential: dict, challenge: bytes) -> NewCredential:
    """Verify an attestation (``fmt`` ``none`` or any other, signature not trusted) for
    this relying party, with the user verified.

    :raises CeremonyFailed: when anything does not verify.
    """
    rp = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True)
        transports = credential.get("response", {}).get("transports") or []
    except _BAD_INPUT as e:
        raise CeremonyFailed(f"registration: {e}") from e
    known = {t.value for t in AuthenticatorTransport}
    return NewCredential(
        credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == "multi_device",
        backup_state=verified.credential_backed_up,
        transports=[t for t in transports if isinstance(t, str) and t in known][:8])


@dataclass(frozen=True)
class Assertion:
    sign_count: int
    backup_eligible: bool
    backup_state: bool


def verify_assertion(credential: dict, challenge: bytes, public_key: bytes) -> Assertion:
    """Verify an assertion's client data, rpIdHash, flags (UP and UV) and signature.

    The signature counter is left to the caller (it compares with the stored count and
    logs a regression), so py_webauthn is given 0 here and skips its own comparison.

    :raises CeremonyFailed: when anything does not verify.
    """
    rp = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=public_key,
            credential_current_sign_count=0, require_user_verification=True)
    except _BAD_INPUT as e:
        raise CeremonyFailed(f"assertion: {e}") from e
    return Assertion(sign_count=verified.new_sign_count,
                     backup_eligible=verified.credential_device_type == "multi_device",
                     backup_state=verified.credential_backed_up)


def counter_went_back(stored: int, received: int) -> bool:
    """WebAuthn L3 §7.2 step 21: a counter that does not grow, when either is non-zero,
    may mean a cloned authenticator. Authenticators that keep no counter send 0."""
    return (stored > 0 or received > 0) and received <= stored


def _hash(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()
