"""Outbound webhooks: endpoints subscribe to onboardflow's own events, which are delivered signed per the
Standard Webhooks spec, retried over hours, and never to private addresses unless settings allow it."""
