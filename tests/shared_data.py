"""Where the outside data lives (Olist, Shopify fixtures): `../shared/data` beside the checkout.

ONBOARDFLOW_SHARED_DATA names another folder; a checkout elsewhere (a CI clone, a worktree) falls back
to /work/shared/data. Missing data fails the tests that need it, loudly, rather than skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [
    os.environ.get("ONBOARDFLOW_SHARED_DATA"),
    str(Path(__file__).resolve().parents[1].parent / "shared" / "data"),
    "/work/shared/data",
]


def shared_data() -> Path:
    for candidate in _CANDIDATES:
        if candidate and (Path(candidate) / "olist-sample").is_dir():
            return Path(candidate)
    raise FileNotFoundError(
        "the shared test data is missing: set ONBOARDFLOW_SHARED_DATA to the folder holding olist-sample/ "
        f"and shopify-webhooks/ (looked in: {', '.join(c for c in _CANDIDATES if c)})"
    )


SHARED_DATA = shared_data()
