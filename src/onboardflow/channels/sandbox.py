"""The sandbox channel: records each message as delivered and prints it, sending nothing anywhere.

It stands in for every real channel in the demo and in simulation, behind the same protocol.
"""

from __future__ import annotations

from collections.abc import Callable

from onboardflow.core.effects import SendMessage
from onboardflow.core.model import Customer

ADDRESS_FIELD = {"email": "email", "sms": "phone", "whatsapp": "phone"}


class SandboxChannel:
    """Accepts a message for any customer with an address on this channel; `printer` shows it."""

    def __init__(self, name: str = "email", *, printer: Callable[[str], None] | None = None) -> None:
        self.name = name
        self._printer = printer
        self.delivered: list[tuple[SendMessage, Customer]] = []

    def can_reach(self, customer: Customer) -> bool:
        field = ADDRESS_FIELD.get(self.name)
        return field is None or bool(getattr(customer, field))

    def deliver(self, message: SendMessage, customer: Customer) -> str:
        self.delivered.append((message, customer))
        if self._printer is not None:
            address = getattr(customer, ADDRESS_FIELD.get(self.name, "id"), None) or customer.id
            self._printer(
                f"{message.at:%Y-%m-%d %H:%M} {self.name:<8} → {address}: {message.template} "
                f"({message.journey_id} / {message.step_id}, {message.purpose})"
            )
        return f"sandbox-{message.message_id}"


def sandbox_channels(names: tuple[str, ...] = ("email", "sms", "whatsapp", "push", "in_app"), *, printer=None):
    return {name: SandboxChannel(name, printer=printer) for name in names}
