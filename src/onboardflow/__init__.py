"""onboardflow: customer onboarding journeys for ecommerce stores.

Store events in, the right message out, through one engine for simulation, demo and production.
"""

__version__ = "0.1.0"
