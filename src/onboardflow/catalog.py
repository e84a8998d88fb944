"""Journey files on disk: find them, read them, check them, and write the shipped examples."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from onboardflow.core.validation import JourneyInvalid, Problem, load_journey
from onboardflow.core.version import JourneyVersion

SUFFIXES = (".yaml", ".yml", ".json")


def iter_journey_files(paths: list[Path]) -> list[Path]:
    """The journey files named, and those inside the folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def load_journey_files(paths: list[Path]) -> tuple[list[tuple[Path, JourneyVersion]], list[Problem]]:
    """Every journey that reads cleanly, and every problem of those that do not."""
    loaded: list[tuple[Path, JourneyVersion]] = []
    problems: list[Problem] = []
    for path in iter_journey_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(Problem(str(path), f"cannot read the file: {error}"))
            continue
        try:
            loaded.append((path, load_journey(text, source=str(path))))
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


def example_files() -> list[tuple[str, str]]:
    """The example journeys shipped in the package, as (file name, text)."""
    folder = resources.files("onboardflow") / "examples"
    return sorted((item.name, item.read_text(encoding="utf-8")) for item in folder.iterdir() if item.name.endswith(".yaml"))


def write_examples(folder: Path) -> list[Path]:
    """Copy the example journeys into `folder`, leaving files that already exist alone."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in example_files():
        target = folder / name
        if not target.exists():
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written
