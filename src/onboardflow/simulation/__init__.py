"""The simulator: journeys run on the production engine, on a virtual clock, against synthetic customers
(personas) or a recorded event stream; results, acceptance criteria and an HTML report."""
