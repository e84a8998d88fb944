"""GET /v1/kpis: the read scope, the KPIs of journeys the engine ran, cuts, and problems for bad asks."""

from __future__ import annotations

from .conftest import ADMIN, PROFILE, T0

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def test_kpis_of_the_journeys_the_engine_ran(api):
    from onboardflow.core.model import Event

    orders = [
        Event(f"o{n}", "Order Completed", f"c{n}", T0, {"order_id": f"o{n}", "total": 40.0}, PROFILE)
        for n in range(3)
    ]
    api.engine.ingest(orders)
    answer = api.client.get("/v1/kpis", headers=AUTH)
    assert answer.status_code == 200, answer.text
    groups = {group["key"]: group["kpis"] for group in answer.json()["groups"]}
    entered = sum(kpis["entered"] for kpis in groups.values())
    assert entered == len(api.store.journey_enrollments()) > 0
    assert all(kpis["uplift"]["verdict"] == "too small to tell" for kpis in groups.values())
    journey = next(iter(groups))
    cut = api.client.get("/v1/kpis", params={"journey_id": journey, "by": "cohort"}, headers=AUTH).json()
    assert [group["key"] for group in cut["groups"]] == ["2026-W10"]


def test_kpis_answer_problems_saying_what_to_fix(memory_api):
    client = memory_api.client
    assert client.get("/v1/kpis").status_code == 401
    missing = client.get("/v1/kpis", params={"journey_id": "nope"}, headers=AUTH)
    assert missing.status_code == 404 and "no journey 'nope' is published" in missing.json()["detail"]
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/kpis", params={"by": "colour"}, headers=AUTH).status_code == 422
    naive = client.get("/v1/kpis", params={"as_of": "2026-03-09T08:00:00"}, headers=AUTH)
    assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
