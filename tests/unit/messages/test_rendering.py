"""Rendering one message: the locale variant chosen, each channel's content, limits that stop a runaway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardflow.core.model import Customer
from onboardflow.messages.content import EmailContent, PushContent, SmsContent, WhatsAppContent
from onboardflow.messages.loading import read_template
from onboardflow.messages.templates import (
    MessageError,
    MessageScope,
    TemplateSet,
    choose_variant,
    locale_candidates,
    render_message,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

ORDER_SHIPPED = """\
email:
  default:
    subject: "Order {{ trigger.order_id }} shipped, {{ customer.first_name | default: 'friend' }}"
    text: |
      Hi {{ customer.first_name }},
      {% for product in trigger.products %}- {{ product.name }}
      {% endfor %}{{ journey.id }}/{{ step.id }}/{{ message.id }}
      Unsubscribe: {{ unsubscribe_url }}
    html: <p>Hi {{ customer.first_name }}</p><a href="{{ unsubscribe_url }}">unsubscribe</a>
  fr:
    subject: Commande expédiée
    text: Bonjour
  fr-CA:
    subject: Commande expédiée (Canada)
    text: Allô
sms:
  default:
    text: "{{ customer.first_name }}, order {{ trigger.order_id }} shipped"
whatsapp:
  default:
    template: order_shipped_v2
    language: en_US
    parameters: ["{{ customer.first_name | default: 'there' }}", "{{ trigger.order_id }}"]
    text: "Hi {{ customer.first_name }}, it shipped"
  de:
    text: Versandt
push:
  default:
    title: "Shipped"
    body: "Order {{ trigger.order_id }}"
    deep_link: "shop://orders/{{ trigger.order_id }}"
in_app:
  default:
    title: Shipped
    body: On its way
"""


def template_set(text: str = ORDER_SHIPPED, name: str = "order_shipped") -> TemplateSet:
    template, problems, _ = read_template(text, name=name, source=f"templates/{name}.yaml")
    assert problems == []
    return TemplateSet({name: template})


ANA = Customer(id="c1", email="ana@example.com", locale="en-US", traits={"first_name": "Ana"})
TRIGGER = {"order_id": "o_9", "products": [{"name": "Serum"}, {"name": "Cream"}]}


def scope(customer: Customer = ANA, **trigger) -> MessageScope:
    return MessageScope.of(customer, trigger={**TRIGGER, **trigger}, journey_id="shipping", step_id="shipped",
                           message_id="msg_1", unsubscribe_url="https://shop.example/u?t=1&c=c1")


# locales


def test_locale_candidates_go_from_exact_to_language_to_default():
    assert locale_candidates("fr-CA") == ["fr-ca", "fr", "default"]
    assert locale_candidates("fr_ca") == ["fr-ca", "fr", "default"]
    assert locale_candidates("zh-Hant-TW") == ["zh-hant-tw", "zh-hant", "zh", "default"]
    assert locale_candidates(None) == ["default"]
    assert locale_candidates("  ") == ["default"]


@pytest.mark.parametrize(
    ("locale", "variant"),
    [("fr-CA", "fr-CA"), ("fr_ca", "fr-CA"), ("fr-BE", "fr"), ("fr", "fr"), ("en-US", "default"),
     (None, "default")],
)
def test_the_variant_is_the_exact_locale_else_its_language_else_default(locale, variant):
    template = template_set().get("order_shipped")

    assert choose_variant(template, "email", locale).locale == variant


def test_the_customers_locale_picks_the_variant_unless_one_is_given():
    quebec = Customer(id="c2", locale="fr-CA")

    assert render_message(template_set(), "order_shipped", "email", scope(quebec)).text == "Allô"
    french = render_message(template_set(), "order_shipped", "email", scope(quebec), locale="fr")
    assert french.text == "Bonjour"


# each channel


def test_email_renders_subject_text_and_html_from_the_scope():
    content = render_message(template_set(), "order_shipped", "email", scope())

    assert isinstance(content, EmailContent)
    assert content.subject == "Order o_9 shipped, Ana"
    assert content.text == (
        "Hi Ana,\n- Serum\n- Cream\nshipping/shipped/msg_1\nUnsubscribe: https://shop.example/u?t=1&c=c1"
    )
    assert content.html == '<p>Hi Ana</p><a href="https://shop.example/u?t=1&amp;c=c1">unsubscribe</a>'


def test_a_missing_variable_renders_empty_and_default_gives_a_fallback():
    nameless = Customer(id="c3", locale="en")

    content = render_message(template_set(), "order_shipped", "email", scope(nameless))

    assert content.subject == "Order o_9 shipped, friend"
    assert content.text.startswith("Hi ,\n")


def test_customer_data_is_escaped_in_html_but_not_in_text():
    mallory = Customer(id="c4", traits={"first_name": "<script>x</script>"})

    content = render_message(template_set(), "order_shipped", "email", scope(mallory))

    assert "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>" in content.html
    assert content.text.startswith("Hi <script>x</script>,")


def test_a_newline_in_data_cannot_break_out_of_the_subject():
    sneaky = Customer(id="c5", traits={"first_name": "Ana\r\nBcc: all@example.com"})

    content = render_message(template_set(), "order_shipped", "email", scope(sneaky))

    assert content.subject == "Order o_9 shipped, Ana Bcc: all@example.com"


def test_sms_renders_text_with_encoding_and_segments():
    content = render_message(template_set(), "order_shipped", "sms", scope())

    assert content == SmsContent(text="Ana, order o_9 shipped", encoding="GSM-7", segments=1)


def test_sms_with_an_emoji_in_the_data_is_ucs2():
    content = render_message(template_set(), "order_shipped", "sms", scope())
    emoji = render_message(template_set(), "order_shipped", "sms",
                           scope(Customer(id="c6", traits={"first_name": "Ana 🌸"})))

    assert (content.encoding, emoji.encoding) == ("GSM-7", "UCS-2")


def test_whatsapp_sends_the_approved_template_with_rendered_parameters():
    content = render_message(template_set(), "order_shipped", "whatsapp", scope())

    assert content == WhatsAppContent(template="order_shipped_v2", language="en_US",
                                      parameters=("Ana", "o_9"))


def test_whatsapp_sends_free_text_inside_the_customers_window():
    content = render_message(template_set(), "order_shipped", "whatsapp", scope(), now=NOW,
                             last_inbound_at=NOW - timedelta(hours=3))

    assert content == WhatsAppContent(text="Hi Ana, it shipped")


def test_whatsapp_free_text_only_outside_the_window_is_an_error_naming_the_variant():
    german = Customer(id="c7", locale="de-DE")

    with pytest.raises(MessageError) as raised:
        render_message(template_set(), "order_shipped", "whatsapp", scope(german), now=NOW,
                       last_inbound_at=NOW - timedelta(days=3))

    assert "templates/order_shipped.yaml), whatsapp.de" in str(raised.value)
    assert "within 24 hours of the customer's own last message" in str(raised.value)


def test_a_whatsapp_parameter_that_renders_empty_is_an_error():
    text = ORDER_SHIPPED.replace("\"{{ trigger.order_id }}\"]", "\"{{ trigger.tracking }}\"]")

    with pytest.raises(MessageError, match=r"whatsapp.default.parameters.2 rendered empty"):
        render_message(template_set(text), "order_shipped", "whatsapp", scope())


def test_push_and_in_app_render_title_body_and_deep_link():
    push = render_message(template_set(), "order_shipped", "push", scope())
    in_app = render_message(template_set(), "order_shipped", "in_app", scope())

    assert push == PushContent(title="Shipped", body="Order o_9", deep_link="shop://orders/o_9")
    assert in_app == PushContent(title="Shipped", body="On its way", deep_link=None)


# what cannot be rendered


def test_a_template_that_is_not_there_names_the_file_to_add():
    with pytest.raises(MessageError, match=r"no template 'welcome' in templates: add templates/welcome.yaml"):
        render_message(template_set(), "welcome", "email", scope())


def test_a_channel_the_template_does_not_have_says_which_it_has():
    text = "email:\n  default:\n    subject: s\n    text: t\n"

    with pytest.raises(MessageError, match=r"has no sms part \(it has: email\)"):
        render_message(template_set(text, "t"), "t", "sms", scope())


RUNAWAY = """\
sms:
  default:
    text: |
      Hello
      {% for i in (1..100000000) %}{{ i }}{% endfor %}
