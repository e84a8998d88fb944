"""Making subscriptions: what a URL and a list of event types must be, said so people can fix them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from onboardflow.outbound.subscriptions import (
    SubscriptionInvalid,
    checked,
    create_subscription,
    disable_subscription,
    enable_subscription,
)
from onboardflow.ports import SubscriptionNotFound
from onboardflow.store.memory import MemoryStore

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def problems(**fields) -> list[str]:
    with pytest.raises(SubscriptionInvalid) as invalid:
        checked(**fields)
    return invalid.value.problems


def test_a_new_subscription_gets_an_id_and_a_standard_webhooks_secret_of_its_own():
    store = MemoryStore()

    first = create_subscription(store=store, now=T0, url="https://hooks.example/in", events="task.opened")
    second = create_subscription(store=store, now=T0, url="https://hooks.example/in", events="task.opened")

    assert first.id.startswith("sub_") and first.id != second.id
    assert first.secret.startswith("whsec_") and first.secret != second.secret
    assert len(base64.b64decode(first.secret.removeprefix("whsec_"))) == 32
    Webhook(first.secret)  # the library takes it
    assert sorted(store.subscriptions(), key=lambda s: s.id) == sorted([first, second], key=lambda s: s.id)


def test_event_types_are_split_trimmed_and_deduplicated_and_a_star_means_all():
    assert checked(url="https://a.example", events=" task.opened,message.sent ,task.opened").events == (
        "task.opened", "message.sent")
    assert checked(url="https://a.example", events="task.opened,*").events == ("*",)
    assert checked(url="https://a.example", events=["message.failed"]).events == ("message.failed",)


def test_an_unknown_event_type_is_named_with_the_ones_there_are():
    [problem] = problems(url="https://a.example", events="message.sent,task.closed")

    assert problem.startswith("events: unknown event type(s) 'task.closed': the types are message.sent, ")
    assert problem.endswith("journey.published, or * for all")


def test_no_event_type_is_a_problem():
    [problem] = problems(url="https://a.example", events=" , ")

    assert problem.startswith("events: name at least one event type (message.sent,")


@pytest.mark.parametrize(("url", "said"), [
    ("ftp://files.example/in", "url: URL scheme should be 'http' or 'https' (got 'ftp://files.example/in'): "
                               "it must start with https:// (or http://)"),
    ("hooks.example/in", "url: Input should be a valid URL, relative URL without a base "
                         "(got 'hooks.example/in'): write the whole URL, e.g. https://hooks.example.com/onboardflow"),
    ("https://", "url: Input should be a valid URL, empty host (got 'https://'): write the whole URL, "
                 "e.g. https://hooks.example.com/onboardflow"),
])
def test_a_url_that_will_not_do_says_what_to_write(url, said):
    assert problems(url=url, events="*") == [said]


def test_a_url_with_a_password_is_refused_without_showing_it():
    [problem] = problems(url="https://me:hunter2@hooks.example/in", events="*")

    assert problem.startswith("url: it holds a user name or password: leave them out")
    assert "hunter2" not in problem


def test_every_problem_is_said_at_once():
    said = problems(url="nope", events="nope", description="x" * 501)

    assert [problem.split(":")[0] for problem in said] == ["url", "events", "description"]


def test_disabling_keeps_the_reason_and_time_and_enabling_clears_them():
    store = MemoryStore()
    created = create_subscription(store=store, now=T0, url="https://a.example", events="*")

    disabled = disable_subscription(store=store, subscription_id=created.id, reason="maintenance", now=T0)
    enabled = enable_subscription(store=store, subscription_id=created.id)

    assert (disabled.enabled, disabled.disabled_reason, disabled.disabled_at) == (False, "maintenance", T0)
    assert (enabled.enabled, enabled.disabled_reason, enabled.disabled_at) == (True, None, None)


def test_an_unknown_id_names_the_subscriptions_there_are():
    store = MemoryStore()
    created = create_subscription(store=store, now=T0, url="https://a.example", events="*")

    said = f"no subscription 'sub_x'; the subscriptions are: {created.id}"
    with pytest.raises(SubscriptionNotFound, match=said):
        enable_subscription(store=store, subscription_id="sub_x")
