"""The recording channel: keeps every delivery it is handed and can be told to fail, for tests.

Users test their own journeys with it as onboardflow's tests do: send, then read `sent`; or make the
next sends fail (a bounce, a provider outage with Retry-After) and see what the journey does.
"""

from __future__ import annotations

from onboardflow.channels import address_for, check_content_for
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery, DeliveryError


class RecordingChannel:
    """A DeliveryChannel that sends nothing: `sent` holds what it accepted, `attempts` every call."""

    def __init__(self, name: str = "email") -> None:
        self.name = name
        self.sent: list[Delivery] = []
        self.attempts: list[Delivery] = []
        self._failures: list[DeliveryError] = []
        self._failing_forever: DeliveryError | None = None

    def address(self, customer: Customer) -> str | None:
        return address_for(self.name, customer)

    def send(self, delivery: Delivery) -> str:
        self.attempts.append(delivery)
        check_content_for(self.name, delivery, "recording")
        if self._failures:
            raise self._failures.pop(0)
        if self._failing_forever is not None:
            raise self._failing_forever
        self.sent.append(delivery)
        return f"recorded-{len(self.sent)}"

    def fail_next(
        self,
        times: int = 1,
        *,
        reason: str = "provider unavailable (recording channel told to fail)",
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        """The next `times` sends raise DeliveryError with these details; later ones succeed again."""
        if times < 1:
            raise ValueError(f"times must be 1 or more, got {times}")
        self._failures.extend(
            DeliveryError(reason, permanent=permanent, retry_after=retry_after) for _ in range(times)
        )

    def fail_always(self, reason: str = "provider down (recording channel told to fail)", *,
                    permanent: bool = False) -> None:
        """Every send fails until `recover()`: an outage of unknown length."""
        self._failing_forever = DeliveryError(reason, permanent=permanent)

    def recover(self) -> None:
        """Forget every failure set up: sends succeed again."""
        self._failures.clear()
        self._failing_forever = None

    def sent_to(self, customer_id: str) -> list[Delivery]:
        return [delivery for delivery in self.sent if delivery.customer_id == customer_id]
