"""Migration in the core: one waiting enrollment moved to a newer version, and the checks of a mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.effects import CancelTimer, ScheduleTimer, SendMessage
from onboardflow.core.migration import check_migration, reached_at
from onboardflow.core.validation import JourneyInvalid, load_journey

from .driver import T0, Run, journey, only

V1 = journey("""\
  - {id: hello, send: {channel: email, template: hello}}
  - {id: settle, wait: 3d}
  - id: ab
    split: [{weight: 1, goto: tips, name: a}, {weight: 1, goto: tips, name: b}]
  - {id: tips, send: {channel: email, template: tips_v1}}
""")


def v2(settle: str, tail: str = "") -> str:
    """Version 2: a new first step, `settle` as given, then tips of its own."""
    return journey(f"""\
  - {{id: hi, send: {{channel: email, template: hi_v2}}}}
  - {settle}
  - {{id: tips, send: {{channel: email, template: tips_v2}}}}
{tail}""")


def waiting_two_days() -> Run:
    run = Run(V1)
    run.trigger()
    run.sleep("2d")
    return run


class TestAWaitMovedToAWait:
    def test_the_wait_counts_from_when_the_customer_reached_the_old_step(self):
        run = waiting_two_days()

        decision = run.move_to(v2("{id: settle-again, wait: 3d}"), "settle-again")

        timer = only(decision.effects, ScheduleTimer)
        assert timer.due_at == T0 + timedelta(days=3)  # one day left, not three
        assert run.enrollment.waiting.until == T0 + timedelta(days=3)
        assert run.enrollment.step_id == "settle-again"

    def test_the_old_timer_is_cancelled_and_a_new_one_scheduled(self):
        run = waiting_two_days()
        old_timer = run.enrollment.waiting.timer_id

        decision = run.move_to(v2("{id: settle, wait: 3d}"), "settle")

        assert only(decision.effects, CancelTimer).timer_id == old_timer
        assert only(decision.effects, ScheduleTimer).timer_id not in (old_timer,)
        assert list(run.timers) == [run.enrollment.waiting.timer_id]

    def test_a_wait_already_past_is_due_at_once(self):
        run = waiting_two_days()

        decision = run.move_to(v2("{id: settle, wait: 1d}"), "settle")

        assert only(decision.effects, ScheduleTimer).due_at == run.now
        run.sleep("1s")
        assert run.sent == ["hello", "tips_v2"]

    def test_the_customer_then_walks_the_new_version(self):
        run = waiting_two_days()
        run.move_to(v2("{id: settle, wait: 3d}"), "settle")

        run.sleep("1d")

        assert run.sent == ["hello", "tips_v2"]
        assert only(run.effects[-3:], SendMessage).version == 2
        assert run.ended == ("ended", "completed")

    def test_it_keeps_its_id_trigger_history_group_and_paths(self):
        run = Run(journey("""\
  - id: ab
    split: [{weight: 1, goto: settle, name: a}, {weight: 1, goto: settle, name: b}]
  - {id: settle, wait: 3d}
