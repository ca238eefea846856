"""Signing keys: PEM files plus a ``keys.json`` manifest in ``KEYS_DIR``.

Each key has a life cycle driven by timestamps in the manifest, so every app instance
that shares the directory agrees on it without talking to the others:

``next``      published in the JWKS, not yet signing (``activates_at`` in the future);
``current``   the newest active key of its algorithm: signs new tokens;
``previous``  an older active key: still published so tokens it signed verify;
``retiring``  ``flask keys retire`` was run: published until ``retire_at``
              (now + the longest token lifetime), then gone from the JWKS;
``retired``   past ``retire_at``: neither published nor loaded.

``kid`` is the RFC 7638 JWK thumbprint. Private keys never leave this module except
as the joserfc key handed to the token signer.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc.jwk import ECKey, KeySet, RSAKey

ALGORITHMS = {"RS256": (RSAKey, 2048), "ES256": (ECKey, "P-256")}
MANIFEST = "keys.json"


class KeyError_(Exception):
    """A key operation that cannot be done (unknown kid, retiring the only signer…)."""


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: str
    created_at: str
    activates_at: str
    retire_at: str | None = None

    def state(self, now: datetime, signer_kids: set[str]) -> str:
        if self.retire_at and _parse(self.retire_at) <= now:
            return "retired"
        if self.retire_at:
            return "retiring"
        if _parse(self.activates_at) > now:
            return "next"
        return "current" if self.kid in signer_kids else "previous"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


class KeyStore:
    """The signing keys of one ``KEYS_DIR``; reloads itself when the manifest changes."""

    def __init__(self, directory: str | Path, passphrase: str = "", rotation_delay: int = 0):
        self.directory = Path(directory)
        # A plain string: the manifest is stat()ed on every request that signs or serves the
        # JWKS, and building a Path each time costs more than the system call (3.1 → 0.9 µs).
        self._manifest = os.fspath(self.directory / MANIFEST)
        self.passphrase = passphrase or None
        self.rotation_delay = rotation_delay
        self._version: int | None = None
        self._records: list[KeyRecord] = []
        self._keys: dict[str, RSAKey | ECKey] = {}
        self._jwks_cache: dict[tuple[str, ...], tuple[bytes, str]] = {}

    # -- reading ---------------------------------------------------------------
    def _manifest_path(self) -> Path:
        return Path(self._manifest)

    def _refresh(self) -> None:
        try:
            version = os.stat(self._manifest).st_mtime_ns
        except FileNotFoundError:
            self._version, self._records, self._keys = None, [], {}
            return
        if version == self._version:
            return
        data = json.loads(self._manifest_path().read_text())
        records = [KeyRecord(**item) for item in data.get("keys", [])]
        keys = {}
        for record in records:
            if record.kid in self._keys:
                keys[record.kid] = self._keys[record.kid]
                continue
            path = self.directory / f"{record.kid}.pem"
            if path.exists():
                key_type = ALGORITHMS[record.alg][0]
                keys[record.kid] = key_type.import_key(
                    path.read_bytes(), {"kid": record.kid, "alg": record.alg, "use": "sig"},
                    password=self.passphrase,
                )
        # The version last: a thread that sees it also sees the records it belongs to.
        self._records, self._keys, self._jwks_cache = records, keys, {}
        self._version = version

    def records(self) -> list[KeyRecord]:
        self._refresh()
        return list(self._records)

    def has_keys(self) -> bool:
        self._refresh()
        return bool(self._keys)

    def _signers(self, now: datetime) -> dict[str, KeyRecord]:
        signers: dict[str, KeyRecord] = {}
        for record in self._records:
            if record.retire_at or _parse(record.activates_at) > now:
                continue
            best = signers.get(record.alg)
            if best is None or _parse(record.activates_at) >= _parse(best.activates_at):
                signers[record.alg] = record
        return signers

    def listing(self, now: datetime) -> list[tuple[KeyRecord, str]]:
        """Return every key with its state at ``now``, oldest first."""
        self._refresh()
        signer_kids = {r.kid for r in self._signers(now).values()}
        return [(r, r.state(now, signer_kids)) for r in self._records]

    def signing_key(self, alg: str, now: datetime) -> RSAKey | ECKey:
        """Return the key that signs new tokens with ``alg``.

        :raises KeyError_: when no active key of that algorithm exists.
        """
        self._refresh()
        record = self._signers(now).get(alg)
        if record is None or record.kid not in self._keys:
            raise KeyError_(f"no active {alg} signing key")
        return self._keys[record.kid]

    def verification_keys(self, now: datetime) -> KeySet:
        """Return the published public keys as a joserfc ``KeySet``."""
        self._refresh()
        return KeySet([self._keys[kid] for kid in self._published(now)])

    def _published(self, now: datetime) -> tuple[str, ...]:
        return tuple(
            r.kid
            for r in self._records
            if r.kid in self._keys and not (r.retire_at and _parse(r.retire_at) <= now)
        )

    def public_jwks(self, now: datetime) -> tuple[bytes, str]:
        """Return the JWKS document (public members only) as JSON bytes, and its (unquoted) ETag."""
        self._refresh()
        published = self._published(now)
        cached = self._jwks_cache.get(published)
        if cached is None:
            keys = []
            for kid in published:
                key = self._keys[kid]
                public = key.as_dict(private=False)
                public.update(kid=kid, use="sig", alg=key.alg)
                keys.append(public)
            body = json.dumps({"keys": keys}, separators=(",", ":")).encode()
            cached = (body, hashlib.sha256(body).hexdigest()[:32])
            self._jwks_cache[published] = cached
        return cached

    # -- writing ---------------------------------------------------------------
    def _save(self, records: list[KeyRecord]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self._manifest_path().with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": [asdict(r) for r in records]}, indent=2))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self._manifest_path())
        self._version = None

    def _generate(self, alg: str, now: datetime, activates_at: datetime) -> KeyRecord:
        key_type, size = ALGORITHMS[alg]
        key = key_type.generate_key(size, {"alg": alg, "use": "sig"}, auto_kid=False)
        kid = key.thumbprint()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.as_pem(private=True, password=self.passphrase))
        return KeyRecord(kid=kid, alg=alg, created_at=_iso(now), activates_at=_iso(activates_at))

    def ensure(self, now: datetime) -> list[KeyRecord]:
        """Create an immediately active key for each algorithm that has none."""
        self._refresh()
        have = {r.alg for r in self._records if not r.retire_at}
        created = [self._generate(alg, now, now) for alg in ALGORITHMS if alg not in have]
        if created:
            self._save(self._records + created)
        return created

    def rotate(self, now: datetime, algs: list[str] | None = None,
               delay: int | None = None) -> list[KeyRecord]:
        """Add a new key per algorithm, published now and signing after ``delay`` seconds."""
        self._refresh()
        wait = self.rotation_delay if delay is None else delay
        created = [
            self._generate(alg, now, now + timedelta(seconds=wait)) for alg in (algs or ALGORITHMS)
        ]
        self._save(self._records + created)
        return created

    def retire(self, kid: str, now: datetime, after: int) -> KeyRecord:
        """Mark ``kid`` retiring: unpublished ``after`` seconds from now.

        :raises KeyError_: for an unknown kid, or when it is the only active key of its
            algorithm (rotate first, and wait until the new key signs).
        """
        self._refresh()
        record = next((r for r in self._records if r.kid == kid), None)
        if record is None:
            raise KeyError_(f"unknown key {kid}")
        if record.retire_at:
            return record
        others = [r for r in self._records if r.alg == record.alg and r.kid != kid
                  and not r.retire_at and _parse(r.activates_at) <= now]
        if not others:
            raise KeyError_(f"{kid} is the only active {record.alg} key; rotate first")
        retired = replace(record, retire_at=_iso(now + timedelta(seconds=after)))
        self._save([retired if r.kid == kid else r for r in self._records])
        return retired

    def purge(self, now: datetime) -> list[str]:
        """Delete the files of retired keys; return their kids."""
        self._refresh()
        gone = [r for r in self._records if r.retire_at and _parse(r.retire_at) <= now]
        if gone:
            self._save([r for r in self._records if r not in gone])
            for r in gone:
                (self.directory / f"{r.kid}.pem").unlink(missing_ok=True)
        return [r.kid for r in gone]
