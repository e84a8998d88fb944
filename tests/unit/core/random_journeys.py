"""Random valid journeys over every step kind, and random streams of stimuli, for the property tests.

A journey is valid by construction, so no example is thrown away: steps that act or route lead only
forward (every loop then passes through a wait), and steps that no path reaches are dropped.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

from onboardflow.core.journey import EXIT_REASONS, PURPOSES, WEEKDAYS, Journey
from onboardflow.core.validation import edges

EVENTS = ("Order Completed", "Order Delivered", "Delivery Failed", "Link Clicked", "Refund Requested",
          "Unsubscribed")
NOISE = "Page Viewed"  # an event no journey here names: only a condition-alone exit rule hears it
ORDERS = ("o1", "o2")
OUTCOMES = ("refunded", "resolved")
CONDITIONS = (
    'customer.type == "wholesale"',
    "customer.orders_count > 1",
    "event.order_id == trigger.order_id",
    'has(customer.traits.stage) && customer.traits.stage == "activated"',
    '"vip" in customer.tags',
    "trigger.total >= 100.0",
    'event.at - trigger.at < duration("48h")',
)
EXIT_RULES = (
    {"event": "Refund Requested"},
    {"event": "Refund Requested", "where": "event.order_id == trigger.order_id"},
    {"event": "Unsubscribed"},
    {"where": 'has(customer.traits.stage) && customer.traits.stage == "churned"'},
    {"where": "customer.orders_count > 3"},
)
UPDATES = (
    {"set": {"stage": "activated"}},
    {"set": {"stage": "churned"}, "add_tags": ["lapsed"]},
    {"unset": ["stage"]},
    {"add_tags": ["vip"]},
    {"remove_tags": ["vip"]},
)
MAPS = ({}, {"tier": "response.tier"}, {"tier": "response.tier", "points": "response.points * 2"})
WAITING = ("wait", "wait_until", "wait_for")
# Weighted towards waits, so that enrollments live long enough for the stimuli to matter.
KINDS = (*WAITING, "wait_for", "wait_for", "wait", "send", "send", "branch", "split", "update", "webhook",
         "escalate", "exit")
ROUTING = ("branch", "split")  # kinds that need a step ahead to lead to


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


@st.composite
def journey_documents(draw) -> dict[str, Any]:
    """A journey document (the dict a YAML file reads into) that validates."""
    count = draw(st.integers(min_value=3, max_value=10))
    steps = [draw(_step(index, count)) for index in range(count)]
    document = {
        "id": "random",
        "name": "Random",
        "owner": "qa@shop.example",
        "trigger": _without_none({"event": "Order Completed",
                                  "where": draw(maybe(st.sampled_from(["trigger.total >= 100.0",
                                                                        "customer.orders_count >= 1"])))}),
        "reentry": draw(st.sampled_from(["never", "always", "always concurrent", "after 2d"])),
        "exit_when": draw(st.lists(st.sampled_from(EXIT_RULES), max_size=2, unique_by=str)),
        "holdout": draw(st.sampled_from([0, 0, "10%", "50%", "100%"])),
        "steps": steps,
    }
    goal = draw(maybe(_goal()))
    if goal is not None:
        document["goal"] = goal
    return _reachable_only(document)


def _goal() -> st.SearchStrategy:
    return st.builds(
        lambda event, within, where, leaves: _without_none(
            {"event": event, "within": within, "where": where, "exit": leaves}),
        st.sampled_from(["Order Completed", "Link Clicked"]),
        maybe(st.sampled_from(["2d", "30d"])),
        maybe(st.just("event.order_id != trigger.order_id")),
        st.booleans(),
    )


@st.composite
def _step(draw, index: int, count: int) -> dict[str, Any]:
    ahead = [f"s{target}" for target in range(index + 1, count)]
    anywhere = [f"s{target}" for target in range(count)]
    kind = draw(st.sampled_from(KINDS))
    if kind in ROUTING and not ahead:
        kind = "send"
    targets = anywhere if kind in WAITING else ahead  # only a waiting step may lead back

    def target() -> str | None:
        return draw(maybe(st.sampled_from(targets))) if targets else None

    step: dict[str, Any] = {"id": f"s{index}", **draw(_body(kind, tuple(targets)))}
    if kind not in (*ROUTING, "exit"):
        step["goto"] = target()
    for side in _SIDE_EXITS.get(kind, ()):
        step[side] = target()
    if kind == "escalate" and step["escalate"]["wait"]:
        step["escalate"]["on_overdue"] = target()
        step["escalate"]["on_outcome"] = {outcome: goto for outcome in OUTCOMES if (goto := target())}
    return _without_none(step)


_SIDE_EXITS = {"send": ("on_undeliverable",), "wait_for": ("on_timeout",), "webhook": ("on_error",)}


def _send(targets):
    return st.fixed_dictionaries({"send": st.fixed_dictionaries({
        "channel": st.sampled_from(["email", ["sms", "email"]]),
        "template": st.sampled_from(["welcome", "tips"]),
        "purpose": st.sampled_from(PURPOSES),
    })})


def _wait(targets):
    return st.fixed_dictionaries({"wait": st.sampled_from(["1h", "1d", "3d"])})


def _wait_until(targets):
    days = st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True)
    # 02:30 is skipped by a spring-forward night and 01:30 repeated by an autumn one.
    time = st.sampled_from(["00:00", "01:30", "02:30", "09:00", "23:59"])
    return st.fixed_dictionaries({"wait_until": st.fixed_dictionaries({"time": time, "days": days})})


def _wait_for(targets):
    event, where = st.sampled_from(EVENTS), maybe(st.sampled_from(CONDITIONS))
    timeout = st.sampled_from(["2h", "1d", "5d"])
    arm = st.builds(_named("event", "where", "goto"), event, where, maybe(st.sampled_from(targets)))
    one = st.builds(_named("event", "where", "timeout"), event, where, timeout)
    several = st.builds(lambda arms, timeout: {"events": arms, "timeout": timeout},
                        st.lists(arm, min_size=1, max_size=3), timeout)
    return st.fixed_dictionaries({"wait_for": one | several})


def _branch(targets):
    arm = st.builds(lambda when, goto: {"when": when, "goto": goto},
                    st.sampled_from(CONDITIONS), st.sampled_from(targets))
    return st.builds(lambda arms, default: _without_none({"branch": arms, "default": default}),
                     st.lists(arm, min_size=1, max_size=3), maybe(st.sampled_from(targets)))


def _split(targets):
    arm = st.builds(lambda weight, goto, name: _without_none({"weight": weight, "goto": goto, "name": name}),
                    st.integers(min_value=1, max_value=100), st.sampled_from(targets),
                    maybe(st.sampled_from(["control", "variant"])))
    return st.fixed_dictionaries({"split": st.lists(arm, min_size=2, max_size=3)})


def _update(targets):
    return st.fixed_dictionaries({"update": st.sampled_from(UPDATES)})


def _webhook(targets):
    return st.fixed_dictionaries({"webhook": st.fixed_dictionaries({
        "url": st.just("https://crm.example/hooks/onboard"), "map": st.sampled_from(MAPS)})})


def _escalate(targets):
    return st.fixed_dictionaries({"escalate": st.fixed_dictionaries({
        "queue": st.just("support"), "reason": st.just("check in"),
        "due": st.sampled_from(["1h", "2d"]), "wait": st.sampled_from([True, True, False])})})


def _exit(targets):
    return st.fixed_dictionaries({"exit": st.sampled_from(EXIT_REASONS)})


_BODIES = {"send": _send, "wait": _wait, "wait_until": _wait_until, "wait_for": _wait_for, "branch": _branch,
           "split": _split, "update": _update, "webhook": _webhook, "escalate": _escalate, "exit": _exit}


@cache
def _body(kind: str, targets: tuple[str, ...]) -> st.SearchStrategy:
    """The strategy for a step's body; built once per kind and set of targets, as building is costly."""
    return _BODIES[kind](list(targets))


