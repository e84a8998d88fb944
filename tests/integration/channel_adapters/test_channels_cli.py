"""`onboardflow channels`: the channel settings checked at start-up, as an operator runs it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from onboardflow.cli import app

from .conftest import SMTP_PASSWORD, TWILIO_TOKEN


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["channels", *args], env=env)


def test_lists_each_channel_with_its_adapter_and_masked_secrets():
    Path("onboardflow.toml").write_text(
        "[channels.smtp]\nhost = 'smtp.example'\nfrom_address = 'hello@shop.example'\nusername = 'mailer'\n",
        encoding="utf-8",
    )

    result = run(env={"ONBOARDFLOW_SMTP__PASSWORD": SMTP_PASSWORD})

    assert result.exit_code == 0, result.output
    assert "│ email   │ smtp    │ host=smtp.example" in result.output
    assert "password=**********" in result.output and "│ in_app  │ inbox" in result.output
    assert SMTP_PASSWORD not in result.output


def test_every_problem_is_reported_with_exit_1_and_no_secret(tmp_path):
    path = tmp_path / "channels.toml"
    table = f"[channels.twilio]\naccount_sid = 'AC1'\nauth_token = '{TWILIO_TOKEN}'\n"
    path.write_text(table, encoding="utf-8")

    result = run("--config", str(path))

    assert result.exit_code == 1
    assert "[channels.twilio]: set exactly one of from_number and messaging_service_sid" in result.output
    assert TWILIO_TOKEN not in result.output
