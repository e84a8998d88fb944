"""Outcomes: KPIs per journey, version, path, segment and weekly cohort, uplift over the holdout, and the
weekly report. The computations are pure functions over plain records; `reading` fetches them from a store."""
