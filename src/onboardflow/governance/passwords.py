"""Passwords, hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile); never stored
in plain text, and never compared other than through the hash."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(plain: str) -> str:
    """The argon2id hash of `plain`, salted: the same password hashes differently each time."""
    return _hasher.hash(plain)


def verify_password(password_hash: str, plain: str) -> bool:
    """Whether `plain` is the password `password_hash` was made from; a malformed hash is simply False."""
    try:
        return _hasher.verify(password_hash, plain)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's: re-hash it at the next login."""
    return _hasher.check_needs_rehash(password_hash)
