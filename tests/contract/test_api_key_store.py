"""API keys as every store keeps them: saved with their hash, found by id, listed, revoked once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.api.keys import digest, mint
from onboardflow.ports import ApiKeyNotFound

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_a_saved_key_is_found_by_its_id_with_its_scopes_and_hash_but_never_its_secret(store):
    record, plain = mint("storefront", "ingest", now=T0)
    store.save_api_key(record)

    found = store.api_key(record.id)

    assert found == record
    assert found.scopes == ("ingest",) and found.created_at == T0 and not found.is_revoked
    secret = plain.split("_", 2)[2]
    assert found.digest == digest(secret) and secret not in repr(found)
    assert store.api_key("nope") is None


def test_keys_are_listed_oldest_first(store):
    later, _ = mint("crm", "read,write", now=T0 + timedelta(minutes=5))
    first, _ = mint("ops", "admin", now=T0)
    store.save_api_key(later)
    store.save_api_key(first)

    assert [key.name for key in store.api_keys()] == ["ops", "crm"]
    assert store.api_keys()[1].scopes == ("read", "write")


def test_revoking_keeps_the_first_revocation_time_and_unknown_ids_say_so(store):
    record, _ = mint("storefront", "ingest", now=T0)
    store.save_api_key(record)

    revoked = store.revoke_api_key(record.id, at=T0 + timedelta(hours=1))
    again = store.revoke_api_key(record.id, at=T0 + timedelta(hours=2))

    assert revoked.revoked_at == T0 + timedelta(hours=1) == again.revoked_at
    assert store.api_key(record.id).is_revoked
    with pytest.raises(ApiKeyNotFound, match="apikey list"):
        store.revoke_api_key("nope", at=T0)
