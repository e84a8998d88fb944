"""The histories the models learn from in tests: the Olist sample (shipped data), and the sample shop."""

from __future__ import annotations

import pytest

from onboardflow.core.model import Event
from onboardflow.integrations.olist import olist_events
from onboardflow.intelligence.history import by_customer
from onboardflow.intelligence.sample_shop import sample_history
from shared_data import SHARED_DATA

OLIST = SHARED_DATA / "olist-sample"


@pytest.fixture(scope="session")
def olist_histories() -> dict[str, list[Event]]:
    return by_customer(event for event in olist_events(OLIST) if isinstance(event, Event))


@pytest.fixture(scope="session")
def shop_histories() -> dict[str, list[Event]]:
    """2,000 customers of the sample shop: enough for the models to show what they learn, in seconds."""
    return by_customer(sample_history(customers=2000, seed=11))
