"""Message previews on the journey page: a send step rendered on each of its channels, in each locale its
template has, for a customer of the store (or a sample customer), with `messages.preview`'s renderer."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.responses import Response

from onboardflow.api.dependencies import SettingsDep, StoreDep
from onboardflow.core.journey import Send
from onboardflow.core.model import Customer
from onboardflow.core.version import JourneyVersion
from onboardflow.messages.preview import Preview, PreviewError, preview_step
from onboardflow.messages.templates import TemplateSet
from onboardflow.ports import Store
from onboardflow.web.auth import Viewer, web_router
from onboardflow.web.rendering import page
from onboardflow.web.workspace import live_journey, message_templates

router = web_router()
SAMPLE = Customer("sample-customer", email="ana@example.com", phone="+15551234567",
                  traits={"first_name": "Ana"}, orders_count=1)


@dataclass(frozen=True)
class SendStep:
    id: str
    template: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Shown:
    """One preview, or why there is none."""

    channel: str
    locale: str
    preview: Preview | None = None
    error: str | None = None


def send_steps(version: JourneyVersion) -> list[SendStep]:
    return [SendStep(step.id, step.send.template, tuple(step.send.channels))
            for step in version.journey.steps if isinstance(step, Send)]


@router.get("/journeys/{journey_id}/preview")
def previews(request: Request, journey_id: str, store: StoreDep, settings: SettingsDep, viewer: Viewer,
             step: str, customer: str = "") -> Response:
    """Step `step` of the live version on every channel and locale, for `customer` (or a sample one)."""
    version = live_journey(store, journey_id)
    templates = message_templates(settings).templates
    who, note = _customer(store, journey_id, customer.strip())
    found = version.steps.get(step)
    if not isinstance(found, Send):
        shown = [Shown("", "", error=f"{step!r} is not a send step of {journey_id!r}")]
    else:
        shown = [_render(store, version, templates, found, who, channel, locale, settings.sms_segment_limit)
                 for channel, locale in _variants(templates, found)]
    return page(request, "_previews.html", {"shown": shown, "customer": who, "note": note, "step": step})


def _customer(store: Store, journey_id: str, customer_id: str) -> tuple[Customer, str | None]:
    if customer_id:
        found = store.customer(customer_id)
        if found is not None:
            return found, None
        return SAMPLE, f"no customer {customer_id!r} in the store: shown for a sample customer"
    recent = store.messages_page(journey_id=journey_id, limit=1)
    found = store.customer(recent[0].message.customer_id) if recent else None
    if found is None:
        return SAMPLE, "nobody has had a message of this journey yet: shown for a sample customer"
    return found, None


def _variants(templates: TemplateSet, step: Send) -> list[tuple[str, str]]:
    """Each channel of the step with each locale its template has for it (the channel alone if none)."""
    template = templates.get(step.send.template)
    pairs = []
    for channel in step.send.channels:
        locales = list(template.channels.get(channel, {}).values()) if template else []
        pairs.extend((channel, variant.locale) for variant in locales)
        if not locales:
            pairs.append((channel, "default"))
    return pairs


def _render(store, version, templates, step, who, channel, locale, segment_limit) -> Shown:
    try:
        preview = preview_step(store=store, version=version, templates=templates, step_id=step.id,
                               customer=who, channel=channel, locale=locale, segment_limit=segment_limit)
    except PreviewError as error:
        return Shown(channel, locale, error=str(error))
    return Shown(channel, locale, preview)
