"""Users and their roles: who may author, review, own (decide the launch of) a journey, work the support
queue, or administer everything. The CLI acts as a user (`--as EMAIL` or ONBOARDFLOW_USER), the API as
the user its key belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from onboardflow.governance.passwords import hash_password
from onboardflow.ports import Store, User

ROLES = ("author", "reviewer", "owner", "support", "admin")
MIN_PASSWORD_LENGTH = 8


class UnknownUser(LookupError):
    """No (enabled) user has this email."""


def parse_roles(text: str | Iterable[str]) -> tuple[str, ...]:
    """`owner,author` → ('author', 'owner'); none, or one not in ROLES, raise ValueError naming the roles."""
    names = [part.strip().lower() for part in (text.split(",") if isinstance(text, str) else text)]
    names = [name for name in names if name]
    if not names:
        raise ValueError(f"give at least one role, from: {', '.join(ROLES)}")
    unknown = sorted(set(names) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role {', '.join(map(repr, unknown))}: the roles are {', '.join(ROLES)}")
    return tuple(role for role in ROLES if role in names)


def normal_email(email: str) -> str:
    """The email as users are kept by: checked for shape (no DNS lookup), lower-cased."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(f"{email!r} is not an email address: {error}") from None


def check_password(plain: str) -> str:
    if len(plain) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return plain


def add_user(
    *, store: Store, email: str, name: str, roles: str | Iterable[str], password: str | None, now: datetime
) -> tuple[User, bool]:
    """Add the user, or update an existing one's name and roles (their password stays unless one is
    given); the user as saved, and whether they are new."""
    email, roles = normal_email(email), parse_roles(roles)
    if not name.strip():
        raise ValueError("give the user's name, e.g. --name 'Ana Lima'")
    hashed = hash_password(check_password(password)) if password is not None else None
    known = store.user(email)
    if known is None:
        user = User(email, name.strip(), roles, hashed, now)
    else:
        user = replace(known, name=name.strip(), roles=roles, password_hash=hashed or known.password_hash)
    store.save_user(user)
    return user, known is None


def set_password(*, store: Store, email: str, password: str) -> User:
    user = find_user(store, email, enabled_only=False)
    changed = replace(user, password_hash=hash_password(check_password(password)))
    store.save_user(changed)
    return changed


def find_user(store: Store, email: str | None, *, enabled_only: bool = True) -> User:
    """The user with this email; UnknownUser saying how to name one, or add them, when there is none."""
    if not email:
        raise UnknownUser(
            "say who you are: --as EMAIL, or set ONBOARDFLOW_USER (`onboardflow user list` shows the users)"
        )
    user = store.user(email)
    if user is None:
        raise UnknownUser(
            f"no user {email!r}: add them with `onboardflow user add {email} --name ... --roles ...`"
        )
    if enabled_only and user.disabled:
        raise UnknownUser(f"user {email!r} is disabled")
    return user


def set_disabled(*, store: Store, email: str, disabled: bool) -> User:
    changed = replace(find_user(store, email, enabled_only=False), disabled=disabled)
    store.save_user(changed)
    return changed
