"""Publishing, pausing and resuming on the memory store: what each says when asked the wrong thing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from onboardflow.core.migration import MigrationInvalid
from onboardflow.core.validation import load_journey
from onboardflow.engine.pausing import JourneyNotFound, JourneyNotPaused

from .shop import T0

JOURNEY = """\
id: hello
name: Hello
owner: growth@shop.example
trigger: {event: Signed Up}
reentry: always
steps:
  - {id: hi, send: {channel: email, template: hi}}
  - {id: pause, wait: 1d}
  - {id: bye, send: {channel: email, template: bye}}
"""


def later(migrate: str = "", tail: str = "") -> str:
    """A second version: the same steps, a new last message, and `migrate` if given."""
    text = JOURNEY.replace("template: bye", "template: bye_again") + tail
    return text.replace("steps:\n", f"migrate: {migrate}\nsteps:\n") if migrate else text


@pytest.fixture
def live(shop):
    shop.publish(JOURNEY)
    return shop


def test_pausing_twice_is_harmless_and_keeps_the_first_time(live):
    first = live.engine.pause("hello")
    live.after(hours=2)

    again = live.engine.pause("hello")

    assert again.paused_at == first.paused_at == T0
    live.engine.resume("hello")
    assert not live.store.journeys()[0].is_paused


def test_resuming_a_journey_that_runs_says_it_is_not_paused(live):
    with pytest.raises(JourneyNotPaused) as raised:
        live.engine.resume("hello")

    assert str(raised.value) == "journey 'hello' is not paused: nothing to resume"


@pytest.mark.parametrize("verb", ["pause", "resume"])
def test_an_unknown_journey_is_named_with_the_journeys_there_are(live, verb):
    with pytest.raises(JourneyNotFound) as raised:
        getattr(live.engine, verb)("helo")

    assert str(raised.value) == (
        "no journey 'helo': the journeys are: hello (publish one with `onboardflow load FILE`)"
    )


def test_an_event_seen_twice_while_paused_is_held_once(live):
    live.ingest(live.event("Signed Up", id="s1"))
    live.engine.pause("hello")
    event = live.event("Signed Up", id="s2")
    live.ingest(event)

    live.ingest(event)

    assert live.store.held_counts() == {}  # the trigger starts nobody, and no running step waits for it
    assert len(live.store.enrollments_of("c1")) == 1


def test_migrating_from_a_version_that_does_not_exist_is_refused(live):
    with pytest.raises(MigrationInvalid) as raised:
        live.publish(later("{from_version: 4, steps: {pause: pause}}"))

    assert str(raised.value) == (
        "journey hello: field migrate.from_version: journey 'hello' has no version 4 (version 1 so far; "
        "this one will be 2): migrate from one of those"
    )


def test_a_first_version_that_migrates_is_refused(shop):
    with pytest.raises(MigrationInvalid) as raised:
        shop.publish(later("{from_version: 1, steps: {pause: pause}}"))

    assert "journey 'hello' has no version yet, so nobody to move: remove migrate" in str(raised.value)
    assert shop.store.journeys() == []


def test_while_paused_a_migration_to_a_step_that_would_run_is_refused(live):
    live.ingest(live.event("Signed Up"))
    live.engine.pause("hello")

    with pytest.raises(MigrationInvalid) as raised:
        live.publish(later("{from_version: 1, steps: {pause: bye}}"))

    assert "the journey is paused, and 'bye' (a send step) would run at once" in str(raised.value)
    assert live.sent() == ["hi"]


def test_migration_moves_only_active_enrollments_of_that_version(live):
    live.ingest(live.event("Signed Up", "done-already"))
    live.after(days=1)
    live.engine.fire_due_timers()  # done-already completes on v1
    live.ingest(live.event("Signed Up", "waiting"))

    publication = live.engine.publish_version(load_journey(later("{from_version: 1, steps: {pause: pause}}")))

    assert publication.moved == 1
    assert [e.version for e in live.store.enrollments_of("done-already")] == [1]
    assert [e.version for e in live.store.enrollments_of("waiting")] == [2]


def test_resume_applies_a_due_timer_and_a_held_event_of_one_customer_in_time_order(live):
    live.publish(later(tail="  - id: login\n    wait_for: {event: First Login, timeout: 1d}\n"
                            "    on_timeout: nudge\n  - {id: done, exit: completed}\n"
                            "  - {id: nudge, send: {channel: email, template: nudge}}\n"))
    live.ingest(live.event("Signed Up"))
    live.engine.pause("hello")
    live.after(days=1, hours=12)
    live.ingest(live.event("First Login", at=T0 + timedelta(days=1, hours=12)))

    live.engine.resume("hello")

    # the pause's timer (due on day 1) first, which brings the customer to the login wait; then the login
    # (day 1.5), which that wait takes: had the login gone first, nobody would have been waiting for it
    assert live.sent() == ["hi", "bye"]
    assert live.enrollment("c1", "hello").exit_reason == "completed"


def test_the_migration_example_of_the_docs_does_what_the_docs_say(examples):
    doc = (Path(__file__).resolve().parents[3] / "docs" / "journey-language.md").read_text(encoding="utf-8")
    [text] = [block for block in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL) if "\nmigrate:" in block]
    examples.ingest(examples.event("Signed Up"))
    examples.after(days=2)

    publication = examples.engine.publish_version(load_journey(text, source="docs"))

    assert (publication.stored.version, publication.moved) == (2, 1)
    enrollment = examples.enrollment("c1", "signup-activation")
    assert (enrollment.version, enrollment.step_id) == (2, "await-first-login")
    assert enrollment.waiting.until == T0 + timedelta(days=5)  # three days left of five


# publishing a stored version again (the API's POST /v1/journeys/{id}/publish)


def test_publishing_an_older_version_again_makes_its_content_the_next_version(live):
    live.publish(later())

    publication = live.engine.publish_stored("hello", 1)

    assert (publication.stored.version, publication.is_new) == (3, True)
    assert publication.stored.digest == live.store.version("hello", 1).digest
    assert live.store.journeys()[0].live_version == 3
    assert publication.stored.source == "version 1, published again"


def test_publishing_the_live_version_changes_nothing(live):
    publication = live.engine.publish_stored("hello", 1)

    assert (publication.stored.version, publication.is_new) == (1, False)
    assert len(live.store.versions("hello")) == 1


def test_a_stored_migrate_block_is_not_carried_into_a_later_publication(live):
    live.publish(later())
    live.publish(later(migrate="{from_version: 1, steps: {pause: pause}}", tail="# v3\n"))
    live.publish(JOURNEY.replace("wait: 1d", "wait: 2d"))  # v4

    publication = live.engine.publish_stored("hello", 3)  # its block moved customers from v1 to v3

    assert publication.stored.version == 5
    assert "migrate" not in live.store.version("hello", 5).definition


def test_publishing_with_migrate_moves_the_customers_it_maps(live):
    live.ingest(live.event("Signed Up"))
    live.publish(later())

    migrate = {"from_version": 1, "steps": {"pause": "pause"}}

    publication = live.engine.publish_stored("hello", 2, migrate=migrate)

    assert (publication.stored.version, publication.moved) == (3, 1)
    assert live.store.enrollments_of("c1")[0].version == 3


def test_publishing_what_is_not_stored_says_what_is(live):
    from onboardflow.engine.live import VersionNotFound

    with pytest.raises(VersionNotFound, match="journey 'hello' has no version 4: its versions are 1 to 1"):
        live.engine.publish_stored("hello", 4)
    with pytest.raises(JourneyNotFound, match="no journey 'nope'"):
        live.engine.publish_stored("nope", 1)
    with pytest.raises(MigrationInvalid):
        live.engine.publish_stored("hello", 1, migrate={"from_version": 1, "steps": {"hi": "bye"}})
