"""The SQL side of users: insert-or-replace by lower-cased email, read one, list all."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from onboardflow.ports import User
from onboardflow.store.schema import users
from onboardflow.store.statements import dialect_insert


def user_row(user: User) -> dict[str, Any]:
    return {
        "email": user.email.lower(),
        "name": user.name,
        "roles": list(user.roles),
        "password_hash": user.password_hash,
        "created_at": user.created_at,
        "disabled": user.disabled,
    }


def user_from_row(row: Any) -> User:
    return User(
        row["email"],
        row["name"],
        tuple(row["roles"]),
        row["password_hash"],
        row["created_at"],
        bool(row["disabled"]),
    )


def save_user(connection: sa.Connection, user: User) -> None:
    row = user_row(user)
    insert = dialect_insert(connection.dialect.name, users).values(row)
    changed = {name: insert.excluded[name] for name in row if name != "email"}
    connection.execute(insert.on_conflict_do_update(index_elements=["email"], set_=changed))


def find_user(connection: sa.Connection, email: str) -> User | None:
    row = connection.execute(sa.select(users).where(users.c.email == email.lower())).mappings().first()
    return user_from_row(row) if row else None


def all_users(connection: sa.Connection) -> list[User]:
    rows = connection.execute(sa.select(users).order_by(users.c.email)).mappings()
    return [user_from_row(row) for row in rows]
