"""Message templates and rendering: one template per name, a variant per channel and locale.

Rendering is pure: a loaded `TemplateSet`, a template name, a channel and a `MessageScope` in, a `Content`
out. Reading the files is `messages.loading`; deciding who gets which channel is the dispatcher's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboardflow.core.model import Customer
from onboardflow.messages.content import Content, EmailContent, PushContent, WhatsAppContent
from onboardflow.messages.liquid import Liquid, LiquidRenderError
from onboardflow.messages.sms import sms_content
from onboardflow.messages.whatsapp import WhatsAppWindowClosed, whatsapp_form

CHANNELS = ("email", "sms", "whatsapp", "push", "in_app")
DEFAULT_LOCALE = "default"
TEMPLATES_FOLDER = "templates"  # beside the journey files


class MessageError(ValueError):
    """A message that cannot be rendered, said so that its author can fix the template or the step."""


@dataclass(frozen=True)
class Part:
    """One Liquid text of a variant; `line` is where its first line stands in the template file."""

    liquid: Liquid
    line: int | None = None


@dataclass(frozen=True)
class Variant:
    """What one channel sends for one locale: Liquid parts, and for WhatsApp the approved template."""

    locale: str  # as written in the file: default, fr, fr-CA
    parts: Mapping[str, Part] = field(default_factory=dict)  # subject, text, html, title, body, deep_link
    parameters: tuple[Part, ...] = ()  # WhatsApp template parameters, in order
    whatsapp_template: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    source: str  # the file it was read from, for errors
    channels: Mapping[str, Mapping[str, Variant]]  # channel → normalised locale (`fr-ca`) → variant


@dataclass(frozen=True)
class TemplateSet:
    """Every template of one folder, by name."""

    templates: Mapping[str, MessageTemplate] = field(default_factory=dict)
    folder: str = TEMPLATES_FOLDER

    def get(self, name: str) -> MessageTemplate | None:
        return self.templates.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.templates

    def __len__(self) -> int:
        return len(self.templates)


@dataclass(frozen=True, slots=True)
class MessageScope:
    """What a template sees: customer, trigger, journey.id, step.id, message.id, unsubscribe_url, and
    `recommendations` (products for the customer: product_id, name, url, image, price, category)."""

    customer: Mapping[str, Any] = field(default_factory=dict)
    trigger: Mapping[str, Any] = field(default_factory=dict)
    journey_id: str | None = None
    step_id: str | None = None
    message_id: str | None = None
    unsubscribe_url: str | None = None
    recommendations: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def of(cls, customer: Customer, *, trigger: Mapping[str, Any] | None = None,
           journey_id: str | None = None, step_id: str | None = None, message_id: str | None = None,
           unsubscribe_url: str | None = None,
           recommendations: tuple[Mapping[str, Any], ...] = ()) -> MessageScope:
        """The scope of one message to `customer`: the same `customer` map that conditions see."""
        return cls(customer.scope(), trigger or {}, journey_id, step_id, message_id, unsubscribe_url,
                   recommendations)

    def variables(self) -> dict[str, Any]:
        return {
            "customer": dict(self.customer),
            "trigger": dict(self.trigger),
            "journey": {"id": self.journey_id},
            "step": {"id": self.step_id},
            "message": {"id": self.message_id},
            "unsubscribe_url": self.unsubscribe_url,
            "recommendations": [dict(item) for item in self.recommendations],
        }


def reads(template: MessageTemplate, name: str) -> bool:
    """Whether any variant of the template mentions the variable `name` (worked out only when it does)."""
    return any(name in part.liquid.source
               for variants in template.channels.values() for variant in variants.values()
               for part in (*variant.parts.values(), *variant.parameters))


def normalise_locale(locale: str) -> str:
    """`fr_CA`, `fr-ca` and `fr-CA` are one locale: lower case, hyphens."""
    return locale.strip().replace("_", "-").lower()


def locale_candidates(locale: str | None) -> list[str]:
    """The variants to try, most specific first: `fr-CA` → `fr-ca`, `fr`, `default` (RFC 4647 lookup)."""
    found: list[str] = []
    tags = normalise_locale(locale).split("-") if locale and locale.strip() else []
    while tags:
        found.append("-".join(tags))
        tags.pop()
    return [*found, DEFAULT_LOCALE]


def choose_variant(template: MessageTemplate, channel: str, locale: str | None) -> Variant:
    """The variant of `channel` for a customer of `locale`: exact, then its language, then `default`."""
    variants = template.channels.get(channel)
    if not variants:
        written = ", ".join(template.channels) or "none"
        raise MessageError(f"template {template.name!r} ({template.source}) has no {channel} part "
                           f"(it has: {written}): add a `{channel}:` section with a `default:` variant")
    for candidate in locale_candidates(locale):
        if candidate in variants:
            return variants[candidate]
    raise MessageError(f"template {template.name!r} ({template.source}) has no {channel} variant for locale "
                       f"{locale!r} and no `default`: add `default:` under `{channel}:`")


def render_message(templates: TemplateSet, name: str, channel: str, scope: MessageScope, *,
                   locale: str | None = None, now: datetime | None = None,
                   last_inbound_at: datetime | None = None) -> Content:
    """The content of template `name` on `channel` for the customer in `scope`.

    `locale` defaults to the customer's own. `now` and `last_inbound_at` (the customer's last inbound
    WhatsApp message) matter only to WhatsApp, where they decide between free text and the template.
    """
    template = templates.get(name)
    if template is None:
        raise MessageError(f"no template {name!r} in {templates.folder}: add {templates.folder}/{name}.yaml")
    chosen = locale if locale is not None else scope.customer.get("locale")
    variant = choose_variant(template, channel, chosen)
    job = _Job(template, channel, variant, scope.variables(), now, last_inbound_at)
    return BUILDERS[channel](job)


@dataclass(frozen=True)
class _Job:
    template: MessageTemplate
    channel: str
    variant: Variant
    variables: dict[str, Any]
    now: datetime | None
    last_inbound_at: datetime | None

    def has(self, part: str) -> bool:
        return part in self.variant.parts

    def render(self, part: str) -> str:
        return self.render_part(self.variant.parts[part], part)

    def render_part(self, part: Part, name: str) -> str:
        try:
            return part.liquid.render(self.variables).strip()
        except LiquidRenderError as error:
            line = part.line + error.line - 1 if part.line and error.line else part.line
            where = f"{self.template.source}:{line}" if line else self.template.source
            field_name = f"{self.channel}.{self.variant.locale}.{name}"
            raise MessageError(f"{where}: {field_name}: {error.message}") from None

    def single_line(self, part: str) -> str:
        """A subject or title: one line, so a newline in data can never start a new mail header."""
        return " ".join(self.render(part).split())

    def optional(self, part: str) -> str | None:
        return (self.render(part) or None) if self.has(part) else None


def _email(job: _Job) -> EmailContent:
    return EmailContent(subject=job.single_line("subject"), text=job.render("text"),
                        html=job.optional("html"))


def _sms(job: _Job) -> Content:
    return sms_content(job.render("text"))


def _push(job: _Job) -> PushContent:
    return PushContent(title=job.single_line("title"), body=job.render("body"),
                       deep_link=job.optional("deep_link"))


def _whatsapp(job: _Job) -> WhatsAppContent:
    variant = job.variant
    try:
        form = whatsapp_form(has_template=variant.whatsapp_template is not None, has_text=job.has("text"),
                             last_inbound_at=job.last_inbound_at, now=job.now)
    except WhatsAppWindowClosed as closed:
        raise MessageError(f"template {job.template.name!r} ({job.template.source}), whatsapp."
                           f"{variant.locale}: {closed}") from None
    if form == "text":
        return WhatsAppContent(text=job.render("text"))
    return WhatsAppContent(template=variant.whatsapp_template, language=variant.language,
                           parameters=tuple(_parameters(job)))


def _parameters(job: _Job) -> list[str]:
    """WhatsApp refuses an empty parameter: one that renders empty is an error here, not at the provider."""
    values = []
    for index, part in enumerate(job.variant.parameters, start=1):
        value = job.render_part(part, f"parameters.{index}")
        if not value:
            raise MessageError(
                f"{job.template.source}:{part.line}: whatsapp.{job.variant.locale}.parameters.{index} "
                f"rendered empty, and WhatsApp refuses empty parameters: give it a fallback, e.g. "
                "{{ customer.first_name | default: \"there\" }}"
            )
        values.append(" ".join(value.split()))  # WhatsApp also refuses newlines and tabs in parameters
    return values


BUILDERS: dict[str, Callable[[_Job], Content]] = {
    "email": _email, "sms": _sms, "whatsapp": _whatsapp, "push": _push, "in_app": _push,
}
