"""A software WebAuthn authenticator for tests: an EC P-256 key, ``none`` attestation and
assertions, built byte by byte as WebAuthn L3 §6.1 and §6.5 lay them out.

Each knob a test needs to break a ceremony is a keyword: the origin and rp id the
"browser" reports, the UV flag, the backup flags, the signature counter.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
ORIGIN = "http://localhost"  # the test app's ISSUER
RP_ID = "localhost"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One credential on one authenticator; ``synced`` sets BE and BS (a synced passkey)."""

    def __init__(self, synced: bool = False, aaguid: bytes = bytes(16)):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.synced = synced
        self.aaguid = aaguid
        self.sign_count = 0
        self.user_handle: bytes | None = None

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def auth_data(self, *, rp_id: str, uv: bool, attested: bool, counter: int) -> bytes:
        flags = UP | (UV if uv else 0) | ((BE | BS) if self.synced else 0) | (AT if attested else 0)
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + counter.to_bytes(4, "big")
        if attested:
            data += (self.aaguid + len(self.credential_id).to_bytes(2, "big")
                     + self.credential_id + self.cose_key())
        return data

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict, *, origin: str = ORIGIN, rp_id: str = RP_ID,
               uv: bool = True) -> dict:
        """Answer ``navigator.credentials.create()`` options (as the server sent them)."""
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self.client_data("webauthn.create", options["challenge"], origin)
        auth_data = self.auth_data(rp_id=rp_id, uv=uv, attested=True, counter=self.sign_count)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation),
                             "transports": ["internal"]}}

    def get(self, options: dict, *, origin: str = ORIGIN, rp_id: str = RP_ID, uv: bool = True,
            counter: int | None = None, user_handle: bool = True) -> dict:
        """Answer ``navigator.credentials.get()`` options; the counter goes up by one
        unless ``counter`` is given."""
        self.sign_count = self.sign_count + 1 if counter is None else counter
        client_data = self.client_data("webauthn.get", options["challenge"], origin)
        auth_data = self.auth_data(rp_id=rp_id, uv=uv, attested=False, counter=self.sign_count)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        response = {"clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data), "signature": b64url(signature)}
        if user_handle and self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "clientExtensionResults": {}, "response": response}
