"""Loading template files: every problem with file, line and field, warnings apart, nothing half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from onboardflow.messages.loading import (
    TemplatesInvalid,
    load_templates,
    load_templates_strict,
    read_template,
)

SOURCE = "templates/t.yaml"


def problems_of(text: str, **options) -> list[str]:
    template, problems, _ = read_template(text, name="t", source=SOURCE, **options)
    assert (template is None) == bool(problems)
    return [str(problem) for problem in problems]


def warnings_of(text: str, **options) -> list[str]:
    _, _, warnings = read_template(text, name="t", source=SOURCE, **options)
    return [str(warning) for warning in warnings]


def test_a_clean_template_has_no_problems_and_no_warnings():
    text = "email:\n  default:\n    subject: Hi\n    text: \"Hello {{ customer.first_name }}\"\n"

    template, problems, warnings = read_template(text, name="t", source=SOURCE)

    assert (problems, warnings) == ([], [])
    assert list(template.channels["email"]) == ["default"]


def test_a_liquid_syntax_error_inside_a_block_names_its_own_line():
    text = """\
email:
  default:
    subject: Hi
    text: |
      Hello,
      your order {{ trigger.order_id }
      is on its way.
"""

    assert problems_of(text) == [
        "templates/t.yaml:6: field email.default.text: Liquid syntax error: expected '}}', found end of file"
    ]


def test_an_unclosed_tag_is_reported_on_the_last_line_of_its_text():
    text = "sms:\n  default:\n    text: |\n      {% if customer.vip %}\n      Hi\n\nemail: {}\n"

    [problem, *_] = problems_of(text)

    assert problem == ("templates/t.yaml:5: field sms.default.text: Liquid syntax error: "
                       "expected tag endif, found end of expression")


def test_an_unknown_filter_is_an_error_at_load_time_with_a_suggestion():
    text = 'sms:\n  default:\n    text: "Hi {{ customer.first_name | upcaes }}"\n'

    assert problems_of(text) == [
        "templates/t.yaml:3: field sms.default.text: unknown filter 'upcaes' (did you mean 'upcase'?)"
    ]


def test_an_unknown_filter_in_a_whatsapp_parameter_names_the_parameter():
    text = """\
whatsapp:
  default:
    template: hello
    language: en
    parameters:
      - "{{ customer.first_name }}"
      - "{{ trigger.order_id | nosuchfilter }}"
"""

    [problem] = problems_of(text)

    assert problem.startswith("templates/t.yaml:7: field whatsapp.default.parameters.2: unknown filter")


def test_an_unknown_channel_and_an_unknown_part_are_named_with_a_suggestion():
    text = "emial:\n  default: {subject: s, text: t}\nsms:\n  default:\n    txt: hi\n"

    assert problems_of(text) == [
        "templates/t.yaml:1: field emial: unknown channel 'emial' (did you mean 'email'?): channels are "
        "email, sms, whatsapp, push, in_app (and `description`)",
        "templates/t.yaml:4: field sms.default.text: missing: sms needs text",
        "templates/t.yaml:5: field sms.default.txt: unknown part 'txt' (did you mean 'text'?): sms has text",
    ]


@pytest.mark.parametrize(
    ("variant", "missing"),
    [("{text: t}", "subject"), ("{subject: s}", "text"), ("{subject: s, text: '  '}", None)],
)
def test_an_email_without_subject_or_text_is_a_problem(variant, missing):
    [problem] = problems_of(f"email:\n  default: {variant}\n")

    if missing:
        assert problem == (f"templates/t.yaml:2: field email.default.{missing}: "
                           "missing: email needs subject and text")
    else:
        assert problem == ("templates/t.yaml:2: field email.default.text: "
                           "is empty: write its text, or remove the key")


def test_push_needs_title_and_body():
    assert problems_of("push:\n  default: {title: t}\n") == [
        "templates/t.yaml:2: field push.default.body: missing: push needs title and body"
    ]


def test_a_channel_without_a_default_variant_is_a_problem():
    text = "sms:\n  fr:\n    text: Bonjour\n"

    assert problems_of(text) == [
        "templates/t.yaml:1: field sms: no `default` variant: "
        "add one, for customers whose locale has no variant"
    ]


def test_bad_and_doubled_locales_are_problems():
    text = "sms:\n  default: {text: a}\n  french: {text: b}\n  fr_CA: {text: c}\n  fr-ca: {text: d}\n"

    assert problems_of(text) == [
        "templates/t.yaml:3: field sms.french: 'french' is not a locale: write `default`, a language (`fr`) "
        "or a language and region (`fr-CA`)",
        "templates/t.yaml:5: field sms.fr-ca: locale 'fr-ca' is also written as 'fr_CA': keep one",
    ]


def test_a_key_written_twice_is_a_problem():
    text = "sms:\n  default:\n    text: a\n    text: b\n"

    assert problems_of(text) == [
        "templates/t.yaml:4: field sms.default.text: 'text' is written twice: keep one"
    ]


def test_whatsapp_template_needs_a_valid_name_and_a_language():
    text = "whatsapp:\n  default:\n    template: Order-Shipped\n"

    assert problems_of(text) == [
        "templates/t.yaml:2: field whatsapp.default.language: a template needs its language: add e.g. "
        "`language: en_US`",
        "templates/t.yaml:3: field whatsapp.default.template: 'Order-Shipped' is not valid here: lower case "
        "letters, digits and _, exactly as approved in WhatsApp Manager",
    ]


def test_whatsapp_needs_a_template_or_text():
    assert problems_of("whatsapp:\n  default:\n    parameters: [a]\n") == [
        "templates/t.yaml:2: field whatsapp.default.template: language and parameters belong to an approved "
        "`template`: add the template name",
        "templates/t.yaml:2: field whatsapp.default: needs an approved `template` (with `language` and "
        "`parameters`), free `text` for the 24 hours after the customer's own message, or both",
    ]


def test_whatsapp_with_only_free_text_loads_with_a_warning():
    text = "whatsapp:\n  default:\n    text: Hi\n"

    assert problems_of(text) == []
    [warning] = warnings_of(text)
    assert warning.startswith("templates/t.yaml:2: field whatsapp.default: only free text: it can go only")


def test_an_sms_past_the_segment_limit_even_with_empty_variables_is_a_warning():
    text = "sms:\n  default:\n    text: \"{{ customer.first_name }} " + "a" * 400 + "\"\n"

    assert problems_of(text) == []
    assert warnings_of(text, segment_limit=2) == [
        "templates/t.yaml:3: field sms.default.text: "
        "at least 3 SMS segments (400 GSM-7 characters), past the limit of 2: shorten the text"
    ]
    assert warnings_of(text) == []  # three segments: within the default limit of 3


def test_an_sms_without_variables_past_the_limit_gives_the_exact_count():
    text = "sms:\n  default:\n    text: \"" + "é" * 2 + "’" + "a" * 200 + "\"\n"

    [warning] = warnings_of(text, segment_limit=3)

    assert "4 SMS segments (203 UCS-2 characters)" in warning and "at least" not in warning
    assert "because of '’'" in warning


def test_an_unknown_variable_is_a_warning_not_an_error():
    text = "sms:\n  default:\n    text: |\n      Hi\n      {{ custmer.first_name }}\n"

    assert problems_of(text) == []
    assert warnings_of(text) == [
        "templates/t.yaml:5: field sms.default.text: unknown variable 'custmer' renders empty: templates see "
        "customer, trigger, journey, step, message, unsubscribe_url"
    ]


def test_liquid_on_one_unquoted_line_gets_a_yaml_hint():
    [problem] = problems_of("sms:\n  default:\n    text: Hi {{ x | default: 'y' }}\n")

    assert problem.startswith("templates/t.yaml:3: not valid YAML: mapping values are not allowed here")
    assert problem.endswith("Liquid on one line needs quotes around the whole text, or a `|` block below its "
                            "key")


def test_a_text_starting_with_braces_unquoted_says_to_quote_it():
    [problem, *_] = problems_of("push:\n  default:\n    title: {{ customer.first_name }}\n    body: b\n")

    assert problem == ("templates/t.yaml:3: field push.default.title: write text here, not a list or a "
                       "mapping; a text that starts with {{ needs quotes around it")


@pytest.mark.parametrize("text", ["", "- email\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_is_a_problem(text):
    [problem] = problems_of(text)

    assert "a template file maps channels (email, sms, whatsapp, push, in_app) to locales" in problem


def test_a_description_alone_is_a_template_without_channels():
    assert problems_of("description: nothing yet\n") == [
        "templates/t.yaml:1: the template has no channel: add one of email, sms, whatsapp, push, in_app"
    ]


# folders


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


GOOD = "sms:\n  default:\n    text: hi\n"


def test_a_folder_loads_one_template_per_file_named_by_the_file(tmp_path):
    write(tmp_path, "welcome.yaml", GOOD)
    write(tmp_path, "nudge.yml", GOOD)
    write(tmp_path, "notes.txt", "not a template")

    load = load_templates(tmp_path)

    assert sorted(load.templates.templates) == ["nudge", "welcome"]
    assert (load.problems, load.unreadable) == ([], set())


def test_a_folder_reports_every_bad_file_and_keeps_the_good_ones(tmp_path):
    write(tmp_path, "welcome.yaml", GOOD)
    write(tmp_path, "broken.yaml", "sms:\n  default:\n    text: \"{% if %}\"\n")
    write(tmp_path, "twice.yaml", GOOD)
    write(tmp_path, "twice.yml", GOOD)
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")

    load = load_templates(tmp_path)

    assert sorted(load.templates.templates) == ["twice", "welcome"]
    assert load.unreadable == {"binary", "broken"}
    messages = [str(problem) for problem in load.problems]
    assert any(m.startswith(f"{tmp_path}/binary.yaml: cannot read the file") for m in messages)
    broken = f"{tmp_path}/broken.yaml:3: field sms.default.text: Liquid syntax error"
    assert any(m.startswith(broken) for m in messages)
    assert f"{tmp_path}/twice.yml:1: template 'twice' is also {tmp_path}/twice.yaml: keep one" in messages


def test_strict_loading_raises_with_every_problem(tmp_path):
    write(tmp_path, "a.yaml", "sms: {}\nemial: {}\n")

    with pytest.raises(TemplatesInvalid) as raised:
        load_templates_strict(tmp_path)

    assert len(raised.value.problems) == 1
    assert "unknown channel 'emial'" in str(raised.value)


def test_a_missing_folder_is_a_problem(tmp_path):
    load = load_templates(tmp_path / "templates")

    assert [str(problem) for problem in load.problems] == [
        f"{tmp_path}/templates: no such folder: template files go in a templates/ folder"
    ]
