"""Steps that act: `send` a message, `update` the profile, call a `webhook`, `escalate` to people.

A holdout enrollment walks the same steps but none of them acts: it is the control group.
"""

from __future__ import annotations

from onboardflow.core.effects import CallWebhook, OpenTask, SendMessage, UpdateCustomer, child_id
from onboardflow.core.journey import Escalate, Send, Update, Webhook
from onboardflow.core.model import (
    TASK_RESOLVED,
    WEBHOOK_FAILED,
    WEBHOOK_SUCCEEDED,
    Enrollment,
    Event,
    Waiting,
)
from onboardflow.core.steps import Context, Next, Park, handles, resumes_on_event, resumes_on_timer, timer_for
from onboardflow.core.version import JourneyVersion


@handles(Send)
def _send(version: JourneyVersion, enrollment: Enrollment, step: Send, context: Context) -> Next:
    if enrollment.is_holdout:
        return Next(version.next_after(step))
    message = SendMessage(
        message_id=child_id("msg", enrollment.id, context.seq),
        enrollment_id=enrollment.id,
        journey_id=enrollment.journey_id,
        version=enrollment.version,
        customer_id=enrollment.customer_id,
        step_id=step.id,
        channels=step.send.channels,
        template=step.send.template,
        purpose=step.send.purpose,
        at=context.now,
    )
    return Next(version.next_after(step), (message,))


@handles(Update)
def _update(version: JourneyVersion, enrollment: Enrollment, step: Update, context: Context) -> Next:
    if enrollment.is_holdout:
        return Next(version.next_after(step))
    spec = step.update
    update = UpdateCustomer(
        customer_id=enrollment.customer_id,
        at=context.now,
        set_traits=dict(spec.set),
        unset=tuple(spec.unset),
        add_tags=tuple(spec.add_tags),
        remove_tags=tuple(spec.remove_tags),
    )
    return Next(version.next_after(step), (update,))


@handles(Webhook)
def _webhook(version: JourneyVersion, enrollment: Enrollment, step: Webhook, context: Context) -> Next | Park:
    if enrollment.is_holdout:
        return Next(version.next_after(step))
    spec = step.webhook
    call = CallWebhook(
        call_id=child_id("call", enrollment.id, context.seq),
        enrollment_id=enrollment.id,
        journey_id=enrollment.journey_id,
        version=enrollment.version,
        customer_id=enrollment.customer_id,
        step_id=step.id,
        url=spec.url,
        method=spec.method,
        headers=dict(spec.headers),
        body=spec.body,
        secret=spec.secret,
        timeout=spec.timeout,
        retries=spec.retries,
        scope={
            "customer": dict(context.scope.get("customer") or {}),
            "trigger": enrollment.trigger,
            "journey": {"id": enrollment.journey_id, "version": enrollment.version},
            "enrollment": {"id": enrollment.id, "step": step.id},
        },
        at=context.now,
    )
    waiting = Waiting(step_id=step.id, events=(WEBHOOK_SUCCEEDED, WEBHOOK_FAILED), ref=call.call_id)
    return Park(waiting, (call,))


@resumes_on_event(Webhook)
def _webhook_answered(version: JourneyVersion, enrollment: Enrollment, step: Webhook, event: Event, context):
    if event.name == WEBHOOK_FAILED:
        return Next(step.on_error or version.next_after(step))
    scope = {**context.scope, "response": event.properties.get("response")}
    mapped = {
        trait: version.condition(f"steps.{step.id}.webhook.map.{trait}").compute(scope)
        for trait in step.webhook.map
    }
    effects = (UpdateCustomer(enrollment.customer_id, context.now, set_traits=mapped),) if mapped else ()
    return Next(version.next_after(step), effects)


@handles(Escalate)
def _escalate(version: JourneyVersion, enrollment: Enrollment, step: Escalate, context: Context) -> Next | Park:
    if enrollment.is_holdout:
        return Next(version.next_after(step))
    spec = step.escalate
    task = OpenTask(
        task_id=child_id("task", enrollment.id, context.seq),
        enrollment_id=enrollment.id,
        journey_id=enrollment.journey_id,
        version=enrollment.version,
        customer_id=enrollment.customer_id,
        step_id=step.id,
        queue=spec.queue,
        reason=spec.reason,
        priority=spec.priority,
        due_at=context.now + spec.due,
        at=context.now,
        context={**spec.context, "trigger": enrollment.trigger},
    )
    if not spec.wait:
        return Next(version.next_after(step), (task,))
    if spec.on_overdue is None:
        return Park(Waiting(step_id=step.id, events=(TASK_RESOLVED,), ref=task.task_id), (task,))
    timer = timer_for(enrollment, context, task.due_at)
    waiting = Waiting(step.id, timer_id=timer.timer_id, until=task.due_at, events=(TASK_RESOLVED,), ref=task.task_id)
    return Park(waiting, (task, timer))


@resumes_on_event(Escalate)
def _task_resolved(version: JourneyVersion, enrollment: Enrollment, step: Escalate, event: Event, context):
    outcome = str(event.properties.get("outcome") or "")
    return Next(step.escalate.on_outcome.get(outcome) or version.next_after(step))


@resumes_on_timer(Escalate)
def _task_overdue(version: JourneyVersion, enrollment: Enrollment, step: Escalate, context: Context) -> Next:
    return Next(step.escalate.on_overdue or version.next_after(step))
