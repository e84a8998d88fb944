"""`onboardflow render`, and the template checks of `validate`, on a SQLite store the engine filled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onboardflow.catalog import load_journey_files, write_examples
from onboardflow.cli import app
from onboardflow.core.model import Event
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.store.sql import open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[2] / "docs" / "messages.md"
ORDER = {"order_id": "o_9", "total": 120.0, "currency": "USD",
         "products": [{"product_id": "p_1", "category": "skincare", "price": 60.0, "quantity": 2}]}


def first_order(customer_id: str, *, locale: str, first_name: str) -> Event:
    profile = {"email": f"{customer_id}@example.com", "phone": "+15551234567", "locale": locale,
               "country": "CA", "traits": {"first_name": first_name, "type": "retail"}}
    return Event(f"{customer_id}-order", "Order Completed", customer_id, T0, ORDER, profile)


def signup(customer_id: str) -> Event:
    return Event(f"{customer_id}-signup", "Signed Up", customer_id, T0,
                 customer={"email": f"{customer_id}@example.com", "locale": "en-GB"})


class Cli:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0):
        result = self.runner.invoke(app, [str(arg) for arg in args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, f"exit {result.exit_code}\n{result.output}"
        return result


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The example journeys and their templates in journeys/, live in a SQLite store with two customers."""
    url = f"sqlite:///{tmp_path}/onboardflow.db"
    monkeypatch.setenv("ONBOARDFLOW_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    write_examples(tmp_path / "journeys")
    loaded, problems = load_journey_files([tmp_path / "journeys"])
    assert problems == []
    store = open_store(url)
    try:
        engine = Engine(store, clock=VirtualClock(T0))
        for _, version in loaded:
            engine.publish(version)
        engine.ingest([first_order("c_ana", locale="fr-CA", first_name="Ana"),
                       first_order("c_bo", locale="en-US", first_name="Bo"), signup("c_cy")])
    finally:
        store.close()
    return Cli(tmp_path)


WELCOME = ("journeys/first-purchase-welcome.yaml", "welcome")
TIPS = ("journeys/first-purchase-welcome.yaml", "usage-tips")


def test_render_previews_the_email_in_the_customers_language(cli):
    result = cli("render", *WELCOME, "--customer", "c_ana")

    out = result.stdout
    assert "first-purchase-welcome / welcome: template welcome on email, variant fr" in out
    assert "variant fr (customer c_ana, locale fr-CA)" in out
    assert "Merci pour votre commande, Ana !" in out
    assert "Merci pour votre première commande (o_9)" in out
    assert "Total : 120.00 USD" in out
    assert "html ─" not in out  # the French variant has no HTML part
    assert result.stderr == ""


def test_render_with_a_locale_previews_another_variant(cli):
    out = cli("render", *WELCOME, "--customer", "c_ana", "--locale", "en").stdout

    assert "variant default (customer c_ana, locale fr-CA)" in out
    assert "Thanks for your order, Ana!" in out
    assert "- 2 × p_1" in out
    assert "<li>2 × p_1</li>" in out


def test_render_of_an_sms_shows_its_encoding_and_segments(cli):
    out = cli("render", *TIPS, "--customer", "c_bo", "--channel", "sms").stdout

    assert "sms · GSM-7 · 1 segment · 90 characters" in out
    assert "Your order o_9 arrived! 3 tips to start: https://shop.example/tips - reply STOP to opt out" in out
    assert "the step also sends on whatsapp, email: preview it with --channel" in out


def test_render_defaults_to_the_steps_first_channel(cli):
    out = cli("render", *TIPS, "--customer", "c_bo").stdout

    assert "template usage_tips on whatsapp" in out
    assert "usage_tips_v1 (en_US)" in out
    assert "{{1}} Bo\n{{2}} o_9" in out


def test_render_for_a_customer_outside_the_journey_says_the_trigger_is_empty(cli):
    out = cli("render", *WELCOME, "--customer", "c_cy").stdout

    assert "customer 'c_cy' has no enrollment in 'first-purchase-welcome': trigger.* renders empty" in out
    assert "Thank you for your first order ()" in out


def test_render_of_an_unknown_customer_fails_clearly(cli):
    result = cli("render", *WELCOME, "--customer", "nobody", code=1)

    assert "✗ no customer 'nobody' in the store" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("route",), "'route' is not a send step in journey 'first-purchase-welcome': its send steps are"),
        (("nowhere",), "'nowhere' is not a step of it in journey 'first-purchase-welcome'"),
        (("welcome", "--channel", "sms"), "step 'welcome' sends on email; --channel sms is not one of them"),
    ],
)
def test_render_of_a_step_that_cannot_be_previewed_says_why(cli, args, message):
    result = cli("render", "journeys/first-purchase-welcome.yaml", *args, "--customer", "c_bo", code=1)

    assert message in result.stderr


