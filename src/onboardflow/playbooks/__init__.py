"""Launch playbooks: a role's decision framework, checklist, review cadence, risk presets and KPI set, as data
that onboardflow runs against a journey version (docs/playbooks.md)."""
