"""The KPIs as the CLI and the API ask for them: read from the store, computed, as a document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboardflow.analytics.cuts import cut
from onboardflow.analytics.decisions import decision_closure
from onboardflow.analytics.documents import cuts_document
from onboardflow.analytics.reading import read_outcomes
from onboardflow.ports import Store


def kpis(
    store: Store, *, as_of: datetime, journey_id: str | None = None, by: str | None = None
) -> dict[str, Any]:
    """The KPIs of one journey (every journey if None), whole or cut `by` (ValueError: an unknown cut;
    UnknownJourney: a journey never published)."""
    data = read_outcomes(store, as_of=as_of, journey_id=journey_id)
    closure = decision_closure(data.decisions, data.blockers, as_of, journey_id=journey_id)
    return cuts_document(
        cut(data, journey_id, by), as_of=as_of, journey_id=journey_id, by=by, closure=closure
    )
