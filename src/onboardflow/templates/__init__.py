"""The template library: ready journeys (steps, message copy, policies, acceptance criteria) with
parameters, for `onboardflow templates list | show | new` (docs/templates.md)."""
