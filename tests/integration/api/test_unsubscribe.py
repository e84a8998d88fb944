"""One-click unsubscribe (RFC 8058) through the API: the POST without a page, the confirming GET page,
and signed tokens that cannot be changed or brought from elsewhere."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from onboardflow.compliance.tokens import UnsubscribeToken, sign
from onboardflow.core.consent import may_receive
from onboardflow.core.model import Event

from .conftest import SECRET, make_api


def granted(api, customer_id: str = "c1", channel: str = "email", event_id: str = "g1", **properties) -> None:
    properties = {"channel": channel, **properties}
    event = Event(event_id, "Consent Granted", customer_id, api.clock.now(), properties)
    api.engine.ingest([event])


# the POST a mail client sends


def test_one_click_post_withdraws_marketing_on_the_tokens_channel(api):
    granted(api)
    api.clock.advance(timedelta(minutes=5))

    response = api.one_click(api.unsubscribe_path(), headers={"User-Agent": "Mail-Client/1.0"})

    assert response.status_code == 200
    assert response.json()["status"] == "unsubscribed"
    assert api.state() == {("email", "marketing"): "withdrawn"}
    line = api.store.consent_state("c1")[("email", "marketing")]
    assert (line.source, line.at) == ("unsubscribe", api.clock.now())
    assert line.evidence == {"method": "one-click", "ip": "testclient", "user_agent": "Mail-Client/1.0"}
    assert may_receive(api.store.consent_state("c1"), "email", "promotion") is False


def test_a_second_one_click_post_answers_200_and_records_nothing_more(api):
    path = api.unsubscribe_path()
    first = api.one_click(path)

    second = api.one_click(path)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["recorded"], second.json()["recorded"]) == (True, False)
    assert len(api.store.consents("c1")) == 1


def test_the_multipart_body_rfc_8058_also_allows_is_accepted(memory_api):
    body = {"List-Unsubscribe": (None, "One-Click")}

    response = memory_api.client.post(memory_api.unsubscribe_path(), files=body)

    assert response.status_code == 200
    assert memory_api.state() == {("email", "marketing"): "withdrawn"}


def test_a_body_that_is_not_one_click_is_refused_saying_what_it_must_be(memory_api):
    response = memory_api.client.post(memory_api.unsubscribe_path(), data={"List-Unsubscribe": "Yes please"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "List-Unsubscribe=One-Click" in response.json()["detail"]
    assert memory_api.store.consents("c1") == []


def test_after_granting_again_an_unsubscribe_is_recorded_again(memory_api):
    path = memory_api.unsubscribe_path()
    memory_api.one_click(path)
    memory_api.clock.advance(timedelta(days=1))
    granted(memory_api, event_id="g2")

    response = memory_api.one_click(path)

    assert response.json()["recorded"] is True
    assert memory_api.state() == {("email", "marketing"): "withdrawn"}
    assert [line.status for line in memory_api.store.consents("c1")] == ["withdrawn", "granted", "withdrawn"]


def test_a_topic_token_withdraws_only_that_topic(memory_api):
    granted(memory_api)
    memory_api.clock.advance(timedelta(minutes=1))

    memory_api.one_click(memory_api.unsubscribe_path(topic="promotion"))

    state = memory_api.store.consent_state("c1")
    assert may_receive(state, "email", "promotion") is False
    assert may_receive(state, "email", "education") is True


# tokens that are not ours


def tampered(token: str, customer_id: str) -> str:
    """The token's signature on other claims: what someone gets by editing the id in a link."""
    _, signature = token.split(".")
    claims = base64.urlsafe_b64encode(json.dumps([1, customer_id, "email", None]).encode()).rstrip(b"=")
    return f"{claims.decode()}.{signature}"


def test_a_tampered_token_is_refused_with_400_and_a_message(memory_api):
    path = memory_api.unsubscribe_path("c1")
    token = path.rsplit("/", 1)[1]

    response = memory_api.one_click(f"/unsubscribe/{tampered(token, 'c2')}")

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Invalid link"
    assert "not valid" in response.json()["detail"]
    assert memory_api.store.consents("c2") == [] and memory_api.store.consents("c1") == []


def test_a_token_signed_with_another_secret_is_refused(memory_api):
    foreign = sign(UnsubscribeToken("c1", "email"), "another-installations-secret-" + "z" * 10)

    response = memory_api.one_click(f"/unsubscribe/{foreign}")

    assert response.status_code == 400
    assert memory_api.store.consents("c1") == []


def test_a_token_cut_short_says_so(memory_api):
    token = memory_api.unsubscribe_path().rsplit("/", 1)[1]

    response = memory_api.one_click(f"/unsubscribe/{token.split('.')[0]}")

    assert response.status_code == 400
    assert "incomplete" in response.json()["detail"]


def test_without_a_signing_secret_the_server_says_what_to_set(store):
    api = make_api(store, unsubscribe_secret=None)

    response = api.one_click("/unsubscribe/" + sign(UnsubscribeToken("c1", "email"), SECRET))

    assert response.status_code == 503
    assert "ONBOARDFLOW_UNSUBSCRIBE_SECRET" in response.json()["detail"]


# the page


def test_the_get_page_shows_a_form_that_posts_the_one_click_body_and_records_nothing(memory_api):
    path = memory_api.unsubscribe_path()

    response = memory_api.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f'<form method="post" action="{path}">' in page
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page
    assert "Stop receiving all marketing by email from Acme Skin?" in page
    assert memory_api.store.consents("c1") == []  # a link scanner that follows the link unsubscribes no one
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_confirm_form_unsubscribes_and_shows_a_page(memory_api):
    path = memory_api.unsubscribe_path()

    response = memory_api.client.post(
        path, data={"List-Unsubscribe": "One-Click", "via": "page"}, headers={"Accept": "text/html"}
    )

    assert response.status_code == 200
    assert "You are unsubscribed from all marketing by email from Acme Skin." in response.text
    assert memory_api.store.consents("c1")[0].evidence["method"] == "confirm-page"


def test_a_tampered_link_opened_in_a_browser_gets_an_html_page_with_the_message(memory_api):
    token = memory_api.unsubscribe_path().rsplit("/", 1)[1]

    response = memory_api.client.get(f"/unsubscribe/{tampered(token, 'c2')}")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "This link is not valid" in response.text


def test_what_the_page_shows_is_escaped(store):
    api = make_api(store, sender_name="<script>alert(1)</script> & Co")

    page = api.client.get(api.unsubscribe_path()).text

    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
