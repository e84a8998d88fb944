"""Validation: every problem in a journey file, each named with file, line, step id and field."""

from textwrap import dedent

from datetime import timedelta

import pytest

from onboardflow.core.journey import Send, Wait
from onboardflow.core.validation import JourneyInvalid, Problem, check_document, load_journey

SOURCE = "journeys/welcome.yaml"
HEAD = """\
id: welcome
name: Welcome
owner: cs-lead@shop.example
trigger: {event: Signed Up}
"""  # four lines: the first line of what follows is line 5


def problems_in(text: str) -> list[Problem]:
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(text, source=SOURCE)
    return raised.value.problems


def only_problem_in(text: str) -> Problem:
    problems = problems_in(text)
    assert len(problems) == 1, problems
    return problems[0]


def where(problem: Problem) -> tuple:
    return (problem.source, problem.line, problem.step_id, problem.field)


def test_a_good_journey_loads_and_compiles():
    version = load_journey(
        HEAD
        + dedent("""\
        audience: customer.country == "US"
        steps:
          - id: hello
            send: {channel: email, template: hello}
          - id: pause
            wait: 2d
          - {id: done, exit: completed}
        """),
        source=SOURCE,
        version=3,
    )
    assert version.id == "welcome"
    assert version.version == 3
    assert version.first_step == "hello"
    assert isinstance(version.steps["hello"], Send)
    assert isinstance(version.steps["pause"], Wait)
    assert version.condition("audience") is not None


# unknown fields


def test_unknown_top_level_field_is_named_with_its_line():
    problem = only_problem_in(HEAD + "colour: red\nsteps:\n  - {id: a, wait: 1d}\n")
    assert where(problem) == (SOURCE, 5, None, "colour")
    assert problem.message == "unknown field 'colour': remove it or check its spelling"


def test_unknown_step_field_names_the_step():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    wait: 1d\n    colour: red\n")
    assert where(problem) == (SOURCE, 8, "a", "colour")
    assert "unknown field 'colour'" in problem.message


def test_unknown_field_inside_a_step_kind_gives_the_dotted_field():
    problem = only_problem_in(
        HEAD + "steps:\n  - id: a\n    send: {channel: email, template: t, colour: red}\n"
    )
    assert where(problem) == (SOURCE, 7, "a", "send.colour")


def test_misspelt_step_kind_says_what_a_step_needs():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    sned: {channel: email, template: t}\n")
    assert where(problem) == (SOURCE, 6, "a", None)
    assert problem.message == "a step needs an id and exactly one of: send, wait, wait_for, wait_until, branch, split, update, webhook, escalate, exit"


def test_step_with_two_kinds_is_refused():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    wait: 1d\n    exit: completed\n")
    assert "exactly one of: send, wait, wait_for, wait_until, branch, split, update, webhook, escalate, exit" in problem.message


def test_missing_required_field_is_named():
    problem = only_problem_in(
        "id: welcome\nname: Welcome\ntrigger: {event: Signed Up}\nsteps:\n  - {id: a, wait: 1d}\n"
    )
    assert where(problem) == (SOURCE, 1, None, "owner")
    assert problem.message == "Field required"


def test_bad_choice_lists_the_allowed_values():
    problem = only_problem_in(
        HEAD + "steps:\n  - id: a\n    send: {channel: email, template: t, purpose: spam}\n"
    )
    assert where(problem) == (SOURCE, 7, "a", "send.purpose")
    assert "'transactional', 'education', 'engagement' or 'promotion'" in problem.message


def test_send_needs_a_channel():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    send: {channel: [], template: t}\n")
    assert where(problem) == (SOURCE, 7, "a", "send.channel")
    assert problem.message == "name at least one channel, e.g. email"


# durations


