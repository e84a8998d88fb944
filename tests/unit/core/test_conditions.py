"""Conditions: CEL over customer, event and trigger, compiled once, evaluated on the fields they read."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onboardflow.core.conditions import ConditionError, compile_condition, project, referenced_paths
from onboardflow.core.model import Customer, Event

ROOTS = ("customer", "event", "trigger")
AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def evaluate_on_whole_scope(source: str, scope: dict) -> bool:
    """What the expression gives when CEL sees everything: the reference that projection must match."""
    try:
        return compile_condition(source).program.execute(scope) is True
    except Exception:
        return False


SCOPE = {
    "customer": {
        "id": "c_1",
        "email": "ana@example.com",
        "country": "US",
        "type": "retail",
        "orders_count": 1,
        "traits": {"type": "retail", "tier": "gold", "vip": True},
        "nested": {"level": {"value": 3}},
    },
    "event": {
        "name": "Order Delivered",
        "order_id": "o_1",
        "products": [{"category": "skincare", "price": 60.0}],
    },
    "trigger": {"name": "Order Completed", "order_id": "o_1", "total": 120.0},
}


# compiling


@pytest.mark.parametrize(
    "source",
    [
        "customer.orders_count == 1",
        'customer.country in ["US", "CA", "GB"]',
        "event.order_id == trigger.order_id",
        'has(customer.traits.vip) && customer.traits.tier == "gold"',
        'customer.email.endsWith("@example.com")',
        "true",
    ],
)
def test_compiles_expressions_over_customer_event_and_trigger(source):
    assert compile_condition(source).source == source


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("customer.orders_count == ", 26),
        ("customer.x == 1 &&", 19),
        ("customer.", 10),
        (")(", 1),
        ('"unterminated', 1),
        ("customer.x = 1", 12),
    ],
)
def test_syntax_error_says_the_column(source, column):
    with pytest.raises(ConditionError) as raised:
        compile_condition(source)
    assert raised.value.column == column
    assert f"CEL syntax error at column {column} of {source!r}" in raised.value.message


@pytest.mark.parametrize("source", ["", "   ", None, 42])
def test_rejects_an_empty_or_non_text_condition_with_an_example(source):
    with pytest.raises(ConditionError, match="e.g. customer.orders_count == 1"):
        compile_condition(source)


@pytest.mark.parametrize(
    ("source", "name", "column"),
    [
        ("scores.repeat_purchase < 0.2", "scores", 1),
        ("customer.orders_count == 1 && order.total > 10.0", "order", 31),
        ('customer.email == "foo" && foo.x == 1', "foo", 28),
        ("customer.traits.vip || profile.vip", "profile", 24),
    ],
)
def test_unknown_variable_is_named_with_its_column(source, name, column):
    with pytest.raises(ConditionError) as raised:
        compile_condition(source)
    assert raised.value.column == column
    assert raised.value.message == (
        f"unknown variable {name!r} at column {column}: conditions can read customer, event, trigger, score"
    )


def test_a_score_reads_as_the_engine_gives_it_and_an_unknown_one_is_refused():
    condition = compile_condition("customer.orders_count == 1 && score.repeat_purchase < 0.2")

    assert condition.evaluate({"customer": {"orders_count": 1}, "score": {"repeat_purchase": 0.1}}) is True
    assert condition.evaluate({"customer": {"orders_count": 1}, "score": {"repeat_purchase": 0.6}}) is False
    assert condition.evaluate({"customer": {"orders_count": 1}, "score": {}}) is False  # no score: no hold
    with pytest.raises(ConditionError) as raised:
        compile_condition("customer.orders_count == 1 && score.churn > 0.5")
    assert raised.value.message == "unknown score 'churn' at column 31: the scores are repeat_purchase"


def test_a_name_in_a_string_literal_is_not_a_variable():
    assert compile_condition('customer.email == "score.total"').evaluate(SCOPE) is False


def test_the_variables_a_condition_may_read_can_be_narrowed():
    with pytest.raises(ConditionError, match="unknown variable 'event'"):
        compile_condition("event.name == 'x'", variables=("customer",))


@pytest.mark.parametrize(
    "source",
    [
        'event.products.exists(p, p.category == "skincare")',
        "event.products.all(item, item.price > 0.0)",
        'event.products.exists_one(p, p.category == "skincare")',
        "event.products.map(p, p.price).exists(x, x > 50.0)",
        'event.products.filter(p, p.category == "skincare").size() == 1',
        "event.products.exists(p, event.products.all(q, q.price >= p.price))",
    ],
)
def test_macro_bound_variables_are_accepted(source):
    assert compile_condition(source).evaluate(SCOPE) is True


@pytest.mark.parametrize(
    ("source", "name", "column"),
    [
        ("event.products.exists(p, p.price > 1.0) && p.price > 10.0", "p", 44),
        ("p.items.exists(p, p == 1)", "p", 1),  # the receiver is outside the macro
        ("event.products.exists(p, event.products.exists(q, q.price > p.price) && q.x == 1)", "q", 73),
    ],
)
def test_a_macro_variable_used_outside_its_macro_is_unknown(source, name, column):
    with pytest.raises(ConditionError) as raised:
        compile_condition(source)
    assert (raised.value.column, raised.value.message.split(" at ")[0]) == (
        column,
        f"unknown variable {name!r}",
    )


def test_a_field_may_have_the_name_of_a_macro_variable():
    assert compile_condition(
        'customer.p == 1 || event.products.exists(p, p.category == "skincare")'
    ).evaluate(SCOPE)


def test_macro_text_inside_a_string_binds_nothing():
    with pytest.raises(ConditionError, match="unknown variable 'q' at column 33"):
        compile_condition('"a.exists(q, " == customer.x && q == 1')


# evaluating


def test_missing_field_evaluates_to_false():
    assert compile_condition("customer.plan == 'pro'").evaluate(SCOPE) is False
    assert compile_condition("customer.plan != 'pro'").evaluate(SCOPE) is False


def test_missing_variable_evaluates_to_false():
    condition = compile_condition("event.order_id == trigger.order_id")
    assert condition.evaluate({"customer": {}, "trigger": {"order_id": "o_1"}}) is False


@pytest.mark.parametrize(
    "source",
    [
        "customer.email > 1",  # a type mismatch
        "customer.orders_count / 0 == 1",
        "customer.orders_count * 9223372036854775807 * 2 > 0",  # an overflow
        'event.products[3].category == "skincare"',  # past the end of a list
        "customer.traits.nope == 1",
        'customer.email.matches("[")',
        "int(customer.email) == 1",
        "customer.orders_count",  # not a bool
    ],
)
def test_an_expression_that_cannot_be_evaluated_is_false_not_an_error(source):
    assert compile_condition(source).evaluate(SCOPE) is False


def test_an_error_on_one_side_of_or_does_not_hide_a_true_other_side():
    assert compile_condition("customer.plan == 'pro' || customer.orders_count == 1").evaluate(SCOPE) is True


def test_reads_real_customer_and_event_scopes():
    customer = Customer(
        id="c_1", email="ana@example.com", country="CA", traits={"type": "wholesale"}, orders_count=2
    )
    event = Event(
        id="e_1",
        name="Order Completed",
        customer_id="c_1",
        at=AT,
        properties={"order_id": "o_9", "products": [{"category": "skincare"}]},
    )
    scope = {"customer": customer.scope(), "event": event.scope(), "trigger": event.scope()}
    for source in (
        'customer.type == "wholesale"',  # traits are flattened onto customer
        'customer.traits.type == "wholesale"',
        'customer.country in ["US", "CA"]',
        "customer.orders_count == 2",
        'event.name == "Order Completed" && event.id == "e_1"',
        'event.products.exists(p, p.category == "skincare")',
        'trigger.at == timestamp("2026-03-01T10:00:00Z")',
        "!has(customer.traits.vip)",
        "customer.first_order_at == null",
    ):
        assert compile_condition(source).evaluate(scope) is True, source


# projection


@pytest.mark.parametrize(
    ("source", "paths"),
    [
        ("customer.orders_count == 1", {"customer": (("orders_count",),)}),
        ("customer.traits.tier == 'gold'", {"customer": (("traits", "tier"),)}),
        ('customer.email.endsWith("x")', {"customer": (("email",),)}),
        ("event.order_id == trigger.order_id", {"event": (("order_id",),), "trigger": (("order_id",),)}),
        ('customer["country"] == "US"', {"customer": None}),
        ("size(customer) > 1", {"customer": None}),
        ("customer.email == 'x' && size(customer) > 1", {"customer": None}),
        ('"customer.email" == "event.name"', {}),
        ("event.customer.email == 'x'", {"event": (("customer", "email"),)}),
        (
            "customer.traits.tier == 'gold' && size(customer.traits) > 1",
            {"customer": (("traits",), ("traits", "tier"))},
        ),
    ],
)
def test_referenced_paths_lists_the_fields_an_expression_reads(source, paths):
    assert referenced_paths(source, ROOTS) == paths


def test_projection_keeps_only_the_paths_and_leaves_missing_fields_missing():
    value = {"email": "a@x", "traits": {"tier": "gold", "vip": True}, "country": "US"}
    assert project(value, (("email",), ("traits", "tier"), ("traits", "plan"), ("phone",))) == {
        "email": "a@x",
        "traits": {"tier": "gold"},
    }


def test_projection_passes_whole_values_and_non_mappings_through():
    value = {"email": "a@x"}
    assert project(value, None) is value
    assert project(None, (("email",),)) is None
    assert project(["a"], (("email",),)) == ["a"]


def test_projection_does_not_change_the_scope_it_reads():
    scope = {"customer": {"traits": {"tier": "gold", "vip": True}}}
    compile_condition("customer.traits.tier == 'gold' && size(customer.traits) == 2").evaluate(scope)
    assert scope == {"customer": {"traits": {"tier": "gold", "vip": True}}}


EXPRESSIONS = [
    "has(customer.traits.vip)",
    "has(customer.traits.vip) && customer.traits.vip",
    "has(customer.nested.level)",
    "customer.nested.level.value == 3",
    'customer.traits.tier == "gold" && size(customer.traits) >= 2',
    'customer.email.endsWith("@example.com")',
    'customer.email.startsWith("customer.")',
    '"customer.orders_count" == customer.email',
    "customer.email == 'event.order_id'",
    'customer.email == "has(customer.traits)"',
    'customer["country"] == "US"',
    'customer.country in ["US", "CA"]',
    'customer.orders_count > 1 || customer.type == "wholesale"',
    'customer.traits.exists(k, k == "vip")',
    "size(customer) > 3",
    "customer.traits.tier.size() > 2",
    "!has(customer.email)",
    'event.products.exists(p, p.category == "skincare")',
    'event.products[0].category == "skincare"',
    "event.order_id == trigger.order_id",
    "event.order_id != trigger.order_id",
    "has(event.order_id) && !has(trigger.total)",
]


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_projected_evaluation_equals_evaluation_on_the_whole_scope(source):
    assert compile_condition(source).evaluate(SCOPE) == evaluate_on_whole_scope(source, SCOPE)


def _maybe(keys: dict) -> st.SearchStrategy[dict]:
    """Mappings holding any subset of `keys`, each with a value from its strategy."""
    return st.fixed_dictionaries({}, optional=keys)


TEXT = st.sampled_from(["", "ana@example.com", "customer.x", "US", "CA", "gold", "wholesale", "skincare"])
CUSTOMERS = _maybe(
    {
        "email": TEXT,
        "country": TEXT,
        "type": TEXT,
        "orders_count": st.integers(0, 3),
        "traits": _maybe({"vip": st.booleans(), "tier": TEXT, "type": TEXT}),
        "nested": _maybe({"level": _maybe({"value": st.integers(2, 4)})}),
        "extra": st.integers(),
    }
)
EVENTS = _maybe(
    {
        "order_id": st.sampled_from(["o_1", "o_2"]),
        "total": st.floats(0, 100),
        "products": st.lists(_maybe({"category": TEXT, "price": st.floats(0, 100)}), max_size=3),
    }
)


@settings(max_examples=200, deadline=None)
@given(source=st.sampled_from(EXPRESSIONS), customer=CUSTOMERS, event=EVENTS, trigger=EVENTS)
def test_projection_never_changes_a_result(source, customer, event, trigger):
    scope = {"customer": customer, "event": event, "trigger": trigger}
    assert compile_condition(source).evaluate(scope) == evaluate_on_whole_scope(source, scope)
