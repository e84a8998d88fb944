"""Each journey's entrants and goals reached, the treated group and the holdout apart, on every store: what
the web UI's journey list shows as entrants and goal rate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from onboardflow.core.model import Enrollment, Visit
from onboardflow.ports import Changes, GoalCounts

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def enrollment(number: int, journey_id: str, *, converted: bool = False, holdout: bool = False,
               version: int = 1) -> Enrollment:
    return Enrollment(f"enr_{journey_id}_{number}", journey_id, version, f"c{number}", {"id": f"e{number}"},
                      T0, step_id="hello", goal_reached_at=T0 + timedelta(days=2) if converted else None,
                      group="holdout" if holdout else "journey")


def test_goal_counts_add_every_version_and_keep_the_holdout_apart(store):
    rows = [
        enrollment(1, "welcome", converted=True), enrollment(2, "welcome"),
        enrollment(3, "welcome", version=2),
        enrollment(4, "welcome", converted=True, version=2), enrollment(5, "welcome", holdout=True),
        enrollment(6, "welcome", holdout=True, converted=True), enrollment(7, "winback"),
    ]
    with store.transaction() as tx:
        tx.apply(Changes(enrollments={row.id: row for row in rows}))

    counts = store.goal_counts()

    assert counts == {"welcome": GoalCounts(entrants=4, converted=2, holdout=2, holdout_converted=1),
                      "winback": GoalCounts(entrants=1, converted=0, holdout=0, holdout_converted=0)}
    assert counts["welcome"].rate == 0.5
    assert counts["winback"].rate == 0


def test_an_empty_store_has_no_goal_counts(store):
    assert store.goal_counts() == {}
    assert GoalCounts().rate is None


def test_step_paths_are_the_steps_each_enrollment_of_one_version_went_through(store):
    def walked(number: int, steps: list[str], *, version: int = 1, journey_id: str = "welcome") -> Enrollment:
        history = tuple(Visit(step, T0 + timedelta(minutes=n)) for n, step in enumerate(steps))
        return replace(enrollment(number, journey_id, version=version), history=history)

    rows = [walked(1, ["hello", "wait", "tips"]), walked(2, ["hello", "wait", "late", "tips"]),
            walked(3, ["hello"], version=2), walked(4, ["other"], journey_id="winback")]
    with store.transaction() as tx:
        tx.apply(Changes(enrollments={row.id: row for row in rows}))

    assert sorted(store.step_paths("welcome", 1)) == [
        ("hello", "wait", "late", "tips"), ("hello", "wait", "tips"),
    ]
    assert store.step_paths("welcome", 2) == [("hello",)]
    assert store.step_paths("welcome", 3) == []
