"""API keys for ``grail serve``: bearer tokens, kept only as sha256 hashes.

A key file holds one hash per line (``sha256:<hex>`` or bare hex; ``#``
comments allowed); ``GRAIL_API_KEYS`` holds plain keys separated by commas,
hashed as soon as they are read. The decision: the server never keeps a
plain key, and compares hashes with ``hmac.compare_digest`` against every
stored hash, so the check takes the same time whichever key (if any) matches.
Binding anything but loopback without a key is refused at start-up.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

LOOPBACK_NAMES = ("localhost",)


class KeyConfigError(ValueError):
    """A key file or key setting that cannot be used."""


def hash_key(key: str) -> str:
    """The stored form of a key: lowercase hex sha256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh random key and its hash: give the key to the client, store the hash."""
    key = "grail-" + secrets.token_urlsafe(32)
    return key, hash_key(key)


def load_key_hashes(key_file: str | Path | None = None, env: str | None = None) -> list[str]:
    """Hashes from ``key_file`` (one per line) plus the keys in ``GRAIL_API_KEYS``."""
    hashes: list[str] = []
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise KeyConfigError(f"API key file {path} does not exist; create it with `grail serve --new-key`")
        for i, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            value = line.removeprefix("sha256:").lower()
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise KeyConfigError(f"{path}:{i}: expected a sha256 hash (64 hex digits, optionally 'sha256:'), "
                                "not a plain key; hash keys with `grail serve --new-key`")
            hashes.append(value)
    plain = os.environ.get("GRAIL_API_KEYS", "") if env is None else env
    hashes.extend(hash_key(k.strip()) for k in plain.split(",") if k.strip())
    return hashes


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KeyCheck:
    """Checks ``Authorization: Bearer <key>`` headers against stored hashes."""

    def __init__(self, hashes: list[str]) -> None:
        self._hashes = [bytes.fromhex(h) for h in hashes]

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def problem(self, authorization: str | None) -> str | None:
        """None when the header carries a valid key (or no keys are configured); else why not."""
        if not self._hashes:
            return None
        if not authorization:
            return "missing API key: send the header 'Authorization: Bearer <key>'"
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return "malformed Authorization header: use 'Authorization: Bearer <key>'"
        digest = hashlib.sha256(key.strip().encode("utf-8")).digest()
        ok = False
        for h in self._hashes:  # no early exit: every stored hash is compared
            ok |= hmac.compare_digest(digest, h)
        return None if ok else "wrong API key: check the key you were given (keys are case-sensitive)"
