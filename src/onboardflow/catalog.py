"""Journey files on disk: find them, read them, check them, and write the shipped examples."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from onboardflow.core.validation import JourneyInvalid, Problem, load_journey
from onboardflow.core.version import JourneyVersion
from onboardflow.messages.checks import check_send_steps
from onboardflow.messages.loading import TemplateLoad, load_templates, templates_from_texts
from onboardflow.messages.sms import DEFAULT_SEGMENT_LIMIT
from onboardflow.messages.templates import TEMPLATES_FOLDER, TemplateSet

SUFFIXES = (".yaml", ".yml", ".json")


def iter_journey_files(paths: list[Path]) -> list[Path]:
    """The journey files named, and those in the folders named (not in templates/), in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if _is_journey_file(p, path)))
        else:
            found.append(path)
    return found


def _is_journey_file(path: Path, folder: Path) -> bool:
    in_templates = TEMPLATES_FOLDER in path.relative_to(folder).parts[:-1]
    return path.suffix in SUFFIXES and path.is_file() and not in_templates


def load_journey_files(
    paths: list[Path], *, scores: Collection[str] | None = None
) -> tuple[list[tuple[Path, JourneyVersion]], list[Problem]]:
    """Every journey that reads cleanly, and every problem of those that do not; with `scores` (the scores
    trained models give), a condition reading another score is a problem."""
    loaded: list[tuple[Path, JourneyVersion]] = []
    problems: list[Problem] = []
    for path in iter_journey_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(path), f"cannot read the file: {error}"))
            continue
        try:
            loaded.append((path, load_journey(text, source=str(path), scores=scores)))
        except JourneyInvalid as invalid:
            problems.extend(invalid.problems)
    problems.extend(_duplicate_ids(loaded))
    return loaded, problems


def _duplicate_ids(loaded: list[tuple[Path, JourneyVersion]]) -> list[Problem]:
    first: dict[str, Path] = {}
    problems = []
    for path, version in loaded:
        if version.id in first:
            problems.append(Problem(str(path), f"journey id {version.id!r} is also used by {first[version.id]}", 1))
        first.setdefault(version.id, path)
    return problems


@dataclass
class TemplateCheck:
    """The templates/ folders beside journey files, checked, and the journeys' send steps against them."""

    folders: list[tuple[Path, int]] = field(default_factory=list)  # each folder, with its clean templates
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_templates(
    loaded: list[tuple[Path, JourneyVersion]], *, segment_limit: int = DEFAULT_SEGMENT_LIMIT
) -> TemplateCheck:
    """Check each templates/ folder beside the journey files once, and each journey's send steps against it.

    Journey files with no templates/ folder beside them are left alone: templates may live elsewhere.
    """
    check = TemplateCheck()
    folders: dict[Path, TemplateLoad] = {}
    for path, version in loaded:
        folder = path.parent / TEMPLATES_FOLDER
        if not folder.is_dir():
            continue
        if folder not in folders:
            load = folders[folder] = load_templates(folder, segment_limit=segment_limit)
            check.folders.append((folder, len(load.templates)))
            check.problems.extend(str(problem) for problem in load.problems)
            check.warnings.extend(str(problem) for problem in load.warnings)
        load = folders[folder]
        found = check_send_steps(version.journey, load.templates, unreadable=load.unreadable)
        check.problems.extend(f"{path}: {problem}" for problem in found)
    return check


def example_files(folder: str = "examples") -> list[tuple[str, str]]:
    """The example journeys shipped in the package (or, with "examples/templates", their templates)."""
    found = resources.files("onboardflow").joinpath(*folder.split("/"))
    files = [item for item in found.iterdir() if item.name.endswith(".yaml")]
    return sorted((item.name, item.read_text(encoding="utf-8")) for item in files)


def example_templates() -> TemplateSet:
    """The templates of the example journeys, as shipped in the package."""
    texts = {name.removesuffix(".yaml"): text for name, text in example_files(f"examples/{TEMPLATES_FOLDER}")}
    return templates_from_texts(texts, folder=f"examples/{TEMPLATES_FOLDER}")


def write_examples(folder: Path) -> list[Path]:
    """Copy the example journeys and their templates into `folder`, leaving files that already exist alone."""
    written = []
    for target_folder, files in ((folder, example_files()),
                                 (folder / TEMPLATES_FOLDER, example_files(f"examples/{TEMPLATES_FOLDER}"))):
        target_folder.mkdir(parents=True, exist_ok=True)
        for name, text in files:
            target = target_folder / name
            if not target.exists():
                target.write_text(text, encoding="utf-8")
                written.append(target)
    return written
