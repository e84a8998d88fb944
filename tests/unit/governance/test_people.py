"""Users, roles and passwords: checked input, argon2 hashes, updates that keep what was not given."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboardflow.governance import people
from onboardflow.governance.passwords import hash_password, needs_rehash, verify_password
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_a_password_hash_is_argon2id_salted_and_verifies_only_the_same_password():
    first, second = hash_password("correct horse"), hash_password("correct horse")

    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse") and verify_password(second, "correct horse")
    assert not verify_password(first, "correct horse ")
    assert not verify_password("not a hash", "correct horse")
    assert not needs_rehash(first)


def test_roles_are_parsed_in_their_canonical_order_and_unknown_ones_named():
    assert people.parse_roles("owner, Author") == ("author", "owner")
    with pytest.raises(ValueError, match="unknown role 'boss': the roles are author, reviewer, owner"):
        people.parse_roles("owner,boss")
    with pytest.raises(ValueError, match="at least one role"):
        people.parse_roles(" , ")


def test_adding_a_user_lowercases_the_email_and_hashes_the_password():
    store = MemoryStore()

    user, new = people.add_user(
        store=store, email="Ana@Shop.Example", name=" Ana ", roles="owner", password="s3cret-enough", now=T0
    )

    assert new and user.email == "ana@shop.example" and user.name == "Ana" and user.roles == ("owner",)
    assert verify_password(store.user("ana@shop.example").password_hash, "s3cret-enough")


def test_adding_an_existing_user_changes_name_and_roles_but_keeps_the_password():
    store = MemoryStore()
    people.add_user(
        store=store, email="ana@shop.example", name="Ana", roles="author", password="s3cret-enough", now=T0
    )

    user, new = people.add_user(
        store=store, email="ANA@shop.example", name="Ana Lima", roles="author,owner", password=None, now=T0
    )

    assert not new and user.roles == ("author", "owner") and user.name == "Ana Lima"
    assert verify_password(user.password_hash, "s3cret-enough") and len(store.users()) == 1


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-email", "Ana", None, "is not an email address"),
        ("ana@shop.example", " ", None, "give the user's name"),
        ("ana@shop.example", "Ana", "short", "at least 8 characters"),
    ],
)
def test_bad_input_is_refused_with_what_to_fix_and_nothing_saved(email, name, password, message):
    store = MemoryStore()

    with pytest.raises(ValueError, match=message):
        people.add_user(store=store, email=email, name=name, roles="author", password=password, now=T0)

    assert store.users() == []


def test_finding_a_user_says_how_to_name_or_add_one_and_refuses_a_disabled_one():
    store = MemoryStore()
    people.add_user(store=store, email="ana@shop.example", name="Ana", roles="author", password=None, now=T0)

    with pytest.raises(people.UnknownUser, match="--as EMAIL, or set ONBOARDFLOW_USER"):
        people.find_user(store, None)
    with pytest.raises(people.UnknownUser, match="onboardflow user add bob@shop.example"):
        people.find_user(store, "bob@shop.example")
    people.set_disabled(store=store, email="ana@shop.example", disabled=True)
    with pytest.raises(people.UnknownUser, match="disabled"):
        people.find_user(store, "ana@shop.example")
    assert people.find_user(store, "ana@shop.example", enabled_only=False).disabled
