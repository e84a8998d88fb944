"""Governance: the people who work on journeys, and the path of a journey version from draft to live:
review comments, decisions, risks, the approval gate, phased launch and the audit trail."""
