"""`onboardflow user`: people added, listed, given passwords from stdin; keys made to act as one of them."""

from __future__ import annotations

import json

from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

from onboardflow.cli import app
from onboardflow.governance.passwords import verify_password
from onboardflow.store.sql import open_store


def stored_user(cli: Cli, email: str):
    store = open_store(cli.url)
    try:
        return store.user(email)
    finally:
        store.close()


def listed(cli: Cli) -> list[dict]:
    return [json.loads(line) for line in cli("user", "list", "--json").stdout.splitlines()]


def invoke(cli: Cli, *args: str, stdin: str, code: int = 0):
    result = cli.runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    return result


def test_a_user_is_added_with_roles_and_a_password_from_stdin_then_listed_without_it(cli: Cli):
    added = invoke(
        cli,
        "user",
        "add",
        "Ana@Shop.example",
        "--name",
        "Ana Lima",
        "--roles",
        "owner,author",
        "--password-stdin",
        stdin="correct horse\n",
    )
    assert "added ana@shop.example (Ana Lima): author, owner" in added.stdout

    [ana] = listed(cli)
    assert ana["email"] == "ana@shop.example" and ana["roles"] == ["author", "owner"] and ana["has_password"]
    assert "argon2" not in cli("user", "list").stdout and "argon2" not in json.dumps(ana)
    assert verify_password(stored_user(cli, "ana@shop.example").password_hash, "correct horse")


def test_passwd_reads_stdin_and_replaces_the_password(cli: Cli):
    cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author")
    assert not listed(cli)[0]["has_password"]

    said = invoke(cli, "user", "passwd", "ana@shop.example", stdin="a new passphrase\n")

    assert "password set for ana@shop.example" in said.stdout
    assert verify_password(stored_user(cli, "ana@shop.example").password_hash, "a new passphrase")
    too_short = invoke(cli, "user", "passwd", "ana@shop.example", stdin="short\n", code=1)
    assert "at least 8 characters" in too_short.output
    assert verify_password(stored_user(cli, "ana@shop.example").password_hash, "a new passphrase")


def test_bad_roles_unknown_users_and_bad_emails_are_refused_with_what_to_do(cli: Cli):
    bad = cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "author,boss", code=1)
    assert "unknown role 'boss': the roles are author, reviewer, owner, support, admin" in bad.output
    assert (
        "is not an email address"
        in cli("user", "add", "ana", "--name", "Ana", "--roles", "owner", code=1).output
    )
    assert listed(cli) == []
    unknown = invoke(cli, "user", "passwd", "bob@shop.example", stdin="long enough\n", code=1)
    assert "no user 'bob@shop.example'" in unknown.output and "onboardflow user add" in unknown.output


def test_disable_and_enable_a_user(cli: Cli):
    cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "support")

    assert "ana@shop.example disabled" in cli("user", "disable", "ana@shop.example").stdout
    assert listed(cli)[0]["disabled"] is True
    assert "enabled" in cli("user", "disable", "ana@shop.example", "--enable").stdout
    assert listed(cli)[0]["disabled"] is False


def test_an_api_key_acts_as_an_existing_user_only(cli: Cli):
    cli("user", "add", "ana@shop.example", "--name", "Ana", "--roles", "owner")

    created = cli("apikey", "create", "--scopes", "write", "--name", "laptop", "--user", "ANA@shop.example")
    assert "acting as ana@shop.example" in created.output
    [key] = [json.loads(line) for line in cli("apikey", "list", "--json").stdout.splitlines()]
    assert key["user"] == "ana@shop.example"

    refused = cli("apikey", "create", "--scopes", "write", "--user", "bob@shop.example", code=1)
    assert "no user 'bob@shop.example'" in refused.output
    assert len(cli("apikey", "list", "--json").stdout.splitlines()) == 1
