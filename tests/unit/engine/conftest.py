"""Fixtures for engine tests: a shop on the memory store and a virtual clock."""

from __future__ import annotations

import pytest

from .shop import Shop


@pytest.fixture
def shop() -> Shop:
    """An empty shop: no journeys live."""
    return Shop()


@pytest.fixture
def examples(shop: Shop) -> Shop:
    """The shop with the shipped example journeys live."""
    shop.publish_examples()
    return shop
