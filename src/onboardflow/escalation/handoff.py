"""The hand-off runner: tasks due to go to the helpdesk are leased, sent with their context, and recorded;
a failure worth retrying is tried again with the dispatcher's back-off, one that is not is left with its
reason for a person (`onboardflow tasks list` shows it)."""

from __future__ import annotations

from dataclasses import dataclass

from onboardflow.core.policies.retries import DEFAULT_RETRY, next_attempt
from onboardflow.escalation.context import task_context
from onboardflow.escalation.helpdesk import HandoffError
from onboardflow.ports import Clock, Helpdesk, Store


@dataclass
class HandoffResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: HandoffResult) -> None:
        self.sent, self.retrying, self.failed = (
            self.sent + other.sent,
            self.retrying + other.retrying,
            self.failed + other.failed,
        )


def hand_off_due(*, store: Store, helpdesk: Helpdesk, clock: Clock, limit: int = 50) -> HandoffResult:
    result = HandoffResult()
    now = clock.now()
    for row in store.claim_handoffs(now, limit):
        task_id = row.task.task_id
        try:
            external_id = helpdesk.open_ticket(row, task_context(store, row))
        except HandoffError as error:
            attempt = row.handoff_attempts + 1
            wait = (
                None
                if error.permanent
                else next_attempt(attempt, task_id, error.retry_after, policy=DEFAULT_RETRY)
            )
            reason = f"{helpdesk.name}: {error.reason}"
            store.record_handoff(
                task_id, at=now, error=reason, next_attempt_at=None if wait is None else now + wait
            )
            result.retrying += wait is not None
            result.failed += wait is None
            continue
        store.record_handoff(task_id, at=now, external_id=external_id)
        result.sent += 1
    return result
