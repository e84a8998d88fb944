"""The KPIs a playbook may name, by role: each one's name and the definition docs/playbooks.md repeats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    id: str
    role: str
    name: str
    definition: str


KPIS = {kpi.id: kpi for kpi in (
    KpiDefinition("time_to_resolution_after_release", "customer_success", "Time to resolution after release",
                  "Median and p90 hours from a task's opening to its resolution, for tasks opened since the "
                  "version went live."),
    KpiDefinition("adoption_consistency", "customer_success", "Adoption consistency across cohorts",
                  "Spread (max − min, in percentage points) of completion rates across weekly entry cohorts "
                  "whose window has closed; lower is steadier."),
    KpiDefinition("escalation_frequency", "customer_success", "Support escalation frequency",
                  "Tasks opened per 100 customers who entered the journey, since launch."),
    KpiDefinition("customer_confidence", "customer_success", "Customer confidence indicators",
                  "Share of reviews and satisfaction answers from journey customers that are positive "
                  "(4–5 stars, or a positive sentiment label), with the count it rests on."),
    KpiDefinition("decision_closure_rate", "customer_success", "Decision closure rate",
                  "Blocking comments closed by a decision, over all blocking comments raised on the journey."),
    KpiDefinition("exception_state_completion", "customer_success", "Exception-state completion quality",
                  "Completion rate of enrollments that went through an exception path (late or failed "
                  "delivery, failed payment, bounced address)."),
    KpiDefinition("pipeline_conversion_stability", "revops", "Pipeline conversion stability",
                  "Goal conversion per weekly entry cohort, and its standard deviation across cohorts in "
                  "percentage points; lower is steadier."),
    KpiDefinition("handoff_completion_quality", "revops", "Hand-off completion quality",
                  "Share of tasks resolved with an outcome before their due time, over tasks due so far."),
    KpiDefinition("qualified_demand_influence", "revops", "Launch influence on qualified demand",
                  "Attributed signups (with a UTM source) since launch, and the share of them who placed an "
                  "order."),
    KpiDefinition("revenue_cycle_time_reduction", "revops", "Cycle-time reduction for revenue workflows",
                  "Median days from trigger to goal for enrollments since launch, against the same median for "
                  "the holdout; the reduction in days and as a share."),
    KpiDefinition("approval_turnaround", "agency", "Client approval turnaround",
                  "Median hours from a version's submission for review to its approval."),
    KpiDefinition("change_request_volume", "agency", "Change request volume",
                  "Change-request comments raised per journey version reviewed."),
    KpiDefinition("scope_adherence_ratio", "agency", "Scope adherence ratio",
                  "Share of versions that went live with the content that was approved, with no new draft "
                  "opened by a change request within 14 days of launch."),
    KpiDefinition("launch_confidence", "agency", "Launch confidence score",
                  "The confidence (1–5) the owner recorded at the approval gate, latest and mean."),
)}
