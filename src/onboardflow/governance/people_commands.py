"""`onboardflow user ...`: people and their roles; passwords from stdin or a hidden prompt, never an
argument (it would stay in the shell's history)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onboardflow.engine.clock import SystemClock
from onboardflow.governance import people
from onboardflow.settings import Settings

user_app = typer.Typer(
    help="Users and their roles: author, reviewer, owner, support, admin.", no_args_is_help=True
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Email = Annotated[str, typer.Argument(help="The user's email (compared lower-cased)")]
# who the CLI acts as: review, approval and launch commands record this user
AsUser = Annotated[
    str | None,
    typer.Option("--as", envvar="ONBOARDFLOW_USER", show_envvar=True, help="The user (email) you act as"),
]


def open_store():
    from onboardflow.store.sql import open_store as opened

    return opened(Settings().database_url)


def fail(error: Exception) -> typer.Exit:
    errors.print(f"error: {error}", highlight=False, markup=False)
    return typer.Exit(1)


def read_password(*, from_stdin: bool) -> str:
    """A password from stdin's first line (for scripts), or typed twice at a hidden prompt."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    email: Email,
    name: Annotated[str, typer.Option(help="The user's name, as people know them")],
    roles: Annotated[str, typer.Option(help=f"Comma-separated, from: {', '.join(people.ROLES)}")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a password (for the web UI) from stdin")
    ] = False,
) -> None:
    """Add a user, or change an existing one's name and roles (their password stays unless given)."""
    password = read_password(from_stdin=True) if password_stdin else None
    store = open_store()
    try:
        user, new = people.add_user(
            store=store, email=email, name=name, roles=roles, password=password, now=SystemClock().now()
        )
    except ValueError as error:
        raise fail(error) from None
    finally:
        store.close()
    said = f"{'added' if new else 'updated'} {user.email} ({user.name}): {', '.join(user.roles)}"
    console.print(said, highlight=False, markup=False)


@user_app.command("list")
def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts")] = False,
) -> None:
    """The users there are, with their roles (never their password hashes)."""
    store = open_store()
    try:
        users = store.users()
    finally:
        store.close()
    if as_json:
        for user in users:
            typer.echo(
                json.dumps(
                    {
                        "email": user.email,
                        "name": user.name,
                        "roles": list(user.roles),
                        "has_password": user.password_hash is not None,
                        "disabled": user.disabled,
                        "created_at": user.created_at.isoformat(),
                    }
                )
            )
        return
    table = Table(title="Users")
    for column in ("email", "name", "roles", "password", "disabled"):
        table.add_column(column)
    for user in users:
        table.add_row(
            user.email,
            user.name,
            ",".join(user.roles),
            "set" if user.password_hash else "",
            "yes" if user.disabled else "",
        )
    console.print(table)


@user_app.command("passwd")
def user_passwd(email: Email) -> None:
    """Set a user's password: from stdin when it is not a terminal, else typed twice at a hidden prompt."""
    password = read_password(from_stdin=False)
    store = open_store()
    try:
        user = people.set_password(store=store, email=email, password=password)
    except (ValueError, people.UnknownUser) as error:
        raise fail(error) from None
    finally:
        store.close()
    console.print(f"password set for {user.email}", highlight=False, markup=False)


@user_app.command("disable")
def user_disable(
    email: Email,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead")] = False,
) -> None:
    """Disable a user (their keys and logins stop acting), or enable them again with --enable."""
    store = open_store()
    try:
        user = people.set_disabled(store=store, email=email, disabled=not enable)
    except people.UnknownUser as error:
        raise fail(error) from None
    finally:
        store.close()
    console.print(f"{user.email} {'disabled' if user.disabled else 'enabled'}", highlight=False, markup=False)
