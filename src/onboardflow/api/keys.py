"""API keys with scopes: minted once (the secret is shown once and stored only as its SHA-256), checked on
every request, revoked with the CLI.

A key reads `obf_<id>_<secret>`: the id finds the stored key, the secret proves the caller holds it.
Scopes: `ingest` (send events), `read`, `write`, `admin` (everything, GDPR and key management included).
A storefront gets an ingest-only key: it can send events and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from onboardflow.ports import ApiKey, Store

SCOPES = ("ingest", "read", "write", "admin")
PREFIX = "obf"


class BadKey(ValueError):
    """The bearer token is not an API key this server issued, or it was revoked."""


def parse_scopes(text: str | Iterable[str]) -> tuple[str, ...]:
    """`read,ingest` → ('ingest', 'read'); unknown or no scopes raise ValueError saying which exist."""
    names = [part.strip() for part in (text.split(",") if isinstance(text, str) else text)]
    names = [name for name in names if name]
    if not names:
        raise ValueError(f"give at least one scope, from: {', '.join(SCOPES)}")
    unknown = sorted(set(names) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {', '.join(map(repr, unknown))}: the scopes are {', '.join(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in names)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def mint(name: str, scopes: Iterable[str], *, now: datetime, user: str | None = None) -> tuple[ApiKey, str]:
    """A new key record and its plain text, which is never stored: show it once. `user`: the email of
    the user the key acts as (reviews, approvals and launches through the API are theirs)."""
    if not name.strip():
        raise ValueError("name the key after who uses it, e.g. --name storefront")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKey(id=key_id, name=name.strip(), scopes=parse_scopes(scopes), digest=digest(secret),
                    created_at=now, user=user.lower() if user else None)
    return record, f"{PREFIX}_{key_id}_{secret}"


def split(token: str) -> tuple[str, str]:
    """(id, secret) of a key's plain text; BadKey when it does not have the shape of one."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        raise BadKey("not an onboardflow API key: keys look like obf_<id>_<secret>")
    return key_id, secret


def grants(scopes: Iterable[str], needed: str) -> bool:
    scopes = tuple(scopes)
    return needed in scopes or "admin" in scopes


class KeyRing:
    """Checks bearer tokens against the stored keys, keeping what it read for `ttl` seconds.

    A key revoked from another process (`onboardflow apikey revoke`) stops working here within `ttl`
    seconds; one revoked through this ring stops at once.
    """

    def __init__(self, store: Store, *, ttl: float = 10.0, monotonic: Callable[[], float] = time.monotonic):
        self._store, self._ttl, self._monotonic = store, ttl, monotonic
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._passed: dict[str, tuple[float, ApiKey]] = {}  # tokens that passed the check lately
        self._lock = threading.Lock()

    def check(self, token: str) -> ApiKey:
        """The key the token is; BadKey when it is malformed, unknown, wrong or revoked. A token that passed
        within `ttl` passes again without its hash being worked out anew (every request of a storefront
        sends the same one)."""
        passed = self._passed.get(token)
        if passed is not None and self._monotonic() - passed[0] < self._ttl:
            return passed[1]
        key = self._checked(token)
        with self._lock:
            if len(self._passed) > 10_000:
                self._passed.clear()
            self._passed[token] = (self._monotonic(), key)
        return key

    def _checked(self, token: str) -> ApiKey:
        key_id, secret = split(token)
        key = self._lookup(key_id)
        if key is None or not hmac.compare_digest(key.digest, digest(secret)):
            raise BadKey("unknown API key: check it was copied whole, or create one with "
                         "`onboardflow apikey create`")
        if key.is_revoked:
            raise BadKey(f"API key {key.id} ({key.name}) was revoked; create a new one with "
                         "`onboardflow apikey create`")
        return key

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._cache.pop(key_id, None)
            self._passed = {token: entry for token, entry in self._passed.items() if entry[1].id != key_id}

    def _lookup(self, key_id: str) -> ApiKey | None:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        key = self._store.api_key(key_id)
        with self._lock:
            if len(self._cache) > 10_000:  # many made-up ids: don't let them grow the cache without end
                self._cache.clear()
            self._cache[key_id] = (now, key)
        return key
