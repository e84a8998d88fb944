"""Invariants of the state machine, under random journeys and random streams of stimuli.

Whatever the journey (any valid mix of step kinds, gotos, splits, holdouts, exit rules and goals) and
whatever comes (events of the names it uses, answers about its own tasks, calls and messages or about
someone else's, timers at their due time, late, or twice, time jumps): an ended enrollment never acts
again; an enrollment is in one step and, while active, waits on a pending timer or on the answer to its
own task or call; every timer ends fired, cancelled or pending for the current wait; a holdout never
acts; an event the version does not react to, or about another enrollment, moves nothing; and the same
stream gives the same effects, ids included. The checks themselves live in world.py.

And a local-time wait ends at the first allowed local time at or after now, whatever the clocks do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from onboardflow.core.journey import WEEKDAYS, Split
from onboardflow.core.model import Customer
from onboardflow.core.steps.waits import next_local_time
from onboardflow.core.validation import check_document, load_journey
from onboardflow.core.version import JourneyVersion

from .random_journeys import journey_documents, stimuli
from .world import T0, World, play

JOURNEY = load_journey(
    """\
id: invariants
name: Every step kind, a loop through a wait, re-entry
owner: qa@shop.example
trigger: {event: Order Completed}
reentry: always
exit_when: [{event: Refund Requested, where: event.order_id == trigger.order_id}]
goal: {event: Order Completed, within: 30d, where: event.order_id != trigger.order_id}
steps:
  - id: welcome
    send: {channel: email, template: welcome}
  - id: await-delivery
    wait_for: {event: Order Delivered, where: event.order_id == trigger.order_id, timeout: 10d}
    on_timeout: late
  - id: tips
    send: {channel: [sms, email], template: tips, purpose: education}
  - id: settle
    wait: 5d
  - id: route
    branch:
      - when: customer.type == "wholesale"
        goto: account-manager
      - when: customer.type == "loyal"
        goto: reminder
    default: review
  - id: review
    send: {channel: email, template: review, purpose: engagement}
  - {id: done, exit: completed}
  - id: account-manager
    send: {channel: email, template: account_manager}
    goto: done
  - id: reminder
    send: {channel: email, template: reminder, purpose: engagement}
  - id: await-click
    wait_for: {event: Link Clicked, timeout: 2d}
    on_timeout: reminder
    goto: done
  - id: late
    send: {channel: email, template: sorry}
    goto: tips
""",
    source="invariants.yaml",
)

EVENT_NAMES = ["Order Completed", "Order Delivered", "Refund Requested", "Link Clicked", "Order Shipped"]
HOURS = st.integers(min_value=0, max_value=400)
CUSTOMER_TYPES = st.sampled_from(["retail", "wholesale", "loyal"])
FIXED_STIMULI = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.sampled_from(EVENT_NAMES), st.sampled_from(["o1", "o2", "o3"]), HOURS),
        st.tuples(st.just("fire_due"), HOURS),  # the clock passes the next timer, which fires
        st.tuples(st.just("fire_stale"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("trait"), st.tuples(st.just("type"), CUSTOMER_TYPES)),
        st.tuples(st.just("sleep"), HOURS),
    ),
    max_size=40,
)
STARTS = [T0, datetime(2026, 3, 7, 17, 0, tzinfo=UTC), datetime(2026, 10, 24, 12, 0, tzinfo=UTC)]  # near DST
ZONES = [None, "America/New_York", "Europe/London", "Australia/Sydney", "Mars/Olympus_Mons"]


@st.composite
def scenarios(draw) -> tuple[JourneyVersion, list[tuple], World]:
    """A random valid journey, a random stream, and the world it plays in: a customer (some of whom fall
    in a holdout), a time zone or none, a store zone, a start near a clock change."""
    version = check_document(draw(journey_documents()), source="random.yaml")
    customer = Customer(id=f"c{draw(st.integers(min_value=0, max_value=19))}", country="US",
                        timezone=draw(st.sampled_from(ZONES)), traits={"type": draw(CUSTOMER_TYPES)})
    store_zone = draw(st.sampled_from(["UTC", "Asia/Tokyo"]))
    world = World(version, customer, draw(st.sampled_from(STARTS)), store_zone)
    return version, draw(stimuli), world


def played(world: World, sequence: list[tuple]) -> World:
    world.receive("Order Completed", {"order_id": "o1", "total": 150.0})
    for stimulus in sequence:
        world.apply(stimulus)
    return world


@settings(max_examples=200, deadline=None)
@given(sequence=FIXED_STIMULI, customer_type=CUSTOMER_TYPES)
def test_invariants_hold_for_any_sequence_of_stimuli(sequence, customer_type):
    world = play(JOURNEY, sequence, Customer(id="c1", country="US", traits={"type": customer_type}))

    assert world.enrollments, "the first order always starts an enrollment"
    world.check_timers()
    active = [e for e in world.enrollments.values() if e.is_active]
    assert len(active) <= 1, "reentry: always never runs two enrollments of one customer at once"


@settings(max_examples=250, deadline=None)
@given(scenario=scenarios())
def test_random_journeys_keep_every_invariant_under_any_stream(scenario):
    version, sequence, world = scenario
    played(world, sequence)
    world.check_timers()
    for _ in range(3):  # then tasks get resolved, calls answered, and a year goes by
        world.answer_everything()
        world.run_timers_until(world.now + timedelta(days=400), limit=50)
    world.check_timers()

    enrollments = list(world.enrollments.values())
    splits = {step_id for step_id, step in version.steps.items() if isinstance(step, Split)}
    for enrollment in enrollments:
        visited = {visit.step_id for visit in enrollment.history}
        assert set(enrollment.paths) == visited & splits, "a split's path is not recorded"
    assert len({e.group for e in enrollments}) <= 1, "a customer is held out in some enrollments only"
    for step_id in {step_id for e in enrollments for step_id in e.paths}:
        paths = {e.paths[step_id] for e in enrollments if step_id in e.paths}
        assert len(paths) == 1, f"a customer took {sorted(paths)} at split {step_id!r}"
    if not version.journey.reentry.concurrent:
        assert sum(e.is_active for e in enrollments) <= 1, "two enrollments at once without concurrent"


@settings(max_examples=80, deadline=None)
@given(scenario=scenarios())
def test_the_same_stream_gives_the_same_effects_and_ids(scenario):
    version, sequence, world = scenario
    again = World(check_document(version.journey.model_dump(mode="json", by_alias=True)), world.customer,
                  world.now, world.default_zone)
    first, second = played(world, sequence), played(again, sequence)

    assert first.log == second.log
    assert first.enrollments == second.enrollments
    assert first.customer == second.customer


@settings(max_examples=100, deadline=None)
@given(sequence=FIXED_STIMULI, customer_type=CUSTOMER_TYPES)
def test_replaying_the_same_stimuli_gives_the_same_enrollments_and_messages(sequence, customer_type):
    customer = Customer(id="c1", country="US", traits={"type": customer_type})
    first, second = play(JOURNEY, sequence, customer), play(JOURNEY, sequence, customer)

    assert first.enrollments == second.enrollments
    assert first.log == second.log
    assert first.pending == second.pending


# wait_until: the local time of day, whatever the clocks do

# Clocks that change by an hour, by half an hour, at midnight, at 02:45, or never.
LOCAL_ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe",
               "America/Santiago", "Pacific/Chatham", "Asia/Kolkata"]


@cache
def clock_changes(name: str) -> tuple[datetime, ...]:
    """The hours of 2026 in which the zone's offset from UTC changes (none: midsummer, to have a date)."""
    zone = ZoneInfo(name)

    def offset(at: datetime) -> timedelta:
        return at.astimezone(zone).utcoffset()

    days = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number) for number in range(365)]
    found = [
        hour
        for day in days if offset(day) != offset(day + timedelta(days=1))
        for hour in (day + timedelta(hours=number) for number in range(24))
        if offset(hour) != offset(hour + timedelta(hours=1))
    ]
    return tuple(found) or (datetime(2026, 6, 21, tzinfo=UTC),)


