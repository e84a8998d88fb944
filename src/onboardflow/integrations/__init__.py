"""Integrations: turning what stores and files say into canonical events (import, store webhooks, Segment)."""
