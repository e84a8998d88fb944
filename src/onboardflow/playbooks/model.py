"""The playbook file format: typed, frozen records, read from YAML with every problem named.

A playbook is data a team can edit: the stages of its decision framework, the checklist that gates a
launch (each item saying what evidence closes it), the checkpoints after launch, the risks it usually
meets (presets from `library/risks.yaml`) and the KPIs its role watches.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from onboardflow.core.durations import parse_duration
from onboardflow.core.journey_steps import Duration, Record, StepId
from onboardflow.core.review import IMPACTS

ROLES = ("customer_success", "revops", "agency")
OBJECTIVES = ("onboarding_optimisation", "stakeholder_alignment")
STAGES = (
    "define-outcome",  # one measurable outcome and its boundaries
    "map-risk",  # risks ranked by customer impact
    "establish-accountability",  # one owner per open risk area
    "validate-evidence",  # the simulation and the review trail prove the version
    "convert-approvals",  # approvals become implementation constraints with acceptance criteria
    "set-cadence",  # the launch-to-learning rhythm
)
# What closes a checklist item. Every kind but `manual` is checked by onboardflow from its own data.
EVIDENCE = {
    "objective_and_approver": "the journey states a goal (its one measurable outcome) and names its owner, "
    "who is a user with the owner role",
    "exception_paths_mapped": "a simulation of this exact version reached every exception path of the journey",
    "riskiest_reviewed_first": "among the journeys under this playbook, the one with the highest-impact open risk "
    "was the first to get a review comment or decision",
    "tradeoffs_recorded": "every version after the first reviewed one has a decision recording the trade-off",
    "messaging_alignment_decision": "a decision tagged `messaging-alignment` (a go-to-market check) is recorded",
    "owner_approval_with_criteria": "the owner approved this version and its acceptance criteria are testable "
    "(at least one, all passing in the approval's simulation)",
    "blockers_escalated": "no blocking comment or risk stayed open past one review cycle without a decision "
    "or an owner",
    "evidence_review": "an approval recorded the simulation run (seed and results) of this exact version",
    "escalation_rehearsed": "a simulation or replay of this version opened a task and a person resolved one",
    "post_launch_owner": "a named user owns the post-launch follow-up (the playbook's attachment names one)",
    "manual": "a person closes it with a note",
}
CHECKPOINT_KINDS = ("weekly_review", "support_signal_review", "midpoint_audit", "retrospective")
FINDING_KINDS = ("process_improvement", "assumption_correction", "measurement_refinement")


class Stage(Record):
    id: Literal[STAGES]  # type: ignore[valid-type]
    name: str = Field(min_length=1)
    guidance: str = Field(min_length=1, description="What the stage asks of the team, in a sentence or two")


class ChecklistItem(Record):
    id: StepId
    stage: Literal[STAGES]  # type: ignore[valid-type]
    text: str = Field(min_length=1)
    evidence: Literal[tuple(EVIDENCE)]  # type: ignore[valid-type]
    pre_launch: bool = Field(True, description="Part of the approval gate once the playbook is attached")


class Checkpoint(Record):
    id: StepId
    kind: Literal[CHECKPOINT_KINDS]  # type: ignore[valid-type]
    after: Duration = Field(description="How long after launch it falls due")
    grace: Duration = Field(default_factory=lambda: parse_duration("2d"), description="How long past its date before it is flagged overdue")
    agenda: str = Field(min_length=1)


class Playbook(Record):
    id: StepId
    name: str = Field(min_length=1)
    role: Literal[ROLES]  # type: ignore[valid-type]
    objective: Literal[OBJECTIVES]  # type: ignore[valid-type]
    description: str = Field(min_length=1)
    stages: tuple[Stage, ...]
    checklist: tuple[ChecklistItem, ...] = Field(min_length=1)
    cadence: tuple[Checkpoint, ...] = Field(min_length=1)
    risks: tuple[str, ...] = Field(default=(), description="Ids of risk presets (library/risks.yaml)")
    kpis: tuple[str, ...] = Field(min_length=1, description="Ids of the KPIs this role watches")

    @model_validator(mode="after")
    def _whole(self) -> Playbook:
        missing = [stage for stage in STAGES if stage not in {s.id for s in self.stages}]
        if missing:
            raise ValueError(f"stages: every playbook walks all six stages; missing {', '.join(missing)}")
        for kind, things in (("checklist item", self.checklist), ("checkpoint", self.cadence)):
            ids = [thing.id for thing in things]
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                raise ValueError(f"{kind} ids must be unique: {', '.join(twice)} used more than once")
        if "retrospective" not in {checkpoint.kind for checkpoint in self.cadence}:
            raise ValueError("cadence: end with a checkpoint of kind retrospective")
        return self


class RiskPreset(Record):
    id: StepId
    risk: str = Field(min_length=1)
    impact: Literal[IMPACTS] = Field(description="Customer impact, ranked as the risk register ranks it")  # type: ignore[valid-type]
    mitigation: str = Field(min_length=1)
    fallback: str = Field(min_length=1, description="What happens if the mitigation does not hold")


class RiskLibrary(Record):
    risks: tuple[RiskPreset, ...] = Field(min_length=1)
