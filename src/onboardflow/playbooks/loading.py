"""Reading playbooks and risk presets: the built-ins shipped in `library/`, or a team's own files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from onboardflow.core.validation import JourneyInvalid, Problem, line_of, parse_yaml
from onboardflow.playbooks.catalogue import KPIS
from onboardflow.playbooks.model import Playbook, RiskLibrary, RiskPreset

LIBRARY = "library"
RISKS = "risks.yaml"
T = TypeVar("T", bound=BaseModel)


class PlaybookInvalid(ValueError):
    """A playbook or risk file with problems; `problems` lists every one, with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def risk_presets() -> dict[str, RiskPreset]:
    text = resources.files("onboardflow.playbooks").joinpath(LIBRARY, RISKS).read_text(encoding="utf-8")
    library = _read(text, f"onboardflow/playbooks/{LIBRARY}/{RISKS}", RiskLibrary)
    return {preset.id: preset for preset in library.risks}


def built_in_playbooks() -> dict[str, Playbook]:
    folder = resources.files("onboardflow.playbooks").joinpath(LIBRARY)
    sources = sorted((entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir()
                     if entry.name.endswith(".yaml") and entry.name != RISKS)
    return _by_id(read_playbook(text, source=f"onboardflow/playbooks/{LIBRARY}/{name}") for name, text in sources)


def playbooks(folder: Path | None = None) -> dict[str, Playbook]:
    """The built-ins, with a team's own files in `folder` added (a file with a built-in's id replaces it)."""
    found = built_in_playbooks()
    if folder is not None:
        found.update(_by_id(load_playbook(path) for path in sorted(folder.glob("*.yaml"))))
    return found


def load_playbook(path: Path) -> Playbook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlaybookInvalid([Problem(str(path), f"cannot read the file: {error}")]) from None
    return read_playbook(text, source=str(path))


def read_playbook(text: str, *, source: str) -> Playbook:
    """A playbook from YAML; PlaybookInvalid naming every problem, unknown risk presets and KPIs included."""
    playbook = _read(text, source, Playbook)
    presets, problems = risk_presets(), []
    for name in playbook.risks:
        if name not in presets:
            problems.append(Problem(source, f"unknown risk preset {name!r}: the presets are "
                                    f"{', '.join(sorted(presets))}", None, None, "risks"))
    for name in playbook.kpis:
        if name not in KPIS:
            problems.append(Problem(source, f"unknown KPI {name!r}: the KPIs are {', '.join(sorted(KPIS))}",
                                    None, None, "kpis"))
    if problems:
        raise PlaybookInvalid(problems)
    return playbook


def _read(text: str, source: str, model: type[T]) -> T:
    try:
        document, lines = parse_yaml(text, source)
    except JourneyInvalid as invalid:
        raise PlaybookInvalid(invalid.problems) from None
    if not isinstance(document, dict):
        raise PlaybookInvalid([Problem(source, f"a {model.__name__} file is a YAML mapping", 1)])
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise PlaybookInvalid([_problem(item, source, lines) for item in error.errors()]) from None


def _problem(item: dict, source: str, lines: dict) -> Problem:
    path = tuple(item["loc"])
    message = item["msg"].removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        message = f"unknown field {path[-1]!r}: remove it or check its spelling"
    return Problem(source, message, line_of(lines, path), None, ".".join(map(str, path)) or None)


def _by_id(found) -> dict[str, Playbook]:
    return {playbook.id: playbook for playbook in found}
