"""The sandbox channel: records each message as delivered and prints it, sending nothing anywhere.

It stands in for every real channel in the demo and in simulation, behind the same protocols: the
dispatcher's `Channel` (can_reach / deliver) and the adapters' `DeliveryChannel` (address / send).
"""

from __future__ import annotations

from collections.abc import Callable

from onboardflow.channels import AdapterSettings, ChannelContext, address_for, check_content_for
from onboardflow.core.effects import SendMessage
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery


class SandboxSettings(AdapterSettings):
    channel: str = "email"


class SandboxChannel:
    """Accepts a message for any customer with an address on this channel; `printer` shows it."""

    settings_model = SandboxSettings

    def __init__(
        self, name: str = "email", *, printer: Callable[[str], None] | None = None, keep: bool = True
    ) -> None:
        self.name = name
        self._printer = printer
        self._keep = keep  # keep what was sent in `sent` (the simulator, sending millions, does not)
        self.delivered: list[tuple[SendMessage, Customer]] = []
        self.sent: list[Delivery] = []

    @classmethod
    def from_settings(cls, settings: SandboxSettings, context: ChannelContext) -> SandboxChannel:
        return cls(settings.channel)

    def can_reach(self, customer: Customer) -> bool:
        return self.address(customer) is not None

    def deliver(self, message: SendMessage, customer: Customer) -> str:
        self.delivered.append((message, customer))
        if self._printer is not None:
            self._printer(
                f"{message.at:%Y-%m-%d %H:%M} {self.name:<8} → {self.address(customer) or customer.id}: "
                f"{message.template} ({message.journey_id} / {message.step_id}, {message.purpose})"
            )
        return f"sandbox-{message.message_id}"

    def address(self, customer: Customer) -> str | None:
        return address_for(self.name, customer)

    def send(self, delivery: Delivery) -> str:
        check_content_for(self.name, delivery, "sandbox")
        if self._keep:
            self.sent.append(delivery)
        if self._printer is not None:
            self._printer(f"{self.name:<8} → {delivery.to}: {headline(delivery)} ({delivery.purpose})")
        return f"sandbox-{delivery.message_id}"


def sandbox_channels(
    names: tuple[str, ...] = ("email", "sms", "whatsapp", "push", "in_app"), *, printer=None, keep=True
) -> dict[str, SandboxChannel]:
    return {name: SandboxChannel(name, printer=printer, keep=keep) for name in names}


def headline(delivery: Delivery) -> str:
    """What the customer sees first: an email's subject, a push title, an SMS's opening words."""
    content = delivery.content
    text = (getattr(content, "subject", None) or getattr(content, "title", None) or getattr(content, "text", None)
            or getattr(content, "template", None) or delivery.message_id)
    text = " ".join(str(text).split())
    return text if len(text) <= 60 else text[:59] + "…"
