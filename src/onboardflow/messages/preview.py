"""Previewing one message: a journey's send step rendered for a real customer, before anyone receives it.

The journey file and the templates/ folder beside it are read from disk; the customer, and the trigger of
their latest enrollment in that journey, come from the store. `onboardflow render` prints the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from onboardflow.core.journey import Send
from onboardflow.core.model import Customer, Enrollment
from onboardflow.core.validation import JourneyInvalid, load_journey
from onboardflow.core.version import JourneyVersion
from onboardflow.messages.content import Content, EmailContent, PushContent, SmsContent, WhatsAppContent
from onboardflow.messages.loading import load_templates
from onboardflow.messages.sms import DEFAULT_SEGMENT_LIMIT, segment_warning
from onboardflow.messages.templates import (
    TEMPLATES_FOLDER,
    MessageError,
    MessageScope,
    TemplateSet,
    choose_variant,
    render_message,
)
from onboardflow.ports import Store

# The real link is signed per customer when the message is sent; a preview shows where it goes.
PREVIEW_UNSUBSCRIBE_URL = "https://unsubscribe.invalid/preview"
PREVIEW_MESSAGE_ID = "preview"


class PreviewError(ValueError):
    """The preview cannot be made; the message says what to fix."""


@dataclass(frozen=True)
class Preview:
    journey_id: str
    step_id: str
    template: str
    channel: str
    variant: str  # the locale variant used: default, fr, fr-CA
    customer: Customer
    content: Content
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str]]:
        """The content as (heading, text) pairs, in the order a reader wants them."""
        return SECTIONS[type(self.content)](self.content)


def preview_message(*, store: Store, journey_file: Path, step_id: str, customer_id: str,
                    channel: str | None = None, locale: str | None = None,
                    segment_limit: int = DEFAULT_SEGMENT_LIMIT) -> Preview:
    """Render step `step_id` of the journey in `journey_file` for customer `customer_id` of `store`."""
    version = _journey(journey_file)
    step = _send_step(version, step_id)
    templates = _templates(journey_file.parent / TEMPLATES_FOLDER, step.send.template, segment_limit)
    customer = store.customer(customer_id)
    if customer is None:
        raise PreviewError(f"no customer {customer_id!r} in the store: ingest an event for them first, "
                           "or check ONBOARDFLOW_DATABASE_URL")
    return preview_step(store=store, version=version, templates=templates, step_id=step_id, customer=customer,
                        channel=channel, locale=locale, segment_limit=segment_limit)


def preview_step(*, store: Store, version: JourneyVersion, templates: TemplateSet, step_id: str,
                 customer: Customer, channel: str | None = None, locale: str | None = None,
                 segment_limit: int = DEFAULT_SEGMENT_LIMIT) -> Preview:
    """Render step `step_id` of `version` with `templates` for `customer` (the trigger of their latest
    enrollment in the journey, if `store` holds one), on `channel` and in `locale` if given."""
    step = _send_step(version, step_id)
    chosen = _channel(step, channel)
    if step.send.template not in templates:
        raise PreviewError(f"no template {step.send.template!r} among the templates the workers render with")
    enrollment = _latest_enrollment(store, customer.id, version.id)
    scope = MessageScope.of(customer, trigger=enrollment.trigger if enrollment else {}, journey_id=version.id,
                            step_id=step_id, message_id=_message_id(store, enrollment, step_id),
                            unsubscribe_url=PREVIEW_UNSUBSCRIBE_URL)
    wanted = locale if locale is not None else customer.locale
    try:
        variant = choose_variant(templates.get(step.send.template), chosen, wanted)
        content = render_message(templates, step.send.template, chosen, scope, locale=wanted)
    except MessageError as error:
        raise PreviewError(str(error)) from None
    preview = Preview(version.id, step_id, step.send.template, chosen, variant.locale, customer, content)
    _annotate(preview, step, enrollment, segment_limit)
    return preview


def _journey(path: Path) -> JourneyVersion:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PreviewError(f"cannot read the journey file {path}: {error}") from None
    try:
        return load_journey(text, source=str(path))
    except JourneyInvalid as invalid:
        raise PreviewError(f"the journey has problems; fix them first:\n{invalid}") from None


def _send_step(version: JourneyVersion, step_id: str) -> Send:
    step = version.steps.get(step_id)
    if step is None or not isinstance(step, Send):
        sends = ", ".join(s.id for s in version.journey.steps if isinstance(s, Send)) or "none"
        what = "is not a send step" if step is not None else "is not a step of it"
        raise PreviewError(f"{step_id!r} {what} in journey {version.id!r}: its send steps are {sends}")
    return step


def _channel(step: Send, channel: str | None) -> str:
    if channel is None:
        return step.send.channels[0]
    if channel not in step.send.channels:
        raise PreviewError(f"step {step.id!r} sends on {', '.join(step.send.channels)}; "
                           f"--channel {channel} is not one of them")
    return channel


def _templates(folder: Path, name: str, segment_limit: int) -> TemplateSet:
    if not folder.is_dir():
        raise PreviewError(f"no {TEMPLATES_FOLDER}/ folder beside the journey: create {folder}/{name}.yaml")
    load = load_templates(folder, segment_limit=segment_limit)
    if name in load.unreadable:
        mine = [str(problem) for problem in load.problems if Path(problem.source).stem == name]
        raise PreviewError("the template has problems; fix them first:\n" + "\n".join(mine))
    if name not in load.templates:
        raise PreviewError(f"no template {name!r} in {folder}: add {folder}/{name}.yaml")
    return load.templates


def _latest_enrollment(store: Store, customer_id: str, journey_id: str) -> Enrollment | None:
    mine = [e for e in store.enrollments_of(customer_id) if e.journey_id == journey_id]
    return mine[-1] if mine else None


def _message_id(store: Store, enrollment: Enrollment | None, step_id: str) -> str:
    """The id of the message this step already queued for the customer, if it did; else a placeholder."""
    if enrollment is None:
        return PREVIEW_MESSAGE_ID
    for row in store.messages(enrollment.customer_id):
        if row.message.enrollment_id == enrollment.id and row.message.step_id == step_id:
            return row.message.message_id
    return PREVIEW_MESSAGE_ID


def _annotate(preview: Preview, step: Send, enrollment: Enrollment | None, segment_limit: int) -> None:
    if enrollment is None:
        preview.notes.append(f"customer {preview.customer.id!r} has no enrollment in {preview.journey_id!r}: "
                             "trigger.* renders empty")
    others = [name for name in step.send.channels if name != preview.channel]
    if others:
        preview.notes.append(f"the step also sends on {', '.join(others)}: preview it with --channel")
    if isinstance(preview.content, SmsContent):
        warning = segment_warning(preview.content.text, limit=segment_limit)
        if warning:
            preview.warnings.append(warning)


def _email(content: EmailContent) -> list[tuple[str, str]]:
    found = [("subject", content.subject), ("text", content.text)]
    return [*found, ("html", content.html)] if content.html else found


def _sms(content: SmsContent) -> list[tuple[str, str]]:
    plural = "" if content.segments == 1 else "s"
    size = f"{content.segments} segment{plural} · {len(content.text)} characters"
    heading = f"sms · {content.encoding} · {size}"
    return [(heading, content.text)]


def _whatsapp(content: WhatsAppContent) -> list[tuple[str, str]]:
    if content.text is not None:
        return [("whatsapp free text (inside the 24-hour window)", content.text)]
    numbered = "\n".join(f"{{{{{n}}}}} {value}" for n, value in enumerate(content.parameters, start=1))
    return [("whatsapp template", f"{content.template} ({content.language})"),
            ("parameters", numbered or "none")]


def _push(content: PushContent) -> list[tuple[str, str]]:
    found = [("title", content.title), ("body", content.body)]
    return [*found, ("deep link", content.deep_link)] if content.deep_link else found


SECTIONS = {EmailContent: _email, SmsContent: _sms, WhatsAppContent: _whatsapp, PushContent: _push}
