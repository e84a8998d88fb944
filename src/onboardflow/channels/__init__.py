"""Channel adapters: one module per channel, found by name through the `onboardflow.channels` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points


def channel_class(name: str) -> type:
    """The adapter class registered under `name`; raises LookupError listing the known ones."""
    found = {point.name: point for point in entry_points(group="onboardflow.channels")}
    if name not in found:
        raise LookupError(f"no channel adapter named {name!r}; installed: {', '.join(sorted(found)) or 'none'}")
    return found[name].load()
