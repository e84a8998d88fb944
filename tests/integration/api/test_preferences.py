"""The preference page: per channel and topic, what the ledger says, and each change a ledger line."""

from __future__ import annotations

import re
from datetime import timedelta

from onboardflow.core.consent import may_receive
from onboardflow.core.model import Event


def grant(api, channel: str = "email", event_id: str = "g1") -> None:
    api.engine.ingest([Event(event_id, "Consent Granted", "c1", api.clock.now(), {"channel": channel})])
    api.clock.advance(timedelta(minutes=1))


def ticked(page: str) -> set[str]:
    return set(re.findall(r'name="subscribe" value="([^"]+)" checked', page))


def offered(page: str) -> set[str]:
    return set(re.findall(r'name="subscribe" value="([^"]+)"', page))


def test_the_page_ticks_every_topic_marketing_consent_covers(api):
    grant(api)

    page = api.client.get(api.preferences_path()).text

    assert ticked(page) == {"email:education", "email:engagement", "email:promotion"}
    assert "By email" in page and "Offers and promotions" in page


def test_without_consent_nothing_is_ticked(memory_api):
    page = memory_api.client.get(memory_api.preferences_path()).text

    assert offered(page) == {"email:education", "email:engagement", "email:promotion"}
    assert ticked(page) == set()


def test_saving_round_trips_through_the_ledger(api):
    grant(api)
    path = api.preferences_path()

    form = {"subscribe": ["email:education", "email:engagement"], "action": "save"}

    saved = api.client.post(path, data=form)

    assert saved.status_code == 200
    assert "Saved: 1 change." in saved.text
    assert ticked(saved.text) == {"email:education", "email:engagement"}
    assert ticked(api.client.get(path).text) == {"email:education", "email:engagement"}
    state = api.store.consent_state("c1")
    assert may_receive(state, "email", "promotion") is False
    assert may_receive(state, "email", "education") is True
    line = state[("email", "promotion")]
    assert (line.status, line.source, line.text_version) == ("withdrawn", "preferences", "prefs-2026-01")
    assert line.evidence["method"] == "preferences-page"


def test_ticking_a_topic_grants_it(memory_api):
    form = {"subscribe": "email:education", "action": "save"}
    memory_api.client.post(memory_api.preferences_path(), data=form)

    state = memory_api.store.consent_state("c1")

    assert may_receive(state, "email", "education") is True
    assert may_receive(state, "email", "promotion") is False


def test_unsubscribe_from_all_withdraws_every_topic(memory_api):
    grant(memory_api)

    page = memory_api.client.post(
        memory_api.preferences_path(), data={"subscribe": ["email:education"], "action": "unsubscribe-all"}
    ).text

    assert ticked(page) == set()
    assert "Saved: 3 changes." in page
    state = memory_api.store.consent_state("c1")
    assert not any(may_receive(state, "email", topic) for topic in ("education", "engagement", "promotion"))


def test_the_page_offers_the_channels_the_ledger_names_and_ignores_others_in_the_form(memory_api):
    grant(memory_api, "sms")

    page = memory_api.client.post(
        memory_api.preferences_path(channel="email"),
        data={"subscribe": ["sms:promotion", "whatsapp:promotion"], "action": "save"},
    ).text

    assert {value.split(":")[0] for value in offered(page)} == {"email", "sms"}
    assert page.index("By email") < page.index("By text messages (SMS)")
    state = memory_api.store.consent_state("c1")
    assert may_receive(state, "sms", "promotion") is True
    assert may_receive(state, "sms", "education") is False
    assert not any(channel == "whatsapp" for channel, _ in state)


def test_a_tampered_preferences_link_is_refused(memory_api):
    path = memory_api.preferences_path()

    response = memory_api.client.get(path[:-3] + "AAA")

    assert response.status_code == 400
    assert "This link is not valid" in response.text