@pytest.mark.parametrize(
    ("text", "line", "step_id", "field"),
    [
        (HEAD + "steps:\n  - id: a\n    wait: 5 days\n", 7, "a", "wait"),
        (HEAD + "steps:\n  - id: a\n    wait_for: {event: X, timeout: soon}\n", 7, "a", "wait_for.timeout"),
        (HEAD + "goal: {event: X, within: a month}\nsteps:\n  - {id: a, wait: 1d}\n", 5, None, "goal.within"),
        (
            HEAD + "policies:\n  frequency_cap: {max: 3, per: weekly}\nsteps:\n  - {id: a, wait: 1d}\n",
            6,
            None,
            "policies.frequency_cap.per",
        ),
    ],
)
def test_bad_duration_is_named_with_line_step_and_field(text, line, step_id, field):
    problem = only_problem_in(text)
    assert where(problem) == (SOURCE, line, step_id, field)
    assert (
        "is not a duration: write a number and a unit (s, m, h, d, w), e.g. 90m, 36h, 10d" in problem.message
    )


def test_zero_and_absurd_durations_are_refused():
    assert "is zero" in only_problem_in(HEAD + "steps:\n  - id: a\n    wait: 0d\n").message
    assert (
        "longer than 100 years"
        in only_problem_in(HEAD + "steps:\n  - id: a\n    wait: 99999999999d\n").message
    )


@pytest.mark.parametrize("rule", ["sometimes", "after", "after soon", "every 90d"])
def test_bad_reentry_rule_says_how_to_write_one(rule):
    problem = only_problem_in(HEAD + f"reentry: {rule}\nsteps:\n  - {{id: a, wait: 1d}}\n")
    assert where(problem) == (SOURCE, 5, None, "reentry")


@pytest.mark.parametrize(
    ("rule", "mode", "after", "concurrent"),
    [
        ("never", "never", None, False),
        ("always", "always", None, False),
        ("always concurrent", "always", None, True),
        ("after 90d", "after", timedelta(days=90), False),
        ("after 1w2d", "after", timedelta(days=9), False),
        ("{mode: always, concurrent: true}", "always", None, True),
        ("{mode: after, after: 30d}", "after", timedelta(days=30), False),
    ],
)
def test_reentry_rules_that_read(rule, mode, after, concurrent):
    reentry = load_journey(HEAD + f"reentry: {rule}\nsteps:\n  - {{id: a, wait: 1d}}\n").journey.reentry
    assert (reentry.mode, reentry.after, reentry.concurrent) == (mode, after, concurrent)


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("{mode: after}", "after needs a duration"),
        ("{mode: never, concurrent: true}", "concurrent enrollments need reentry mode always"),
    ],
)
def test_inconsistent_reentry_mapping_says_what_is_wrong(rule, says):
    problem = only_problem_in(HEAD + f"reentry: {rule}\nsteps:\n  - {{id: a, wait: 1d}}\n")
    assert says in problem.message and problem.field == "reentry"


# conditions


def test_cel_syntax_error_gives_the_column():
    problem = only_problem_in(HEAD + "audience: customer.country ==\nsteps:\n  - {id: a, wait: 1d}\n")
    assert where(problem) == (SOURCE, 5, None, "audience")
    assert problem.message.startswith("CEL syntax error at column 20 of 'customer.country =='")


def test_unknown_variable_in_a_branch_names_step_field_and_column():
    problem = only_problem_in(
        HEAD
        + dedent("""\
        steps:
          - id: route
            branch:
              - when: customer.orders_count > 1
                goto: done
              - when: customer.type == "wholesale" && scores.repeat < 0.2
                goto: done
          - {id: done, exit: completed}
        """)
    )
    assert where(problem) == (SOURCE, 10, "route", "branch.1.when")
    assert (
        problem.message
        == "unknown variable 'scores' at column 33: conditions can read customer, event, trigger, score"
    )


SCORED = HEAD + dedent("""\
    steps:
      - id: route
        branch:
          - when: score.repeat_purchase < 0.2
            goto: done
      - {id: done, exit: completed}
    """)


def test_a_score_with_no_trained_model_says_which_command_trains_it():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(SCORED, source=SOURCE, scores=[])

    [problem] = raised.value.problems
    assert where(problem) == (SOURCE, 8, "route", "branch.0.when")
    assert problem.message == (
        "reads score.repeat_purchase, but no repeat-purchase model is trained: train one with "
        "`onboardflow model train repeat-purchase` (it is kept in the models folder, ONBOARDFLOW_MODELS_DIR)"
    )


