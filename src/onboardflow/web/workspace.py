"""What the pages share: the message templates the workers render with, and a journey's state and versions
as stored, with a 404 page that says where to look when there is none."""

from __future__ import annotations

from pathlib import Path

from onboardflow.api.problems import Problem
from onboardflow.catalog import example_templates
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.live import stored_journey
from onboardflow.journeys import journey_state
from onboardflow.messages.loading import TemplateLoad, load_templates
from onboardflow.messages.templates import TEMPLATES_FOLDER
from onboardflow.ports import JourneyState, Store, StoredVersion
from onboardflow.settings import Settings


def message_templates(settings: Settings) -> TemplateLoad:
    """The templates/ folder beside the journeys (ONBOARDFLOW_JOURNEYS_DIR), as `onboardflow run` renders
    with; without one, the example journeys' templates, as the demo has them."""
    folder = Path(settings.journeys_dir) / TEMPLATES_FOLDER
    if folder.is_dir():
        return load_templates(folder, segment_limit=settings.sms_segment_limit)
    return TemplateLoad(example_templates())


def journey_of(store: Store, journey_id: str) -> JourneyState:
    state = journey_state(store, journey_id)
    if state is None:
        raise Problem(404, "Journey not found", f"no journey {journey_id!r}: the list is at /journeys")
    return state


def version_of(store: Store, state: JourneyState, number: int | None = None) -> StoredVersion:
    """Version `number` of the journey (the live one if None)."""
    stored = store.version(state.journey_id, number or state.live_version)
    if stored is None:
        raise Problem(404, "Version not found", f"journey {state.journey_id!r} has versions 1 to "
                      f"{state.live_version}")
    return stored


def live_journey(store: Store, journey_id: str) -> JourneyVersion:
    """The live version of a journey, compiled as the engine runs it."""
    return stored_journey(version_of(store, journey_of(store, journey_id)))
