"""Escalation at the edges: the store's global rules (file), the task services (claim, resolve, overdue),
each task's context for people, and helpdesk adapters that hand tasks over and take resolutions back."""