def test_a_score_with_its_model_trained_validates_and_is_known_to_the_version():
    version = load_journey(SCORED, source=SOURCE, scores=["repeat_purchase"])

    assert version.reads_scores == {"repeat_purchase"}


@pytest.mark.parametrize(
    ("text", "line", "step_id", "field"),
    [
        (
            HEAD.replace("{event: Signed Up}", "{event: Signed Up, where: customer.x ==}")
            + "steps:\n  - {id: a, wait: 1d}\n",
            4,
            None,
            "trigger.where",
        ),
        (
            HEAD + "goal: {event: X, where: 'event.x = 1'}\nsteps:\n  - {id: a, wait: 1d}\n",
            5,
            None,
            "goal.where",
        ),
        (
            HEAD + "exit_when:\n  - {event: X}\n  - {event: Y, where: nope}\nsteps:\n  - {id: a, wait: 1d}\n",
            7,
            None,
            "exit_when.1.where",
        ),
        (
            HEAD + "steps:\n  - id: a\n    wait_for: {event: X, where: event.x ==, timeout: 1d}\n",
            7,
            "a",
            "wait_for.where",
        ),
    ],
)
def test_every_condition_is_checked_where_it_stands(text, line, step_id, field):
    assert where(only_problem_in(text)) == (SOURCE, line, step_id, field)


def test_macro_bound_variables_validate():
    load_journey(HEAD + "audience: 'customer.tags.exists(t, t == \"vip\")'\nsteps:\n  - {id: a, wait: 1d}\n")


# the graph of steps


def test_duplicate_step_id_points_at_the_second():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    wait: 1d\n  - id: a\n    wait: 2d\n")
    assert where(problem) == (SOURCE, 8, "a", "id")
    assert problem.message == "duplicate step id 'a': step ids must be unique"


def test_goto_to_a_missing_step_lists_the_steps_there_are():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    wait: 1d\n    goto: nowhere\n")
    assert where(problem) == (SOURCE, 8, "a", "goto")
    assert problem.message == "goes to step 'nowhere', which does not exist; steps are: a"


def test_on_timeout_to_a_missing_step():
    problem = only_problem_in(
        HEAD + "steps:\n  - id: a\n    wait_for: {event: X, timeout: 1d}\n    on_timeout: late\n"
    )
    assert where(problem) == (SOURCE, 8, "a", "on_timeout")
    assert "goes to step 'late', which does not exist" in problem.message


BRANCH = dedent("""\
    steps:
      - id: route
        branch:
          - when: customer.x == 1
            goto: {arm}
        default: {default}
      - {{id: b, wait: 1d}}
    """)


def test_branch_default_to_a_missing_step():
    problem = only_problem_in(HEAD + BRANCH.format(arm="b", default="nowhere"))
    assert where(problem) == (SOURCE, 10, "route", "default")


def test_branch_arm_goto_to_a_missing_step():
    problem = only_problem_in(HEAD + BRANCH.format(arm="nowhere", default="b"))
    assert where(problem) == (SOURCE, 9, "route", "branch.0.goto")


def test_unreachable_step_is_reported():
    problem = only_problem_in(
        HEAD
        + "steps:\n  - id: a\n    wait: 1d\n  - {id: done, exit: completed}\n  - id: orphan\n    wait: 1d\n"
    )
    assert where(problem) == (SOURCE, 9, "orphan", None)
    assert problem.message == "no step leads here: add a goto to it, or remove the step"


def test_a_step_reached_only_by_a_goto_is_reachable():
    load_journey(
        HEAD
        + dedent("""\
        steps:
          - id: a
            wait_for: {event: X, timeout: 1d}
            on_timeout: late
          - {id: done, exit: completed}
          - id: late
            send: {channel: email, template: sorry}
        """)
    )


def test_loop_with_no_wait_is_reported_with_its_path():
    problem = only_problem_in(
        HEAD
        + dedent("""\
        steps:
          - id: a
            send: {channel: email, template: t}
          - id: b
            send: {channel: email, template: t}
            goto: a
        """)
    )
    assert where(problem) == (SOURCE, 6, "a", None)
    assert problem.message == "loop with no wait in it: a -> b -> a; add a wait or wait_for to the loop"


