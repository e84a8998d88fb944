"""The retrospective: findings sorted into process improvements, assumption corrections and measurement
refinements, a summary to publish, and the readiness checklist the next cycle starts from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboardflow.playbooks.model import FINDING_KINDS

TITLES = {
    "process_improvement": "Process improvements",
    "assumption_correction": "Assumption corrections",
    "measurement_refinement": "Measurement refinements",
}
# What the next cycle must have settled before its own launch, for each kind of finding.
READY_WHEN = {
    "process_improvement": "The process change is written into the playbook or the journey: {text}",
    "assumption_correction": "The corrected assumption is checked by an acceptance criterion: {text}",
    "measurement_refinement": "The refined measure has a baseline reading before launch: {text}",
}


@dataclass(frozen=True, slots=True)
class Retrospective:
    journey_id: str
    version: int
    findings: dict[str, tuple[str, ...]]  # kind -> texts, in the order they were raised
    readiness: tuple[str, ...]  # the next cycle's checklist
    carried_over: tuple[str, ...]  # checklist items and checkpoints this cycle left open

    def markdown(self) -> str:
        lines = [f"# Retrospective: {self.journey_id} v{self.version}", ""]
        for kind in FINDING_KINDS:
            lines += [f"## {TITLES[kind]}", ""]
            lines += [f"- {text}" for text in self.findings[kind]] or ["- none raised"]
            lines.append("")
        lines += ["## Readiness checklist for the next cycle", ""]
        lines += [f"- [ ] {item}" for item in self.readiness] or ["- [ ] nothing carried over"]
        return "\n".join(lines) + "\n"


def retrospective(journey_id: str, version: int, findings: Iterable[tuple[str, str]],
                  open_items: Iterable[str] = ()) -> Retrospective:
    """Sort `(kind, text)` findings; ValueError naming the kinds when one is unknown or a text is empty."""
    sorted_findings: dict[str, list[str]] = {kind: [] for kind in FINDING_KINDS}
    for kind, text in findings:
        if kind not in sorted_findings:
            raise ValueError(f"a finding is one of {', '.join(FINDING_KINDS)}, not {kind!r}")
        if not text.strip():
            raise ValueError(f"a {kind} finding needs its text: what was learned")
        sorted_findings[kind].append(text.strip())
    carried = tuple(open_items)
    readiness = [READY_WHEN[kind].format(text=text) for kind in FINDING_KINDS for text in sorted_findings[kind]]
    readiness += [f"Close what this cycle left open: {item}" for item in carried]
    return Retrospective(journey_id, version, {kind: tuple(texts) for kind, texts in sorted_findings.items()},
                         tuple(readiness), carried)
