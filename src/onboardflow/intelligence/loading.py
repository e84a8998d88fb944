"""The models as the engine and the dispatcher use them, from the models folder; each loaded at its first
use, so a command that never scores text or reads `score.*` never pays for scikit-learn or VADER."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onboardflow.intelligence.features import FEATURE_EVENTS
from onboardflow.intelligence.models import ModelFolder

SENTIMENT_CHOICES = ("auto", "vader", "trained", "off")


class LazySentiment:
    """`auto`: the store's trained model if there is one, else VADER (English); `vader`; `trained`."""

    def __init__(self, folder: ModelFolder, choice: str = "auto") -> None:
        if choice not in SENTIMENT_CHOICES[:3]:
            raise ValueError(f"sentiment must be one of {', '.join(SENTIMENT_CHOICES)}, not {choice!r}")
        self.folder, self.choice = folder, choice
        self._model: Any = None

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        from onboardflow.intelligence.sentiment import VaderSentiment

        if self.choice == "vader" or (self.choice == "auto" and not self.folder.has("sentiment")):
            return VaderSentiment()
        return self.folder.load("sentiment")

    def score(self, text: str) -> float:
        return self.model.score(text)


class LazyScorer:
    """The `score.*` scorer over the trained models in the folder (today: repeat purchase)."""

    names = frozenset({"repeat_purchase"})
    events = FEATURE_EVENTS

    def __init__(self, folder: ModelFolder) -> None:
        self.folder = folder
        self._scorer: Any = None

    def score(self, customer, history, now: datetime) -> dict[str, float | None]:
        if self._scorer is None:
            from onboardflow.intelligence.propensity import RepeatPurchaseScorer

            self._scorer = RepeatPurchaseScorer(self.folder.load("repeat-purchase"))
        return self._scorer.score(customer, history, now)


def sentiment_for(folder: ModelFolder, choice: str) -> LazySentiment | None:
    return None if choice == "off" else LazySentiment(folder, choice)


def scorer_for(folder: ModelFolder) -> LazyScorer | None:
    return LazyScorer(folder) if folder.has("repeat-purchase") else None


def recommender_for(folder: ModelFolder) -> Any:
    return folder.load("recommendations") if folder.has("recommendations") else None
