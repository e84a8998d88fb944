"""What the pages share: the message templates the workers render with, and a journey's state and versions
as stored, with a 404 page that says where to look when there is none."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from onboardflow.api.problems import Problem
from onboardflow.catalog import example_files, example_templates
from onboardflow.core.review import VersionReview
from onboardflow.core.version import JourneyVersion
from onboardflow.engine.live import stored_journey
from onboardflow.governance.service import review_of
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


def templates_folder(settings: Settings) -> Path:
    """Where the workspace's message templates are (ONBOARDFLOW_JOURNEYS_DIR's templates/). A workspace
    that runs on the example journeys' templates (the demo) gets them copied there first, so that new
    templates written beside them (New from template) leave the examples' in force."""
    folder = Path(settings.journeys_dir) / TEMPLATES_FOLDER
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for name, text in example_files(f"examples/{TEMPLATES_FOLDER}"):
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def journey_of(store: Store, journey_id: str) -> JourneyState:
    """The journey as the engine runs it; one never launched (drafts only) reads as live version 0."""
    state = journey_state(store, journey_id)
    if state is not None:
        return state
    versions = store.versions(journey_id)
    if not versions:
        raise Problem(404, "Journey not found", f"no journey {journey_id!r}: the list is at /journeys")
    return JourneyState(journey_id, versions[-1].definition.get("name", journey_id), 0, rollout_percent=0.0)


def draft_journeys(store: Store) -> list[JourneyState]:
    """Journeys stored as drafts and never launched (`load`, `PUT`, New from template), by id."""
    live = {state.journey_id for state in store.journeys()}
    drafted = sorted({entry.journey_id for entry in store.audit_trail() if entry.action == "draft"} - live)
    return [journey_of(store, journey_id) for journey_id in drafted if store.versions(journey_id)]


def review_in_force(store: Store, state: JourneyState, number: int) -> VersionReview:
    """A version's review; one made live by the engine's own path (no review written: a test, an older
    workspace) reads as live, or paused, as `governance.launch` reads it."""
    review = review_of(store, state.journey_id, number)
    if store.review(state.journey_id, number) is None and number == state.live_version:
        return replace(review, status="paused" if state.is_paused else "live")
    return review


def version_of(store: Store, state: JourneyState, number: int | None = None) -> StoredVersion:
    """Version `number` of the journey (the live one if None, or the newest of one never launched)."""
    versions = store.versions(state.journey_id)
    stored = store.version(state.journey_id, number or state.live_version or len(versions))
    if stored is None:
        raise Problem(404, "Version not found", f"journey {state.journey_id!r} has versions 1 to "
                      f"{len(versions)}")
    return stored


def live_journey(store: Store, journey_id: str) -> JourneyVersion:
    """The live version of a journey, compiled as the engine runs it."""
    return stored_journey(version_of(store, journey_of(store, journey_id)))
