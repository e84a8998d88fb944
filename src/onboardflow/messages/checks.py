"""A journey's `send` steps against the templates beside it: every template named, every channel covered.

Run by `onboardflow validate` when a templates/ folder sits beside the journey files, so a missing
template is found before the journey is live, not when the first customer reaches the step.
"""

from __future__ import annotations

from collections.abc import Collection

from onboardflow.core.journey import Journey, Send
from onboardflow.messages.templates import CHANNELS, TemplateSet


def check_send_steps(
    journey: Journey, templates: TemplateSet, *, unreadable: Collection[str] = ()
) -> list[str]:
    """Problems as sentences naming journey, step and field; empty when every send step can render.

    `unreadable`: names of template files that failed to load; their own problems are reported already.
    """
    problems: list[str] = []
    for step in journey.steps:
        if isinstance(step, Send) and step.send.template not in unreadable:
            problems.extend(check_send_step(journey.id, step, templates))
    return problems


def check_send_step(journey_id: str, step: Send, templates: TemplateSet) -> list[str]:
    """One send step's problems: its template missing, or without a variant for one of its channels."""
    where = f"journey {journey_id!r}: step {step.id!r}"
    name = step.send.template
    unknown = [channel for channel in step.send.channels if channel not in CHANNELS]
    problems = [
        f"{where}: field send.channel: unknown channel {channel!r}: channels are {', '.join(CHANNELS)}"
        for channel in unknown
    ]
    template = templates.get(name)
    if template is None:
        return [*problems, f"{where}: field send.template: no template {name!r} in {templates.folder}: "
                           f"add {templates.folder}/{name}.yaml"]
    for channel in step.send.channels:
        if channel in CHANNELS and channel not in template.channels:
            problems.append(
                f"{where}: field send.channel: template {name!r} ({template.source}) has no {channel} "
                f"variant: add a `{channel}:` section with a `default:` variant, or take {channel} off it"
            )
    return problems
