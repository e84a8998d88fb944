"""The weekly report by email (SMTP to a real aiosmtpd server in this process) and on the worker's schedule,
on a virtual clock: once per week, never twice for one week, even after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.channel_adapters.servers import MailServer

from onboardflow.analytics.mailing import ReportSetupError, Schedule, ScheduledReports
from onboardflow.analytics.weekly import send_weekly
from onboardflow.channels import ChannelContext
from onboardflow.channels.smtp import SmtpChannel, SmtpSettings
from onboardflow.demo import demo_journeys
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.store.memory import MemoryStore

MONDAY_8 = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # 08:00 in Europe/Paris (CET)


@pytest.fixture
def mail():
    server = MailServer(tls=None, users={}).start()
    yield server
    server.stop()


def reports(store, mail, folder: Path, clock) -> ScheduledReports:
    settings = SmtpSettings(
        host="127.0.0.1", port=mail.port, security="none", from_address="reports@shop.example"
    )
    channels = {"email": SmtpChannel(settings, ChannelContext(clock=clock))}
    return ScheduledReports(
        store,
        Schedule.parse("mon 08:00", "Europe/Paris"),
        folder,
        lambda report, html: send_weekly(report, html, store=store, channels=channels),
        zone="Europe/Paris",
    )


def test_the_scheduled_report_goes_to_each_owner_once_a_week(mail, tmp_path: Path):
    store, clock = MemoryStore(), VirtualClock(MONDAY_8 - timedelta(minutes=1))
    engine = Engine(store, clock=clock)
    for version in demo_journeys():
        engine.publish(version)
    owners = {version.journey.owner for version in demo_journeys()}
    first = reports(store, mail, tmp_path, clock)
    assert first.run_due(clock.now()) is not None  # the week before's Monday 08:00 had passed: catch up
    sent = len(mail.received)
    assert sent == len(owners)
    assert first.run_due(MONDAY_8 - timedelta(minutes=1)) is None
    run = first.run_due(MONDAY_8)
    assert run is not None and run.id == "weekly:2026-W11"
    assert len(mail.received) == 2 * sent
    restarted = reports(store, mail, tmp_path, clock)  # a worker restarted within the week sends nothing
    assert restarted.run_due(MONDAY_8 + timedelta(hours=3)) is None
    assert restarted.run_due(MONDAY_8 + timedelta(days=7)).id == "weekly:2026-W12"
    message = mail.received[-1].message
    assert message["Subject"].startswith("Weekly onboarding report, week 2026-W1")
    assert {r for m in mail.received for r in m.recipients} == owners
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds
    assert [r.period for r in store.report_runs("weekly")] == ["2026-W10", "2026-W11", "2026-W12"]


def test_a_schedule_that_is_not_a_weekly_time_says_how_to_write_one():
    with pytest.raises(ReportSetupError, match='e.g. "mon 08:00"'):
        Schedule.parse("every monday", "UTC")
    assert Schedule.parse("Sun 23:30", "UTC").last_due(datetime(2026, 3, 9, tzinfo=UTC)) == datetime(
        2026, 3, 8, 23, 30, tzinfo=UTC
    )
