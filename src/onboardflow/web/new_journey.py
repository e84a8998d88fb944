"""Journeys → New from template: the template library (`onboardflow templates list`), one template's
description and parameters (defaults, descriptions, what each allows), and its form: the values are checked
as `templates new` checks them, every problem shown at its field, and the journey is written with its message
templates into the journeys folder and stored as a draft, as `templates new` followed by `load` would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.responses import Response

from onboardflow.api.dependencies import ClockDep, SettingsDep, StoreDep
from onboardflow.api.problems import Problem
from onboardflow.governance.service import ReviewError, require_role, save_draft
from onboardflow.templates.instantiate import FileExists, instantiate, write_instance
from onboardflow.templates.library import JourneyTemplate, TemplateNotFound, get_template, library
from onboardflow.templates.parameters import ParametersInvalid
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.rendering import go_to, page
from onboardflow.web.workspace import templates_folder

router = web_router()


@router.get("/journeys/new")
def templates_page(request: Request, viewer: Viewer) -> Response:
    return page(request, "new_journeys.html", {"templates": library()})


@router.get("/journeys/new/{name}")
def template_page(request: Request, name: str, viewer: Viewer) -> Response:
    template = _template(name)
    values = {key: spec.default for key, spec in template.parameters.items()}
    return page(request, "new_journey.html", {"template": template, "values": values, "problems": {}})


@router.post("/journeys/new/{name}")
async def create(request: Request, name: str, store: StoreDep, settings: SettingsDep, clock: ClockDep,
                 viewer: Viewer) -> Response:
    """The journey and its messages written, and stored as a draft by the signed-in author."""
    template = _template(name)
    form = await request.form()
    given = {key: str(form[key]) for key in template.parameters if key in form}  # the rest: defaults
    try:
        require_role(viewer, "submit")
        instance = instantiate(template, given)
        folder = Path(settings.journeys_dir)
        templates_folder(settings)
        write_instance(instance, folder)
        draft, _ = save_draft(store=store, version=instance.version, source=f"template {name}",
                              author=viewer, now=clock.now())
    except ParametersInvalid as invalid:
        return _form_again(request, template, given, invalid.problems)
    except FileExists as exists:
        problems = [f"{path} is there already: this template was made into a journey before; open it from "
                    "the Journeys list, or remove the file" for path in exists.paths]
        return _form_again(request, template, given, problems)
    except ReviewError as refused:
        raise Problem(refused.status, "Not allowed", "; ".join(refused.problems)) from None
    return go_to(request, f"/journeys/{draft.journey_id}?version={draft.version}")


def _form_again(request: Request, template: JourneyTemplate, given: dict[str, Any], problems: list[str]):
    """The form as filled, each problem at its parameter (those of no one parameter above the form)."""
    at: dict[str, list[str]] = {}
    for problem in problems:
        key = next((k for k in template.parameters if problem.startswith(f"parameter {k!r}")), "")
        at.setdefault(key, []).append(problem)
    values = {key: given.get(key, spec.default) for key, spec in template.parameters.items()}
    context = {"template": template, "values": values, "problems": at}
    return page(request, "new_journey.html", context, status=422)


def _template(name: str) -> JourneyTemplate:
    try:
        return get_template(name)
    except TemplateNotFound as missing:
        raise Problem(404, "Template not found", f"{missing}; the library is at /journeys/new") from None
