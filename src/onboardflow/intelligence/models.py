"""The models folder (ONBOARDFLOW_MODELS_DIR, default ./var/models): each model a joblib file beside a
small JSON card saying when it was trained, on how many rows, and how well it did.

joblib files are pickles: load only models this store trained. Nothing is fetched from anywhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib

MODELS = ("sentiment", "repeat-purchase", "recommendations")
SCORE_MODELS = {"repeat_purchase": "repeat-purchase"}  # a condition's score -> the model that gives it


class ModelMissing(FileNotFoundError):
    """No model of this name is trained; the message says how to train one."""


class ModelUnreadable(ValueError):
    """A model file that cannot be loaded (damaged, or from an incompatible version)."""


@dataclass(frozen=True)
class ModelCard:
    name: str
    trained_at: str  # ISO 8601, UTC
    rows: int  # what it learned from: reviews, customer snapshots, orders
    metrics: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # the source, the split, the settings used


class ModelFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ModelFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / f"{name}.joblib"

    def has(self, name: str) -> bool:
        return self.file(name).is_file()

    def save(self, name: str, model: Any, card: ModelCard) -> Path:
        """Write the model and its card; a reader never sees half a file (write, then rename)."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.file(name)
        partial = target.with_suffix(".joblib.partial")
        joblib.dump(model, partial, compress=3)
        os.replace(partial, target)
        card_path = self.path / f"{name}.json"
        card_path.write_text(json.dumps(asdict(card), indent=2, default=str) + "\n", encoding="utf-8")
        return target

    def load(self, name: str) -> Any:
        target = self.file(name)
        if not target.is_file():
            raise ModelMissing(
                f"no {name} model in {self.path}: train one with `onboardflow model train {name}` "
                "(or point ONBOARDFLOW_MODELS_DIR at the folder that holds it)"
            )
        try:
            return joblib.load(target)
        except Exception as error:  # noqa: BLE001 - unpickling raises anything; say what to do instead
            raise ModelUnreadable(
                f"{target} cannot be loaded ({type(error).__name__}: {error}); train it again with "
                f"`onboardflow model train {name}`"
            ) from None

    def card(self, name: str) -> ModelCard | None:
        path = self.path / f"{name}.json"
        if not path.is_file():
            return None
        return ModelCard(**json.loads(path.read_text(encoding="utf-8")))

    def scores(self) -> frozenset[str]:
        """The condition scores whose models are trained here."""
        return frozenset(score for score, model in SCORE_MODELS.items() if self.has(model))


def card_for(
    name: str, *, rows: int, metrics: dict[str, Any], details: dict[str, Any], now: datetime
) -> ModelCard:
    return ModelCard(name, now.isoformat(timespec="seconds"), rows, metrics, details)
