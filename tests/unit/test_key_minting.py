"""Minting and checking API keys: shape, scopes, constant-time hash check, revocation, the cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboardflow.api.keys import BadKey, KeyRing, grants, mint, parse_scopes, split
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_scopes_are_checked_and_kept_in_a_stable_order():
    assert parse_scopes("read, ingest") == ("ingest", "read")
    assert parse_scopes(["admin"]) == ("admin",)
    with pytest.raises(ValueError, match="unknown scope 'delete': the scopes are ingest, read, write, admin"):
        parse_scopes("read,delete")
    with pytest.raises(ValueError, match="at least one scope"):
        parse_scopes(" , ")


def test_admin_grants_every_scope_and_others_only_their_own():
    assert grants(("admin",), "ingest") and grants(("admin",), "write")
    assert grants(("ingest",), "ingest")
    assert not grants(("ingest",), "read") and not grants(("read",), "write")


def test_a_minted_key_is_obf_id_secret_and_two_keys_differ():
    one, plain_one = mint("storefront", "ingest", now=T0)
    two, plain_two = mint("storefront", "ingest", now=T0)
    assert plain_one.startswith(f"obf_{one.id}_") and split(plain_one)[0] == one.id
    assert one.id != two.id and plain_one != plain_two
    with pytest.raises(ValueError, match="--name"):
        mint("  ", "read", now=T0)


@pytest.mark.parametrize("token", ["", "abc", "obf_", "obf_abc", "obf__secret", "sk_abc_def"])
def test_tokens_that_are_not_keys_are_refused_by_their_shape(token):
    with pytest.raises(BadKey, match="obf_<id>_<secret>"):
        split(token)


def test_the_ring_accepts_the_key_and_refuses_a_wrong_secret_and_a_revoked_key():
    store = MemoryStore()
    record, plain = mint("crm", "read", now=T0)
    store.save_api_key(record)
    ring = KeyRing(store, ttl=0)

    assert ring.check(plain) == record
    with pytest.raises(BadKey, match="unknown API key"):
        ring.check(plain[:-2] + ("xx" if not plain.endswith("xx") else "yy"))
    with pytest.raises(BadKey, match="unknown API key"):
        ring.check("obf_000000000000_whatever")
    store.revoke_api_key(record.id, at=T0)
    with pytest.raises(BadKey, match=f"{record.id} \\(crm\\) was revoked"):
        ring.check(plain)


def test_the_ring_trusts_what_it_read_for_its_ttl_then_reads_again():
    store = MemoryStore()
    record, plain = mint("crm", "read", now=T0)
    store.save_api_key(record)
    now = [100.0]
    ring = KeyRing(store, ttl=10, monotonic=lambda: now[0])
    ring.check(plain)

    store.revoke_api_key(record.id, at=T0)  # by another process: this ring does not know yet
    now[0] += 9
    assert ring.check(plain).id == record.id
    now[0] += 2
    with pytest.raises(BadKey, match="revoked"):
        ring.check(plain)


def test_a_key_the_ring_forgets_is_read_again_at_once():
    store = MemoryStore()
    record, plain = mint("crm", "read", now=T0)
    store.save_api_key(record)
    ring = KeyRing(store, ttl=60)
    ring.check(plain)

    store.revoke_api_key(record.id, at=T0)
    ring.forget(record.id)

    with pytest.raises(BadKey, match="revoked"):
        ring.check(plain)