def _named(*names: str):
    """A builder of a mapping of `names` to the values given, leaving out the ones that are None."""
    return lambda *values: _without_none(dict(zip(names, values, strict=True)))


def _without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}


def _reachable_only(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the steps no path from the first reaches. A reachable step's next step in
    the file is reachable too, so dropping the others changes no remaining step's way on."""
    graph = edges(Journey.model_validate(document))
    reached, frontier = {"s0"}, ["s0"]
    while frontier:
        for _, target in graph[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    return {**document, "steps": [step for step in document["steps"] if step["id"] in reached]}


# Stimuli, as plain tuples so that hypothesis shrinks them well; the world reads them (test_properties.py).
HOURS = st.integers(min_value=0, max_value=72)
PICK = st.integers(min_value=0, max_value=7)
NAMES = st.sampled_from((*EVENTS, *EVENTS[:2], EVENTS[0], NOISE))  # orders likelier: they re-enter
FOREIGN = st.sampled_from([False, False, True])  # whether an answer is about someone else's task or call
stimuli = st.lists(
    st.one_of(
        st.tuples(st.just("event"), NAMES, st.sampled_from(ORDERS), HOURS),
        st.tuples(st.just("late"), NAMES, st.sampled_from(ORDERS), st.sampled_from([1, 30])),
        st.tuples(st.just("undeliverable"), PICK, FOREIGN),
        st.tuples(st.just("resolve"), PICK, st.sampled_from([*OUTCOMES, "other"]), FOREIGN),
        st.tuples(st.just("answer"), PICK, st.booleans(), FOREIGN),
        st.tuples(st.just("fire_due"), st.integers(min_value=0, max_value=2)),
        st.tuples(st.just("fire_stale"), PICK),
        st.tuples(st.just("pass"), HOURS),  # time passes and each timer due on the way fires at its time
        st.tuples(st.just("sleep"), HOURS),  # time passes and nothing fires: the worker lags
        st.tuples(st.just("trait"), st.sampled_from([("type", "wholesale"), ("type", "retail"),
                                                      ("stage", "activated"), ("stage", "churned")])),
    ),
    min_size=10,
    max_size=40,
)