"""


def test_a_runaway_loop_is_stopped_by_the_iteration_limit_with_file_and_line():
    with pytest.raises(MessageError) as raised:
        render_message(template_set(RUNAWAY, "runaway"), "runaway", "sms", scope())

    where = "templates/runaway.yaml:5: sms.default.text"
    assert str(raised.value).startswith(f"{where}: stopped: loop iteration limit reached")


def test_nested_loops_count_together_against_the_limit():
    nested = RUNAWAY.replace("(1..100000000) %}{{ i }}", "(1..100) %}{% for j in (1..100) %}x{% endfor %}")

    with pytest.raises(MessageError, match="loop iteration limit"):
        render_message(template_set(nested, "nested"), "nested", "sms", scope())


def test_a_huge_output_is_stopped_by_the_output_limit():
    huge = RUNAWAY.replace("(1..100000000) %}{{ i }}", "(1..1000) %}" + "x" * 1000)

    with pytest.raises(MessageError, match="output stream limit"):
        render_message(template_set(huge, "huge"), "huge", "sms", scope())


def test_a_string_doubled_in_a_loop_is_stopped_by_the_namespace_limit():
    doubling = RUNAWAY.replace(
        "{% for i in (1..100000000) %}{{ i }}{% endfor %}",
        '{% assign s = "ab" %}{% for i in (1..30) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}',
    )

    with pytest.raises(MessageError, match="local namespace limit"):
        render_message(template_set(doubling, "doubling"), "doubling", "sms", scope())


def test_a_loop_within_the_limit_renders():
    fine = RUNAWAY.replace("(1..100000000) %}{{ i }}", "(1..3) %}{{ i }}")

    assert render_message(template_set(fine, "fine"), "fine", "sms", scope()).text == "Hello\n123"


def test_money_formats_an_amount_with_its_currency_and_leaves_a_missing_one_empty():
    liquid = "{{ trigger.total | money: trigger.currency }}|{{ trigger.none | money }}"
    text = f'sms:\n  default:\n    text: "{liquid}"\n'

    content = render_message(template_set(text, "m"), "m", "sms", scope(total=1250, currency="EUR"))

    assert content.text == "1,250.00 EUR|"
