"""How well predicted probabilities match what happened: AUC, Brier score, a calibration table (the
predictions in ten bins of equal count: mean predicted against the share that did it), and the same as a
picture (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BINS = 10


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    low: float
    high: float
    count: int
    predicted: float  # mean predicted probability in the bin
    observed: float  # share of the bin that did it


def auc(truth: list[int], predicted: list[float]) -> float | None:
    """Area under the ROC curve; None when only one class is present (it is not defined then)."""
    if len(set(truth)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(truth, predicted)), 4)


def brier(truth: list[int], predicted: list[float]) -> float:
    return round(sum((p - t) ** 2 for p, t in zip(predicted, truth, strict=True)) / len(truth), 4)


def calibration_table(truth: list[int], predicted: list[float], *, bins: int = BINS) -> list[CalibrationRow]:
    """Predictions sorted and cut into `bins` groups of (nearly) equal size, lowest first. Equal predictions
    stay in one group, so a model with few distinct values (a lookup table) gets fewer, wider groups."""
    pairs = sorted(zip(predicted, truth, strict=True), key=lambda pair: pair[0])
    size = max(1, len(pairs) // bins)
    chunks: list[list[tuple[float, int]]] = [[]]
    for index, pair in enumerate(pairs):
        chunks[-1].append(pair)
        following = pairs[index + 1][0] if index + 1 < len(pairs) else None
        if following is not None and len(chunks[-1]) >= size and following != pair[0]:
            chunks.append([])
    if len(chunks) > 1 and len(chunks[-1]) < size / 2:  # a short remainder joins the bin before it
        chunks[-2].extend(chunks.pop())
    return [_row(chunk) for chunk in chunks if chunk]


def _row(chunk: list[tuple[float, int]]) -> CalibrationRow:
    scores = [p for p, _ in chunk]
    return CalibrationRow(
        round(scores[0], 4),
        round(scores[-1], 4),
        len(chunk),
        round(sum(scores) / len(chunk), 4),
        round(sum(t for _, t in chunk) / len(chunk), 4),
    )


def save_calibration_plot(path: Path, curves: dict[str, list[CalibrationRow]], *, title: str) -> Path:
    """A reliability diagram: one line per model, the diagonal where predictions come true as said."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to a file
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 6), dpi=100)
    try:
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        for (name, rows), marker in zip(curves.items(), "os^", strict=False):
            axes.plot(
                [row.predicted for row in rows], [row.observed for row in rows], marker=marker, label=name
            )
        top = max([0.05, *(max(row.predicted, row.observed) for rows in curves.values() for row in rows)])
        axes.set_xlim(0, min(1.0, top * 1.1))
        axes.set_ylim(0, min(1.0, top * 1.1))
        axes.set_xlabel("predicted probability (mean of the bin)")
        axes.set_ylabel("observed share (of the bin)")
        axes.set_title(title, fontsize=10)
        axes.legend(loc="upper left")
        axes.grid(alpha=0.3)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        pyplot.close(figure)
    return path
