"""Live versions on memory, SQLite and PostgreSQL, on a virtual clock: customers pinned to their version,
migrated by a new version's `migrate`, held by a pause and let go by a resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from onboardflow.core.migration import MigrationInvalid
from onboardflow.core.model import Event
from onboardflow.core.validation import load_journey
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def onboarding(tag: str, *, settle: str = "settle", migrate: str = "") -> str:
    """The journey as its version `tag` has it: its messages are named after the tag."""
    return f"""\
id: onboarding
name: Onboarding
owner: cs@shop.example
trigger: {{event: Signed Up}}
exit_when: [{{event: Unsubscribed}}]
{f"migrate: {migrate}" if migrate else ""}
steps:
  - {{id: hello, send: {{channel: email, template: hello_{tag}}}}}
  - {{id: {settle}, wait: 3d}}
  - {{id: tips, send: {{channel: email, template: tips_{tag}}}}}
  - id: await-login
    wait_for: {{event: First Login, timeout: 5d}}
    on_timeout: nudge
  - {{id: done, exit: completed}}
  - {{id: nudge, send: {{channel: email, template: nudge_{tag}}}, goto: done}}
"""


SETTLE_TO_REST = onboarding("v2", settle="rest", migrate="{from_version: 1, steps: {settle: rest}}")


class Shop:
    """The engine on one store and a virtual clock, with short ways to say what customers do."""

    def __init__(self, store) -> None:
        self.store = store
        self.clock = VirtualClock(T0)
        self.engine = Engine(store, clock=self.clock)
        self._ids = count(1)

    def publish(self, text: str):
        return self.engine.publish_version(load_journey(text, source="onboarding.yaml"))

    def event(self, name: str, customer_id: str = "c1", *, engine: Engine | None = None):
        event = Event(f"e{next(self._ids)}", name, customer_id, self.clock.now(), {})
        return (engine or self.engine).ingest([event])

    def at(self, **since_t0) -> datetime:
        """Run every timer due up to T0 + `since_t0`, each at its due time, and stop the clock there."""
        moment = T0 + timedelta(**since_t0)
        self.engine.run_timers_until(moment)
        return moment

    def sent(self, customer_id: str = "c1") -> list[tuple[str, int]]:
        return [(row.message.template, row.message.version) for row in self.store.messages(customer_id)]

    def enrollment(self, customer_id: str = "c1"):
        [found] = self.store.enrollments_of(customer_id)
        return found


@pytest.fixture
def shop(store) -> Shop:
    shop = Shop(store)
    shop.publish(onboarding("v1"))
    return shop


# pinned by default


def test_customers_mid_journey_finish_on_their_version_and_new_ones_start_on_the_new(shop):
    shop.event("Signed Up", "c1")
    shop.at(days=1)

    publication = shop.publish(onboarding("v2"))
    shop.event("Signed Up", "c2")
    shop.at(days=20)

    assert (publication.stored.version, publication.is_new, publication.moved) == (2, True, 0)
    assert shop.sent("c1") == [("hello_v1", 1), ("tips_v1", 1), ("nudge_v1", 1)]
    assert shop.sent("c2") == [("hello_v2", 2), ("tips_v2", 2), ("nudge_v2", 2)]
    assert shop.enrollment("c1").version == 1


def test_publishing_the_same_content_again_changes_nothing(shop):
    shop.event("Signed Up")
    shop.at(days=1)
    first = shop.publish(SETTLE_TO_REST)
    before = (shop.enrollment(), shop.store.counts())

    again = shop.publish(SETTLE_TO_REST)

    assert (first.is_new, first.moved) == (True, 1)
    assert (again.stored, again.is_new, again.moved) == (first.stored, False, 0)
    assert (shop.enrollment(), shop.store.counts()) == before


# migration


def test_a_migration_moves_customers_at_mapped_steps_and_the_rest_finish_on_their_version(shop):
    shop.event("Signed Up", "c2")
    shop.at(days=3)  # c2 had its tips and waits for a login: a step the migration does not map
    shop.event("Signed Up", "c1")  # c1 settles until day 6
    shop.at(days=5)

    publication = shop.publish(SETTLE_TO_REST)
    shop.at(days=30)

    assert publication.moved == 1
    moved = shop.enrollment("c1")
    assert (moved.version, moved.exit_reason) == (2, "completed")
    assert [visit.step_id for visit in moved.history] == ["hello", "settle", "rest", "tips", "await-login",
                                                          "nudge", "done"]
    assert shop.sent("c1") == [("hello_v1", 1), ("tips_v2", 2), ("nudge_v2", 2)]
    assert shop.sent("c2") == [("hello_v1", 1), ("tips_v1", 1), ("nudge_v1", 1)]
    assert shop.enrollment("c2").version == 1


def test_a_moved_wait_counts_from_when_the_customer_reached_the_old_step(shop):
    shop.event("Signed Up")
    shop.at(days=2)
    shop.publish(SETTLE_TO_REST)

    shop.at(days=3, seconds=-1)
    assert shop.sent() == [("hello_v1", 1)]
    shop.at(days=3)

    [tips] = [row.message for row in shop.store.messages("c1") if row.message.step_id == "tips"]
    assert (tips.template, tips.at) == ("tips_v2", T0 + timedelta(days=3))
    assert shop.store.counts()["timers"] == 1  # the login wait's; the old settle timer is gone


def test_a_customer_moved_to_a_step_that_does_not_wait_runs_it_in_the_publish(shop):
    shop.event("Signed Up")
    shop.at(days=1)

    shop.publish(onboarding("v2", migrate="{from_version: 1, steps: {settle: tips}}"))

    assert shop.sent() == [("hello_v1", 1), ("tips_v2", 2)]
    enrollment = shop.enrollment()
    assert (enrollment.step_id, enrollment.waiting.until) == ("await-login", T0 + timedelta(days=6))
    assert shop.store.counts()["timers"] == 1


def test_a_migration_that_does_not_hold_publishes_nothing_and_moves_nobody(shop):
    shop.event("Signed Up")
    before = (shop.enrollment(), shop.store.counts())

    with pytest.raises(MigrationInvalid) as raised:
        shop.publish(onboarding("v2", migrate="{from_version: 1, steps: {hello: tips, settle: tips}}"))

    assert "migrate.steps.hello: 'hello' is a send step: nobody waits there" in str(raised.value)
    assert [(s.journey_id, s.live_version) for s in shop.store.journeys()] == [("onboarding", 1)]
    assert shop.store.version("onboarding", 2) is None
    assert (shop.enrollment(), shop.store.counts()) == before


# pause and resume


def test_a_paused_journey_starts_nobody_and_fires_no_timer_of_its_own(shop):
    shop.event("Signed Up", "c1")
    shop.at(days=1)

    state = shop.engine.pause("onboarding")
    shop.event("Signed Up", "c2")
    shop.at(days=10)

    assert state.paused_at == T0 + timedelta(days=1)
    assert shop.store.enrollments_of("c2") == []
    assert (shop.enrollment("c1").step_id, shop.sent("c1")) == ("settle", [("hello_v1", 1)])
    assert shop.engine.work().timers_fired == 0  # a worker does not spin on the held timer
    assert shop.engine.fire_due_timers().timers_fired == 0
    assert [s.paused_at for s in shop.store.journeys()] == [T0 + timedelta(days=1)]


def test_on_resume_timers_that_fell_due_during_the_pause_are_applied_then(shop):
    shop.event("Signed Up", "c1")
    shop.at(days=1)
    shop.engine.pause("onboarding")
    shop.event("Signed Up", "c2")
    shop.at(days=10)

    resumed = shop.engine.resume("onboarding")

    assert (resumed.events, resumed.timers, resumed.state.is_paused) == (0, 1, False)
    [tips] = [row.message for row in shop.store.messages("c1") if row.message.step_id == "tips"]
    assert tips.at == T0 + timedelta(days=10)
    assert shop.enrollment("c1").waiting.until == T0 + timedelta(days=15)  # measured from the resume
    assert shop.store.enrollments_of("c2") == []  # an entry missed during the pause is not made up
    assert [s.paused_at for s in shop.store.journeys()] == [None]


def at_await_login_then_paused(shop: Shop) -> None:
    """c1 waits for a login from day 3 until day 8; the journey is paused on day 4."""
    shop.event("Signed Up")
    shop.at(days=4)
    assert shop.enrollment().waiting.until == T0 + timedelta(days=8)
    shop.engine.pause("onboarding")


def test_an_event_held_from_before_the_timeout_takes_the_event_path_on_resume(shop):
    at_await_login_then_paused(shop)
    shop.at(days=5)
    shop.event("First Login")
    shop.at(days=10)
    assert shop.store.held_counts() == {"onboarding": 1}
    assert shop.enrollment().step_id == "await-login"

    shop.engine.resume("onboarding")

    assert shop.enrollment().exit_reason == "completed"
    assert [name for name, _ in shop.sent()] == ["hello_v1", "tips_v1"]  # no nudge
    assert shop.store.held_counts() == {}
    assert shop.store.counts()["timers"] == 0


def test_a_timeout_that_passed_before_the_held_event_takes_the_timeout_path_on_resume(shop):
    at_await_login_then_paused(shop)
    shop.at(days=9)
    shop.event("First Login")  # a day after the timeout
    shop.at(days=10)

    shop.engine.resume("onboarding")

    assert [name for name, _ in shop.sent()] == ["hello_v1", "tips_v1", "nudge_v1"]
    assert shop.enrollment().exit_reason == "completed"


@pytest.mark.parametrize(("first", "then", "reason"), [
    ("First Login", "Unsubscribed", "completed"),
    ("Unsubscribed", "First Login", "exit_rule"),
])
def test_held_events_are_applied_in_the_order_they_happened(shop, first, then, reason):
    at_await_login_then_paused(shop)
    shop.event(first)
    shop.at(days=5)
    shop.event(then)
    assert shop.enrollment().is_active  # both held

    shop.engine.resume("onboarding")

    assert shop.enrollment().exit_reason == reason


def test_a_pause_reaches_an_engine_that_was_running_before_it(shop):
    worker = Engine(shop.store, clock=shop.clock)  # another process, say, started before the pause
    shop.event("Signed Up", "c1")
    shop.at(days=4)

    shop.engine.pause("onboarding")
    shop.event("Signed Up", "c2", engine=worker)
    shop.event("First Login", "c1", engine=worker)

    assert shop.store.enrollments_of("c2") == []
    assert shop.enrollment("c1").step_id == "await-login"
    assert shop.store.held_counts() == {"onboarding": 1}
    shop.engine.resume("onboarding")
    shop.event("Signed Up", "c3", engine=worker)
    assert len(shop.store.enrollments_of("c3")) == 1


def test_a_migration_published_while_paused_moves_waiting_customers_who_stay_held(shop):
    shop.event("Signed Up")
    shop.at(days=1)
    shop.engine.pause("onboarding")

    publication = shop.publish(SETTLE_TO_REST)
    shop.at(days=5)

    assert (publication.moved, shop.enrollment().step_id, shop.sent()) == (1, "rest", [("hello_v1", 1)])
    shop.engine.resume("onboarding")
    assert shop.sent() == [("hello_v1", 1), ("tips_v2", 2)]
