"""Users as every store keeps them: insert or replace by email (compared lower-cased), found, listed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from onboardflow.api.keys import mint
from onboardflow.governance.passwords import hash_password, verify_password
from onboardflow.ports import User

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_a_saved_user_is_found_by_email_in_any_case_with_roles_and_password_hash(store):
    ana = User("ana@shop.example", "Ana Lima", ("author", "owner"), hash_password("correct horse"), T0)
    store.save_user(ana)

    found = store.user("Ana@Shop.Example")

    assert found == ana
    assert found.roles == ("author", "owner") and not found.disabled and found.created_at == T0
    assert verify_password(found.password_hash, "correct horse")
    assert store.user("bob@shop.example") is None


def test_saving_the_same_email_again_replaces_the_user_and_keeps_one_row(store):
    store.save_user(User("Ana@Shop.example", "Ana", ("author",), None, T0))
    store.save_user(User("ana@shop.example", "Ana Lima", ("owner", "reviewer"), "hash", T0, disabled=True))

    [only] = store.users()

    assert only == User("ana@shop.example", "Ana Lima", ("owner", "reviewer"), "hash", T0, disabled=True)


def test_users_are_listed_by_email(store):
    for email in ("zoe@shop.example", "ana@shop.example", "max@shop.example"):
        store.save_user(User(email, email.split("@")[0], ("support",), None, T0))

    emails = [user.email for user in store.users()]
    assert emails == ["ana@shop.example", "max@shop.example", "zoe@shop.example"]
    store.save_user(replace(store.user("max@shop.example"), name="Max"))
    assert [user.name for user in store.users()] == ["ana", "Max", "zoe"]


def test_an_api_key_keeps_the_user_it_acts_as(store):
    personal, _ = mint("ana-laptop", "write", now=T0, user="Ana@Shop.example")
    service, _ = mint("storefront", "ingest", now=T0)
    store.save_api_key(personal)
    store.save_api_key(service)

    assert store.api_key(personal.id).user == "ana@shop.example"
    assert store.api_key(service.id).user is None
