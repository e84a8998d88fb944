"""The template library: ready journeys for the onboarding moments ecommerce stores have, shipped in the
package. Each template is a folder beside this module:

    <name>/template.yaml      what it is for, what it measures, its parameters, how it is proven
    <name>/journey.yaml       the journey, with ${parameter} placeholders
    <name>/templates/*.yaml   its message templates (every channel it sends on; English, Spanish, Portuguese)

Parameters every template has (brand, addresses, support hours, owner) are in common.yaml.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

import yaml
from pydantic import Field, ValidationError

from onboardflow.core.journey_steps import Record, StepId
from onboardflow.messages.templates import TEMPLATES_FOLDER
from onboardflow.templates.parameters import Parameter

METADATA, JOURNEY, COMMON = "template.yaml", "journey.yaml", "common.yaml"


class TemplateNotFound(LookupError):
    pass


class Proof(Record):
    """How the template is proven: simulated with the built-in personas (or only those named)."""

    customers: int = Field(default=300, ge=1, le=5000)
    days: int = Field(default=60, ge=1, le=365)
    seed: int = 1
    personas: list[str] = Field(default_factory=list, description="Only these built-in personas")


class TemplateInfo(Record):
    name: StepId
    title: str = Field(min_length=1)
    description: str = Field(min_length=1, description="One sentence: what the journey does")
    when_to_use: str = Field(min_length=1)
    measures: str = Field(min_length=1)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    proof: Proof = Field(default_factory=Proof)


@dataclass(frozen=True)
class JourneyTemplate:
    info: TemplateInfo
    parameters: dict[str, Parameter]  # the common ones, then the template's own (which may override)
    journey: str  # the journey file's text, with placeholders
    messages: dict[str, str]  # message template name -> its file's text, with placeholders

    @property
    def name(self) -> str:
        return self.info.name


def _root() -> Traversable:
    return resources.files("onboardflow.templates")


def _read_yaml(item: Traversable) -> dict:
    document = yaml.safe_load(item.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{item.name}: expected a mapping")
    return document


def _read_template(folder: Traversable, common: dict[str, Parameter]) -> JourneyTemplate:
    source = f"onboardflow/templates/{folder.name}/{METADATA}"
    try:
        info = TemplateInfo.model_validate(_read_yaml(folder / METADATA))
    except ValidationError as error:
        raise ValueError(f"{source}: {error}") from None
    if info.name != folder.name:
        raise ValueError(f"{source}: name {info.name!r} is not its folder's name {folder.name!r}")
    messages = {
        item.name.removesuffix(".yaml"): item.read_text(encoding="utf-8")
        for item in sorted((folder / TEMPLATES_FOLDER).iterdir(), key=lambda item: item.name)
        if item.name.endswith(".yaml")
    }
    journey = (folder / JOURNEY).read_text(encoding="utf-8")
    return JourneyTemplate(info, {**common, **info.parameters}, journey, messages)


@cache
def library() -> tuple[JourneyTemplate, ...]:
    """Every shipped template, by name."""
    root = _root()
    common = {name: Parameter.model_validate(spec) for name, spec in _read_yaml(root / COMMON).items()}
    folders = sorted(
        (item for item in root.iterdir() if item.is_dir() and (item / METADATA).is_file()),
        key=lambda item: item.name,
    )
    return tuple(_read_template(folder, common) for folder in folders)


def get_template(name: str) -> JourneyTemplate:
    """The template called `name`, or TemplateNotFound naming the closest and listing them all."""
    found = {template.name: template for template in library()}
    if name in found:
        return found[name]
    close = difflib.get_close_matches(name, found, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise TemplateNotFound(
        f"no template {name!r}{hint}; templates are: {', '.join(found)} (onboardflow templates list)"
    )