def test_branch_to_itself_is_a_loop_with_no_wait():
    problem = only_problem_in(HEAD + BRANCH.format(arm="route", default="b"))
    assert problem.step_id == "route"
    assert "loop with no wait in it: route -> route" in problem.message


def test_loop_through_a_wait_is_allowed():
    load_journey(
        HEAD
        + dedent("""\
        steps:
          - id: nudge
            send: {channel: email, template: t}
          - id: pause
            wait: 1d
            goto: nudge
        """)
    )


def test_wait_for_without_timeout_is_reported():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n    wait_for: {event: First Login}\n")
    assert where(problem) == (SOURCE, 7, "a", "wait_for.timeout")
    assert problem.message == "wait_for needs a timeout, e.g. timeout: 10d, so nobody waits forever"


# documents that are not journeys


def test_invalid_yaml_gives_its_line():
    problem = only_problem_in(HEAD + "steps:\n  - id: a\n   wait: 1d\n")
    assert where(problem) == (SOURCE, 7, None, None)
    assert problem.message.startswith("not valid YAML: ")


@pytest.mark.parametrize("text", ["- a\n- b\n", "hello\n", "", "42\n"])
def test_a_document_that_is_not_a_mapping_is_refused(text):
    problem = only_problem_in(text)
    assert where(problem) == (SOURCE, 1, None, None)
    assert problem.message == "a journey is a mapping with id, name, owner, trigger and steps"


def test_a_parsed_document_is_checked_the_same_way():
    with pytest.raises(JourneyInvalid) as raised:
        check_document(["not", "a", "journey"], source="api")
    assert str(raised.value) == "api:1: a journey is a mapping with id, name, owner, trigger and steps"


def test_json_is_yaml_too():
    text = '{"id": "j", "name": "J", "owner": "o", "trigger": {"event": "X"}, '
    text += '"steps": [{"id": "a", "wait": "1d"}]}'
    assert load_journey(text).id == "j"


# many problems at once


def test_schema_and_condition_problems_are_all_reported_in_one_go():
    problems = problems_in(
        HEAD
        + dedent("""\
        colour: red
        audience: foo.x == 1
        steps:
          - id: a
            wait: 5 days
          - id: b
            wait_for: {event: X, where: event.x ==, timeout: 1d}
        """)
    )
    assert sorted(where(problem) for problem in problems) == [
        (SOURCE, 5, None, "colour"),
        (SOURCE, 6, None, "audience"),
        (SOURCE, 9, "a", "wait"),
        (SOURCE, 11, "b", "wait_for.where"),
    ]


def test_graph_problems_are_all_reported_in_one_go():
    problems = problems_in(
        HEAD
        + dedent("""\
        steps:
          - id: a
            wait: 1d
            goto: nowhere
          - id: b
            wait_for: {event: X}
            on_timeout: gone
        """)
    )
    assert sorted(where(problem) for problem in problems) == [
        (SOURCE, 8, "a", "goto"),
        (SOURCE, 9, "b", None),  # unreachable: a goes nowhere
        (SOURCE, 10, "b", "wait_for.timeout"),
        (SOURCE, 11, "b", "on_timeout"),
    ]


def test_the_error_message_lists_every_problem_on_its_own_line():
    with pytest.raises(JourneyInvalid) as raised:
        load_journey(HEAD + "colour: red\nsteps:\n  - id: a\n    wait: 5 days\n", source=SOURCE)
    assert sorted(str(raised.value).splitlines()) == [
        f"{SOURCE}:5: field colour: unknown field 'colour': remove it or check its spelling",
        f"{SOURCE}:8: step 'a': field wait: '5 days' is not a duration: "
        "write a number and a unit (s, m, h, d, w), e.g. 90m, 36h, 10d",
    ]


def test_problem_reads_as_file_line_step_field_message():
    problem = Problem("j.yaml", "goes nowhere", line=12, step_id="route", field="default")
    assert str(problem) == "j.yaml:12: step 'route': field default: goes nowhere"
    assert str(Problem("j.yaml", "bad")) == "j.yaml: bad"
