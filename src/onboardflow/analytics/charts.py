"""The weekly report's pictures, as PNG bytes (matplotlib, Agg backend, no fonts or assets downloaded)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    _pyplot().close(figure)
    return buffer.getvalue()


def trends(weeks: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str) -> bytes:
    """One small line chart per KPI, week by week (a gap where a week has no reading)."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(1, len(series), figsize=(3.2 * len(series), 2.6), squeeze=False)
    for axis, (name, values) in zip(axes[0], series.items(), strict=True):
        axis.plot(range(len(weeks)), [float("nan") if v is None else v for v in values], marker="o")
        axis.set_title(name, fontsize=9)
        axis.set_xticks(range(len(weeks)), [week[-3:] for week in weeks], fontsize=7)
        axis.tick_params(axis="y", labelsize=7)
    figure.suptitle(title, fontsize=10)
    return _png(figure)


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, color: str = "#4c72b0") -> bytes:
    pyplot = _pyplot()
    figure, axis = pyplot.subplots(figsize=(5, 2.8))
    axis.bar(range(len(labels)), values, color=color)
    axis.set_xticks(range(len(labels)), labels, fontsize=7, rotation=30 if len(labels) > 6 else 0)
    axis.set_title(title, fontsize=10)
    return _png(figure)
