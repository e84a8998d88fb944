"""The HTTP API: `create_app()` and one router module per resource; routes are thin, services do the work."""

from onboardflow.api.app import create_app

__all__ = ["create_app"]
