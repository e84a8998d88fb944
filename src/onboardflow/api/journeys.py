"""Journeys through the API: validate a document, create or update one (a draft for review, as
`onboardflow load` makes), list and read them and their versions, launch an approved version, pause
and resume. Reading and validating need the `read` scope, the rest `write`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response

from onboardflow.api.dependencies import (
    ClockDep,
    EngineDep,
    SettingsDep,
    StoreDep,
    keyed_router,
    require_read,
    require_write,
)
from onboardflow.api.journey_schemas import (
    JOURNEY_BODY,
    JourneyList,
    JourneyRead,
    JourneyStateRead,
    JourneySummary,
    ProblemRead,
    PublishRequest,
    ResumptionRead,
    ValidationRead,
    VersionList,
    VersionRead,
    VersionSummary,
)
from onboardflow.api.params import JourneyIdPath, VersionPath
from onboardflow.api.review import REFUSALS, acting_user, refused
from onboardflow.api.review import launch as launch_route
from onboardflow.api.review_schemas import ReviewRead
from onboardflow.governance.service import ReviewError, save_draft
from onboardflow.api.problems import Problem, problem_responses
from onboardflow.core.validation import JourneyInvalid
from onboardflow.core.validation import Problem as JourneyProblem
from onboardflow.engine.pausing import JourneyNotFound, JourneyNotPaused
from onboardflow.journeys import (
    JSON,
    MEDIA_TYPES,
    YAML,
    JourneyNumbers,
    journey_numbers,
    journey_state,
    read_journey,
    validate_journey,
)
from onboardflow.messages.templates import TEMPLATES_FOLDER
from onboardflow.ports import ApiKey, JourneyState, Store

# no body check here: the journey service reads documents, and reports bad text as a problem in them
router = keyed_router("/v1/journeys", "journeys", check_body=False)

MAX_BODY = 1_000_000  # bytes; the longest example journey is a few kilobytes
SOURCE = "body"  # what problems name as the file: `body:12: step 'welcome': field send.template: ...`
NOT_FOUND = problem_responses({404: "No such journey (or version)"})
INVALID = problem_responses({422: "The document has problems: `problems` lists each (line, step, field)"})
BODY_PROBLEMS = problem_responses({400: "The body is not UTF-8", 413: f"The body is over {MAX_BODY} bytes",
                                   415: "The body is neither YAML nor JSON"})


class JourneyBody:
    """A journey document as sent: its text, and whether it is JSON or YAML."""

    def __init__(self, text: str, kind: str) -> None:
        self.text, self.kind = text, kind


async def journey_body(request: Request) -> JourneyBody:
    """The request body as a journey document: YAML (application/yaml, text/yaml) or JSON; no content type
    reads as YAML, which JSON is too. 415 for another type, 413 past MAX_BODY, 400 when not UTF-8."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    kind = _kind(media)
    if kind is None:
        raise Problem(415, "Unsupported media type", "send the journey as application/yaml (or text/yaml) "
                      f"or application/json; the Content-Type was {media!r}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            raise Problem(413, "Journey too large", f"a journey document is at most {MAX_BODY} bytes")
    if not body.strip():
        raise Problem(422, "No journey", "send the journey document in the body, as YAML or JSON")
    try:
        return JourneyBody(body.decode("utf-8"), kind)
    except UnicodeDecodeError as error:
        raise Problem(400, "Body is not UTF-8", f"send the document as UTF-8 text: {error}") from None


def _kind(media: str) -> str | None:
    if not media:
        return YAML
    return MEDIA_TYPES.get(media) or (JSON if media.endswith("+json") else None)


Body = Annotated[JourneyBody, Depends(journey_body)]


@router.post("/validate", dependencies=[Depends(require_read)], openapi_extra=JOURNEY_BODY,
             responses=BODY_PROBLEMS)
def validate(body: Body, settings: SettingsDep) -> ValidationRead:
    """Check a journey document as `onboardflow validate` does: every problem with its line, step id and
    field, and each send step against the templates the workers render with. Nothing is stored. The
    answer is 200 either way: `valid` says which."""
    templates = Path(settings.journeys_dir) / TEMPLATES_FOLDER
    checked = validate_journey(body.text, kind=body.kind, source=SOURCE, templates=templates,
                               segment_limit=settings.sms_segment_limit)
    version = checked.version
    return ValidationRead(
        valid=checked.is_valid, journey_id=version.id if version else None,
        steps=len(version.journey.steps) if version else None,
        problems=[ProblemRead.of(problem) for problem in checked.problems], warnings=checked.warnings,
    )


@router.get("", dependencies=[Depends(require_read)])
def list_journeys(store: StoreDep) -> JourneyList:
    """Every journey: its live version, whether it is paused, and how many customers are in it and left it."""
    numbers = journey_numbers(store)
    return JourneyList(items=[
        JourneySummary.of(state, store.version(state.journey_id, state.live_version),
                          numbers.get(state.journey_id, JourneyNumbers()))
        for state in store.journeys()
    ])


@router.get("/{journey_id}", dependencies=[Depends(require_read)], responses=NOT_FOUND)
def get_journey(journey_id: JourneyIdPath, store: StoreDep) -> JourneyRead:
    """One journey: its live version's document, its steps, and how many customers are at each."""
    state = _state(store, journey_id)
    live = store.version(journey_id, state.live_version)
    numbers = journey_numbers(store).get(journey_id, JourneyNumbers())
    return JourneyRead.of(state, live, numbers)


@router.put("/{journey_id}", openapi_extra=JOURNEY_BODY,
            responses={200: {"description": "Same content as a stored version: that version, unchanged"},
                       201: {"model": ReviewRead, "description": "Stored as a new draft, for review"},
                       **INVALID, **BODY_PROBLEMS, **problem_responses({403: "The key acts as no author"})})
def put_journey(
    journey_id: JourneyIdPath, body: Body, store: StoreDep, clock: ClockDep, response: Response,
    key: Annotated[ApiKey, Depends(require_write)],
) -> ReviewRead:
    """Create or update a journey as a draft for review, as `onboardflow load` does, acting as the key's
    user: changed content becomes a new draft, the same content keeps its version and status. Nothing goes
    live without an approval (POST .../versions/{n}/submit, .../approve, .../launch). The document's `id`
    must be the one in the path."""
    author = acting_user(store, key)
    try:
        version = read_journey(body.text, kind=body.kind, source=SOURCE)
        if version.id != journey_id:
            raise _mismatch(version.id, journey_id)
        draft, is_new = save_draft(store=store, version=version, source=f"PUT /v1/journeys/{journey_id}",
                                   author=author, now=clock.now())
    except JourneyInvalid as invalid:
        raise invalid_journey(invalid) from None
    except ReviewError as error:
        raise refused(error) from None
    response.status_code = 201 if is_new else 200
    return ReviewRead.of(draft)


@router.get("/{journey_id}/versions", dependencies=[Depends(require_read)], responses=NOT_FOUND)
def list_versions(journey_id: JourneyIdPath, store: StoreDep) -> VersionList:
    """Every stored version of the journey, oldest first; the newest is the live one."""
    state = _state(store, journey_id)
    return VersionList(journey_id=journey_id, live_version=state.live_version,
                       items=[VersionSummary.of(v, state) for v in store.versions(journey_id)])


@router.get("/{journey_id}/versions/{version}", dependencies=[Depends(require_read)], responses=NOT_FOUND)
def get_version(journey_id: JourneyIdPath, version: VersionPath, store: StoreDep) -> VersionRead:
    """One stored version: its document as stored (JSON; `PUT` it back to make it live again)."""
    state = _state(store, journey_id)
    stored = store.version(journey_id, version)
    if stored is None:
        raise Problem(404, "Version not found", f"journey {journey_id!r} has no version {version}: its "
                      f"versions are 1 to {state.live_version}")
    return VersionRead.of(stored, state)


@router.post("/{journey_id}/publish", responses={**NOT_FOUND, **INVALID, **REFUSALS})
def publish(journey_id: JourneyIdPath, body: PublishRequest, engine: EngineDep,
            key: Annotated[ApiKey, Depends(require_write)]) -> ReviewRead:
    """Make a stored version live: the same as POST .../versions/{n}/launch, so only an approved version
    goes live, launched by the journey's owner (409 lists what is missing). To move customers waiting in
    another version, write a `migrate` block in the version's document; a body's `migrate` is refused."""
    if body.migrate is not None:
        raise Problem(409, "Refused", "a launch moves customers by the version's own `migrate` block, which "
                      "its approval covered: put the mapping in the document and have it reviewed",
                      problems=["migrate in the request body is not reviewed content"])
    return launch_route(journey_id, body.version, key, engine, None)


@router.post("/{journey_id}/pause", dependencies=[Depends(require_write)], responses=NOT_FOUND)
def pause(journey_id: JourneyIdPath, engine: EngineDep) -> JourneyStateRead:
    """Pause: nobody new enters and nobody in it moves until resumed; what would have moved them is held.
    Pausing a paused journey changes nothing."""
    try:
        return JourneyStateRead.of(engine.pause(journey_id))
    except JourneyNotFound as missing:
        raise Problem(404, "Journey not found", str(missing)) from None


@router.post("/{journey_id}/resume", dependencies=[Depends(require_write)],
             responses={**NOT_FOUND, **problem_responses({409: "The journey is not paused"})})
def resume(journey_id: JourneyIdPath, engine: EngineDep) -> ResumptionRead:
    """Resume a paused journey: the events held and the timers that fell due meanwhile are applied now."""
    try:
        resumed = engine.resume(journey_id)
    except JourneyNotFound as missing:
        raise Problem(404, "Journey not found", str(missing)) from None
    except JourneyNotPaused as running:
        raise Problem(409, "Journey not paused", str(running)) from None
    return ResumptionRead.of(resumed)


def invalid_journey(invalid: JourneyInvalid) -> Problem:
    problems = [ProblemRead.of(problem).model_dump() for problem in invalid.problems]
    return Problem(422, "Invalid journey", str(invalid), problems=problems)


def _mismatch(document_id: str, journey_id: str) -> JourneyInvalid:
    message = (f"the document's id is {document_id!r} but the path names {journey_id!r}: PUT it to "
               f"/v1/journeys/{document_id}, or change its id")
    return JourneyInvalid([JourneyProblem(SOURCE, message, field="id")])


def _state(store: Store, journey_id: str) -> JourneyState:
    state = journey_state(store, journey_id)
    if state is None:
        known = ", ".join(s.journey_id for s in store.journeys()) or "none yet"
        raise Problem(404, "Journey not found", f"no journey {journey_id!r}: the journeys are: {known} "
                      "(create one with PUT /v1/journeys/{id})")
    return state
