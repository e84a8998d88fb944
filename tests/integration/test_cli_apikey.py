"""`onboardflow apikey`: keys created, listed and revoked from the command line, and honoured by the API."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from test_cli import Cli, cli  # noqa: F401  (the fixture; tests/integration is on sys.path)

from onboardflow.api import create_app
from onboardflow.settings import Settings


def api(cli: Cli) -> TestClient:
    settings = Settings(_env_file=None, database_url=cli.url, api_key_cache_seconds=0)
    return TestClient(create_app(settings=settings))


def test_a_key_is_printed_on_the_last_line_works_on_the_api_and_stops_when_revoked(cli: Cli):
    created = cli("apikey", "create", "--scopes", "read,ingest", "--name", "storefront")
    plain = created.stdout.strip().splitlines()[-1]
    assert plain.startswith("obf_")
    [listed] = [json.loads(line) for line in cli("apikey", "list", "--json").stdout.splitlines()]
    assert listed["name"] == "storefront" and listed["scopes"] == ["ingest", "read"]
    assert listed["revoked_at"] is None and plain.split("_")[2] not in cli("apikey", "list").stdout
    assert plain.split("_", 2)[2] not in json.dumps(listed)

    with api(cli) as client:
        auth = {"Authorization": f"Bearer {plain}"}
        assert client.get("/v1/customers/c1/consents", headers=auth).status_code == 200
        assert client.get("/v1/customers/c1/export", headers=auth).status_code == 403

        revoked = cli("apikey", "revoke", listed["id"])
        assert f"revoked {listed['id']} (storefront)" in revoked.stdout
        assert client.get("/v1/customers/c1/consents", headers=auth).status_code == 401


def test_bad_scopes_and_unknown_keys_are_refused_with_what_to_do(cli: Cli):
    bad = cli("apikey", "create", "--scopes", "read,everything", code=1)
    assert "unknown scope 'everything': the scopes are ingest, read, write, admin" in bad.output
    assert cli("apikey", "list", "--json").stdout == ""

    unknown = cli("apikey", "revoke", "abc123", code=1)
    assert "no API key 'abc123'" in unknown.output and "apikey list" in unknown.output


def test_revoke_takes_a_whole_pasted_key_without_echoing_its_secret(cli: Cli):
    plain = cli("apikey", "create", "--scopes", "admin").stdout.strip().splitlines()[-1]

    revoked = cli("apikey", "revoke", plain)

    assert "revoked" in revoked.stdout and plain.split("_", 2)[2] not in revoked.output
