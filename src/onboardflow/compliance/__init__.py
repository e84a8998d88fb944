"""Consent and compliance: recording consent, signed unsubscribe links, preferences, GDPR export and erasure.

Services with keyword-only arguments; the API, the CLI and the dispatcher call them.
"""