@st.composite
def local_waits(draw) -> tuple[str, datetime, time, list[str]]:
    """A zone, a moment within days of one of its clock changes (or the very moment the wait means),
    a local time (early hours likelier, as changes happen then), and the days of the week allowed."""
    name = draw(st.sampled_from(LOCAL_ZONES))
    minutes = draw(st.integers(min_value=-6 * 1440, max_value=2 * 1440))
    now = draw(st.sampled_from(clock_changes(name))) + timedelta(minutes=minutes)
    hour = draw(st.integers(min_value=0, max_value=3) | st.integers(min_value=0, max_value=23))
    at = time(hour, draw(st.sampled_from([0, 15, 30, 45, 59])))
    if draw(st.booleans()):  # that very minute
        now = meant(now.astimezone(ZoneInfo(name)).date(), at, ZoneInfo(name))
    days = draw(st.integers(min_value=1, max_value=127))  # a bit a day: any non-empty set of days
    return name, now, at, [day for bit, day in enumerate(WEEKDAYS) if days >> bit & 1]


def meant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """When a wait for `at` means to end on local `day`: the first moment the clock shows `at` (the
    first of two on the night clocks go back); on a night the clock skips `at`, the moment it shows `at`
    moved on by the size of the skip (02:30 on a 02:00 -> 03:00 night: 03:30)."""
    wall = datetime.combine(day, at)
    instants = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    shown = [instant for instant in instants if instant.astimezone(zone).replace(tzinfo=None) == wall]
    if shown:
        return min(shown)
    skip = (wall + timedelta(hours=6)).replace(tzinfo=zone).utcoffset() - (
        wall - timedelta(hours=6)).replace(tzinfo=zone).utcoffset()
    assert skip > timedelta(0), "a wall time missing without a clock change going forward"
    return (wall + skip).replace(tzinfo=zone).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(wait=local_waits())
def test_wait_until_ends_at_the_first_allowed_local_time_at_or_after_now(wait):
    name, now, at, days = wait
    zone = ZoneInfo(name)
    due = next_local_time(now, at, days, zone)

    today = now.astimezone(zone).date()
    candidates = [
        meant(day, at, zone)
        for day in (today + timedelta(days=offset) for offset in range(-1, 9))
        if WEEKDAYS[day.weekday()] in days
    ]
    assert due == min(instant for instant in candidates if instant >= now)
    assert due - now <= timedelta(days=7, hours=1)  # a week ahead at most, give or take a clock change
