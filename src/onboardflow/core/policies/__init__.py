"""Sending policies: pure rules the dispatcher applies when a message is about to go out.

Consent and address, value before selling, quiet hours, frequency caps (`decide_send` applies them in
that order) and delivery retries (`next_attempt`). Time arrives as `now`; nothing here reads a clock.
See docs/policies.md for each rule with an example.
"""

from onboardflow.core.policies.caps import (
    CapDecision,
    CapRule,
    SentMessage,
    cap_frees_at,
    check_frequency_caps,
    is_marketing,
)
from onboardflow.core.policies.consent import (
    ConsentDecision,
    ConsentRules,
    ConsentStatus,
    consent_decision,
    consent_from_profile,
    consent_status,
)
from onboardflow.core.policies.decide import (
    OutgoingMessage,
    PolicyRules,
    Recipient,
    SendDecision,
    decide_send,
)
from onboardflow.core.policies.errors import PolicyError
from onboardflow.core.policies.quiet_hours import (
    QuietWindow,
    SmsQuietHours,
    is_quiet_hours,
    next_allowed_time,
    next_allowed_under,
    quiet_windows,
)
from onboardflow.core.policies.retries import RetryPolicy, backoff_ceiling, jitter_share, next_attempt
from onboardflow.core.policies.zones import Place, locate, phone_zone, zone_named

__all__ = [
    "CapDecision",
    "CapRule",
    "ConsentDecision",
    "ConsentRules",
    "ConsentStatus",
    "OutgoingMessage",
    "Place",
    "PolicyError",
    "PolicyRules",
    "QuietWindow",
    "Recipient",
    "RetryPolicy",
    "SendDecision",
    "SentMessage",
    "SmsQuietHours",
    "backoff_ceiling",
    "cap_frees_at",
    "check_frequency_caps",
    "consent_decision",
    "consent_from_profile",
    "consent_status",
    "decide_send",
    "is_marketing",
    "is_quiet_hours",
    "jitter_share",
    "locate",
    "next_allowed_time",
    "next_allowed_under",
    "next_attempt",
    "phone_zone",
    "quiet_windows",
    "zone_named",
]