"""))
        run.trigger()
        run.sleep("1d")
        before = run.enrollment

        run.move_to(v2("{id: settle, wait: 3d}"), "settle")

        after = run.enrollment
        kept = ("id", "trigger", "group", "paths", "started_at")
        assert [getattr(after, name) for name in kept] == [getattr(before, name) for name in kept]
        assert after.paths and after.version == 2
        assert after.history[:-1] == before.history
        assert (after.history[-1].step_id, after.history[-1].at) == ("settle", run.now)


class TestOtherWaits:
    def test_a_wait_for_counts_its_timeout_from_the_old_step(self):
        run = waiting_two_days()

        run.move_to(v2("{id: login, wait_for: {event: First Login, timeout: 5d}, on_timeout: tips}"), "login")

        assert run.enrollment.waiting.until == T0 + timedelta(days=5)
        assert run.enrollment.waiting.events == ("First Login",)
        run.receive("First Login")
        assert run.sent == ["hello", "tips_v2"]

    def test_a_wait_for_whose_timeout_passed_times_out_at_once_and_a_late_event_does_not_count(self):
        run = waiting_two_days()

        login = "{id: login, wait_for: {event: First Login, timeout: 1d}, on_timeout: sorry}"
        sorry = "  - {id: sorry, send: {channel: email, template: sorry}}\n"
        decision = run.move_to(v2(login, sorry), "login")

        assert only(decision.effects, ScheduleTimer).due_at == run.now
        assert run.enrollment.waiting.until == T0 + timedelta(days=1)  # the true deadline, passed
        run.receive("First Login")
        assert run.enrollment.step_id == "login"  # too late: the timeout decides
        run.sleep("1s")
        assert run.sent == ["hello", "sorry"]

    @pytest.mark.parametrize(("days", "until", "due"), [
        # Monday 10:00 came an hour after the customer reached the old step, and is past: due at once
        ("[mon, tue]", datetime(2026, 3, 2, 10, 0, tzinfo=UTC), datetime(2026, 3, 4, 9, 0, tzinfo=UTC)),
        ("[thu]", datetime(2026, 3, 5, 10, 0, tzinfo=UTC), datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
    ])
    def test_a_wait_until_is_the_first_such_time_after_the_old_step(self, days, until, due):
        run = Run(V1)  # in UTC: the customer has no zone
        run.trigger()  # Monday 2 March, 09:00
        run.sleep("2d")  # Wednesday 09:00

        decision = run.move_to(v2(f"{{id: morning, wait_until: {{time: '10:00', days: {days}}}}}"), "morning")

        assert only(decision.effects, ScheduleTimer).due_at == due
        assert run.enrollment.waiting.until == until


class TestAStepThatDoesNotWait:
    def test_runs_at_once_until_the_enrollment_waits_or_ends(self):
        run = waiting_two_days()

        decision = run.move_to(v2("{id: settle, wait: 3d}"), "tips")

        message = only(decision.effects, SendMessage)
        assert (message.template, message.version, message.at) == ("tips_v2", 2, run.now)
        assert isinstance(decision.effects[0], CancelTimer)
        assert run.ended == ("ended", "completed")
        assert run.timers == {}


def test_reached_at_is_the_last_visit_of_the_current_step():
    run = waiting_two_days()

    assert reached_at(run.enrollment) == T0


# checking a mapping against the version it comes from


def new_version(migrate: str, steps: str = "  - {id: settle, wait: 3d}\n  - {id: tips, send: "
                "{channel: email, template: t}}\n"):
    return load_journey(journey(steps, migrate=migrate), source="v2.yaml", version=3)


OLD = load_journey(journey("""\
  - {id: hello, send: {channel: email, template: hello}}
  - {id: settle, wait: 3d}
  - {id: ask, webhook: {url: 'https://crm.example/hook'}}
  - {id: hand-off, escalate: {queue: cs, reason: vip, wait: true}}
"""), source="v1.yaml", version=1)


def messages(problems) -> list[str]:
    return [f"{problem.field}: {problem.message}" for problem in problems]


def test_a_sound_mapping_has_no_problems():
    version = new_version("{from_version: 1, steps: {settle: settle}}")

    assert check_migration(version, OLD, latest=2, source="v2.yaml") == []


def test_from_a_version_that_does_not_exist():
    version = new_version("{from_version: 3, steps: {settle: settle}}")

    [problem] = check_migration(version, None, latest=2, source="v2.yaml")

    assert str(problem) == ("v2.yaml: field migrate.from_version: journey 'test' has no version 3 "
                            "(versions 1 to 2 so far; this one will be 3): migrate from one of those")


def test_a_first_version_has_nobody_to_move():
    version = new_version("{from_version: 1, steps: {settle: settle}}")

    [problem] = check_migration(version, None, latest=None, source="v2.yaml")

    assert "has no version yet, so nobody to move: remove migrate" in problem.message


def test_every_bad_mapping_is_named_with_what_to_do():
    version = new_version("{from_version: 1, steps: {gone: settle, hello: settle, ask: settle, "
                          "hand-off: tips}}")

    found = messages(check_migration(version, OLD, latest=1, source="v2.yaml"))

    assert found == [
        "migrate.steps.gone: version 1 has no step 'gone'; its steps are: hello, settle, ask, hand-off",
        "migrate.steps.hello: 'hello' is a send step: nobody waits there, so nobody can be moved from it "
        "(map wait, wait_for and wait_until steps)",
        "migrate.steps.ask: customers at 'ask' wait for a webhook call that version 1 made, which a new step "
        "cannot take over: they finish on version 1; remove this mapping",
        "migrate.steps.hand-off: customers at 'hand-off' wait for a task that version 1 made, which a new "
        "step cannot take over: they finish on version 1; remove this mapping",
    ]


def test_while_paused_a_mapping_to_a_step_that_would_run_at_once_is_refused():
    version = new_version("{from_version: 1, steps: {settle: tips}}")

    [problem] = messages(check_migration(version, OLD, latest=1, source="v2.yaml", paused=True))

    assert problem == ("migrate.steps.settle: the journey is paused, and 'tips' (a send step) would run at "
                       "once: map to a wait, wait_for or wait_until step, or resume the journey first")
    assert check_migration(version, OLD, latest=1, source="v2.yaml", paused=False) == []


def test_validation_names_a_migration_target_that_does_not_exist_with_its_line():
    text = journey("  - {id: settle, wait: 3d}\n", migrate="\n  from_version: 1\n  steps:\n    settle: setle")

    with pytest.raises(JourneyInvalid) as raised:
        load_journey(text, source="v2.yaml")

    assert str(raised.value) == ("v2.yaml:8: field migrate.steps.settle: moves customers to step 'setle', "
                                 "which does not exist; steps are: settle")
