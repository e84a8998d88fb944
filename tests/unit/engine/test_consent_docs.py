"""The consent events of docs/consent.md, run through ingest and the engine: the state the page promises."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from onboardflow.core.consent import may_receive
from onboardflow.engine.clock import VirtualClock
from onboardflow.engine.engine import Engine
from onboardflow.engine.ingest import LineError, read_events
from onboardflow.store.memory import MemoryStore

DOC = Path(__file__).resolve().parents[3] / "docs" / "consent.md"


def doc_events() -> list:
    [block] = re.findall(r"^```jsonl\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    return list(read_events(block.splitlines()))


def test_the_documented_consent_events_are_valid_and_give_the_documented_state():
    events = doc_events()
    assert not [item for item in events if isinstance(item, LineError)]
    store = MemoryStore()

    Engine(store, clock=VirtualClock(datetime(2026, 3, 7, tzinfo=UTC))).ingest(events)

    state = store.consent_state("c_42")
    allowed = {
        (channel, topic): may_receive(state, channel, topic)
        for channel in ("email", "sms", "whatsapp")
        for topic in ("education", "promotion")
    }
    assert allowed == {
        ("email", "education"): True, ("email", "promotion"): True,
        ("sms", "education"): False, ("sms", "promotion"): False,
        ("whatsapp", "education"): False, ("whatsapp", "promotion"): True,
    }
    assert state[("email", "marketing")].evidence["double_opt_in"] is True
