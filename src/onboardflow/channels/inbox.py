"""The in-app inbox channel: a message is kept in the store, where the API reads it for the customer's app.

Every customer can be reached (by id). The same message id twice is one inbox message, so a retried
delivery shows once.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from onboardflow.channels import AdapterSettings, ChannelContext, content_of
from onboardflow.core.model import Customer
from onboardflow.messages.content import Delivery, DeliveryError, PushContent
from onboardflow.ports import Clock, InboxMessage, Store


class InboxSettings(AdapterSettings):
    channel: str = "in_app"


class InboxChannel:
    """Writes PushContent (title, body, deep link) to the customer's inbox; returns the message id."""

    settings_model = InboxSettings

    def __init__(self, store: Store, clock: Clock, *, name: str = "in_app") -> None:
        self.name = name
        self._store = store
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: InboxSettings, context: ChannelContext) -> InboxChannel:
        if context.store is None:
            raise ValueError("the inbox channel keeps messages in the store: build it with a store")
        return cls(context.store, context.clock, name=settings.channel)

    def address(self, customer: Customer) -> str | None:
        return customer.id

    def send(self, delivery: Delivery) -> str:
        content = content_of(delivery, PushContent, "inbox")
        message = InboxMessage(
            message_id=delivery.message_id,
            customer_id=delivery.customer_id,
            title=content.title,
            body=content.body,
            purpose=delivery.purpose,
            created_at=self._clock.now(),
            deep_link=content.deep_link,
        )
        try:
            self._store.add_to_inbox(message)
        except (SQLAlchemyError, OSError) as error:
            cause = getattr(error, "orig", None) or error
            problem = (str(cause).splitlines() or [type(cause).__name__])[0][:200]
            kept = f"the store could not keep in-app message {delivery.message_id}"
            raise DeliveryError(f"{kept}: {problem}") from None
        return delivery.message_id
