"""How simulated customers answer messages, and how the messages they had change what they do.

A delivered message is opened, clicked or unsubscribed from with the persona's rates; each draw comes
from a hash of the seed and the message id, so it does not depend on what else the run did. A
`Chance` (a ticket, a refund, another order ...) happens with the persona's odds times the factor of
every reaction that a message the customer had by then matches (each reaction counts once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from onboardflow.core.effects import SendMessage
from onboardflow.core.model import Event
from onboardflow.core.steps.routing import share_of
from onboardflow.simulation.personas import Persona, PersonaSet, Reaction
from onboardflow.simulation.shop import Chance, Emit

LEVELS = ("delivered", "opened", "clicked")
TRANSACTIONAL = "transactional"


@dataclass(frozen=True, slots=True)
class Exposure:
    """A message a customer had, and when they got how far with it."""

    template: str
    purpose: str
    channel: str
    delivered: datetime
    opened: datetime | None = None
    clicked: datetime | None = None

    def reached(self, level: str) -> datetime | None:
        return {"delivered": self.delivered, "opened": self.opened, "clicked": self.clicked}[level]


class Behaviour:
    def __init__(self, personas: PersonaSet, *, seed: int) -> None:
        self.seed = str(seed)
        self._reactions = {  # each persona's reactions, with their factors read once
            persona.id: [(reaction, reaction.factors) for reaction in personas.reactions_of(persona)]
            for persona in personas.personas
        }

    def answer(
        self, persona: Persona, message: SendMessage, channel: str, at: datetime
    ) -> tuple[Exposure, list[Emit]]:
        """What the customer does with a message delivered at `at`: how far they go, as events."""
        engagement, key = persona.engagement, message.message_id
        opened = clicked = None
        if self._draw(key, "open") < engagement.open.get(channel, 0.0):
            opened = at + timedelta(minutes=5 + self._draw(key, "open-delay") ** 2 * 2880)
            if self._draw(key, "click") < engagement.click:
                clicked = opened + timedelta(minutes=1 + 29 * self._draw(key, "click-delay"))
        events = []
        details = {
            "message_id": key,
            "journey_id": message.journey_id,
            "step_id": message.step_id,
            "template": message.template,
            "channel": channel,
        }
        if opened is not None and channel == "email":
            events.append(self._emit(message, "Email Opened", "opened", opened, details))
        if clicked is not None:
            events.append(self._emit(message, "Link Clicked", "clicked", clicked, details))
        if (
            opened is not None
            and message.purpose != TRANSACTIONAL
            and self._draw(key, "unsubscribe") < (engagement.unsubscribe)
        ):
            quits = opened + timedelta(minutes=2)
            events.append(
                self._emit(
                    message,
                    "Unsubscribed",
                    "unsubscribed",
                    quits,
                    {**details, "purpose": "marketing", "source": "simulation"},
                )
            )
        exposure = Exposure(message.template, message.purpose, channel, at, opened, clicked)
        return exposure, events

    def odds(self, persona: Persona, chance: Chance, exposures: list[Exposure]) -> float:
        """The chance's odds at its time, after the reactions to the messages the customer had by then."""
        odds = chance.odds
        for reaction, factors in self._reactions.get(persona.id, ()):
            factor = factors.get(chance.intention)
            if factor is not None and any(_matches(reaction, exposure, chance.at) for exposure in exposures):
                odds *= factor
        return min(odds, 1.0)

    def _draw(self, key: str, what: str) -> float:
        return share_of(self.seed, key, what)

    @staticmethod
    def _emit(message: SendMessage, name: str, suffix: str, at: datetime, properties: dict) -> Emit:
        return Emit(at, Event(f"{message.message_id}-{suffix}", name, message.customer_id, at, properties))


def _matches(reaction: Reaction, exposure: Exposure, by: datetime) -> bool:
    when = reaction.when
    if when.template is not None and when.template != exposure.template:
        return False
    if when.purpose is not None and when.purpose != exposure.purpose:
        return False
    if when.channel is not None and when.channel != exposure.channel:
        return False
    reached = exposure.reached(when.engaged)
    return reached is not None and reached <= by
