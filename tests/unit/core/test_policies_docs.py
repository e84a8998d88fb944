"""The examples of docs/policies.md, run in order in one namespace, so the page cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "policies.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_every_python_example_of_the_policies_page_runs():
    text = DOC.read_text(encoding="utf-8")
    examples = [(text.count("\n", 0, match.start()) + 1, match.group(1)) for match in FENCE.finditer(text)]
    assert len(examples) >= 6
    namespace: dict = {}
    for line, code in examples:
        padded = "\n" * line + code  # a failure points at the page's own line
        exec(compile(padded, str(DOC), "exec"), namespace)