def test_render_without_a_templates_folder_says_where_to_put_the_template(cli):
    (cli.folder / "elsewhere").mkdir()
    (cli.folder / "journeys" / "signup-activation.yaml").rename(cli.folder / "elsewhere" / "signup.yaml")

    result = cli("render", "elsewhere/signup.yaml", "welcome", "--customer", "c_cy", code=1)

    message = "no templates/ folder beside the journey: create elsewhere/templates/account_welcome.yaml"
    assert message in result.stderr


def test_render_of_a_broken_template_shows_its_problems_with_lines(cli):
    broken = cli.folder / "journeys" / "templates" / "account_welcome.yaml"
    broken.write_text("email:\n  default:\n    subject: Hi\n    text: \"{{ customer.email | nosuch }}\"\n")

    result = cli("render", "journeys/signup-activation.yaml", "welcome", "--customer", "c_cy", code=1)

    assert "the template has problems; fix them first:" in result.stderr
    assert "account_welcome.yaml:4: field email.default.text: unknown filter 'nosuch'" in result.stderr


def test_render_warns_about_an_sms_past_the_segment_limit(cli, monkeypatch):
    nudge = cli.folder / "journeys" / "templates" / "delivery_apology.yaml"
    nudge.write_text("sms:\n  default:\n    text: \"{{ customer.first_name }}, " + "sorry! " * 30 + "\"\n"
                     "email:\n  default: {subject: s, text: t}\n")
    monkeypatch.setenv("ONBOARDFLOW_SMS_SEGMENT_LIMIT", "1")

    result = cli("render", "journeys/first-purchase-welcome.yaml", "late-delivery", "--customer", "c_bo")

    assert "sms · GSM-7 · 2 segments · 213 characters" in result.stdout
    assert "! 2 SMS segments (213 GSM-7 characters), past the limit of 1: shorten the text" in result.stderr


# validate, with a templates/ folder beside the journeys


def test_validate_checks_the_templates_beside_the_journeys(cli):
    result = cli("validate", "journeys")

    assert "✓ journeys/first-purchase-welcome.yaml" in result.stdout
    assert "✓ journeys/templates: 8 template(s)" in result.stdout
    assert result.stderr == ""


def test_validate_reports_template_problems_with_lines_and_send_steps_without_templates(cli):
    templates = cli.folder / "journeys" / "templates"
    (templates / "welcome.yaml").write_text("email:\n  default:\n    subject: \"{% if x %}\"\n    text: t\n")
    (templates / "usage_tips.yaml").write_text("email:\n  default: {subject: s, text: t}\n")
    (templates / "review_request.yaml").unlink()

    result = cli("validate", "journeys", code=1)

    err = result.stderr
    assert "✗ journeys/templates/welcome.yaml:3: field email.default.subject: Liquid syntax error" in err
    assert "template 'welcome'" not in err  # its own problem is reported, not a second one from the step
    step = "✗ journeys/first-purchase-welcome.yaml: journey 'first-purchase-welcome': step"
    no_variant = "field send.channel: template 'usage_tips' (journeys/templates/usage_tips.yaml) has no"
    assert f"{step} 'usage-tips': {no_variant} whatsapp variant" in err
    assert f"{step} 'usage-tips': {no_variant} sms variant" in err
    assert (f"{step} 'review-request': "
            "field send.template: no template 'review_request' in journeys/templates: "
            "add journeys/templates/review_request.yaml") in err


def test_validate_prints_the_report_line_the_docs_show(cli):
    journey = (cli.folder / "journeys" / "signup-activation.yaml").read_text()
    journey = journey.replace("id: signup-activation", "id: shipping").replace("id: welcome", "id: shipped")
    (cli.folder / "journeys" / "shipping.yaml").write_text(journey.replace("account_welcome", "order_shiped"))

    result = cli("validate", "journeys", code=1)

    [line] = [line for line in result.stderr.splitlines() if "order_shiped" in line]
    assert line.removeprefix("✗ ") in DOC.read_text(encoding="utf-8")


def test_validate_prints_template_warnings_without_failing(cli):
    (cli.folder / "journeys" / "templates" / "usage_tips.yaml").write_text(
        "whatsapp:\n  default: {text: hi}\nsms:\n  default: {text: \"{{ custmer.name }}\"}\n"
        "email:\n  default: {subject: s, text: t}\n"
    )

    result = cli("validate", "journeys")

    assert "! journeys/templates/usage_tips.yaml:2: field whatsapp.default: only free text" in result.stderr
    assert "! journeys/templates/usage_tips.yaml:4: field sms.default.text: unknown variable 'custmer'" in (
        result.stderr
    )


def test_validate_without_a_templates_folder_checks_only_the_journeys(cli):
    (cli.folder / "bare").mkdir()
    (cli.folder / "journeys" / "signup-activation.yaml").rename(cli.folder / "bare" / "signup.yaml")

    result = cli("validate", "bare")

    assert "✓ bare/signup.yaml: signup-activation (5 steps)" in result.stdout
    assert "template" not in result.stdout + result.stderr
