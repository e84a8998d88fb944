"""The one error the policies raise: input or settings a person has to fix."""

from __future__ import annotations


class PolicyError(ValueError):
    """Policy input that cannot be judged: the message says what to fix."""
