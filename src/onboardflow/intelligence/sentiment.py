"""Sentiment of ticket and review text, from -1 (negative) to 1 (positive).

English works out of the box with VADER, whose lexicon ships inside its wheel. For any language, a
classifier learns from the store's own reviews, labelled by their stars (4-5 positive, 1-2 negative, 3
left out): word and character n-grams, logistic regression. Reviews are split by a hash of their id, one
in five held out, so `model evaluate sentiment` measures the same held-out reviews the training did not see.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from onboardflow.intelligence.history import Review

HELD_OUT = 5  # one review in HELD_OUT is held out
MIN_REVIEWS = 20  # per class, in the training part


class NotEnoughReviews(ValueError):
    """Too few labelled reviews to learn from; the message says how many there are and are needed."""


class VaderSentiment:
    """VADER's compound score: English, rule and lexicon based, no training."""

    name = "vader"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])


class TrainedSentiment:
    """A classifier trained on the store's reviews: P(positive) - P(negative), from -1 to 1."""

    name = "trained"

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def score(self, text: str) -> float:
        return float(self.scores([text])[0])

    def scores(self, texts: list[str]) -> list[float]:
        positive = self.pipeline.predict_proba(texts)[:, 1]
        return [round(2 * p - 1, 4) for p in positive]

    def labels(self, texts: list[str]) -> list[int]:
        return [int(label) for label in self.pipeline.predict(texts)]


def label_of(review: Review) -> int | None:
    """1 positive (4-5 stars), 0 negative (1-2 stars), None for 3 stars: neither, so not learnt from."""
    if review.stars >= 4:
        return 1
    if review.stars <= 2:
        return 0
    return None


def is_held_out(review: Review) -> bool:
    digest = hashlib.blake2b(review.id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % HELD_OUT == 0


@dataclass
class Split:
    train: list[tuple[str, int]]
    test: list[tuple[str, int]]
    neutral: int = 0


def split_reviews(reviews: Iterable[Review]) -> Split:
    split = Split([], [])
    for review in reviews:
        label = label_of(review)
        if label is None:
            split.neutral += 1
            continue
        (split.test if is_held_out(review) else split.train).append((review.text, label))
    return split


def new_pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode"),
            ),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
        ]
    )
    return Pipeline(
        [
            ("features", features),
            ("classifier", LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")),
        ]
    )


def train_sentiment(
    reviews: Iterable[Review], *, step: Callable[[str], None] = lambda _: None
) -> tuple[TrainedSentiment, dict[str, Any]]:
    """Learn from the training part, measure on the held-out part; the model and its figures."""
    split = split_reviews(reviews)
    counts = Counter(label for _, label in split.train)
    if min(counts[0], counts[1]) < MIN_REVIEWS:
        raise NotEnoughReviews(
            f"sentiment needs at least {MIN_REVIEWS} positive (4-5 stars) and {MIN_REVIEWS} negative "
            f"(1-2 stars) reviews with text to learn from; the history has {counts[1]} and {counts[0]} "
            "(besides the held-out ones). Import more reviews (`onboardflow import`) or train from a file "
            "with --events"
        )
    step("fitting")
    pipeline = new_pipeline()
    pipeline.fit([text for text, _ in split.train], [label for _, label in split.train])
    model = TrainedSentiment(pipeline)
    step("measuring")
    return model, {
        **measure(model, split.test),
        "train_reviews": len(split.train),
        "neutral_left_out": split.neutral,
    }


def measure(model: Any, test: list[tuple[str, int]]) -> dict[str, Any]:
    """Held-out accuracy against the majority class and against VADER (English, lexicon only)."""
    if not test:
        return {"held_out_reviews": 0}
    texts, truth = [text for text, _ in test], [label for _, label in test]
    majority = Counter(truth).most_common(1)[0]
    vader = VaderSentiment()
    return {
        "held_out_reviews": len(test),
        "accuracy": _accuracy(_labels(model, texts), truth),
        "majority_baseline_accuracy": round(majority[1] / len(truth), 4),
        "vader_accuracy": _accuracy([int(vader.score(text) >= 0) for text in texts], truth),
        "positive_share": round(sum(truth) / len(truth), 4),
    }


def _labels(model: Any, texts: list[str]) -> list[int]:
    if isinstance(model, TrainedSentiment):
        return model.labels(texts)
    return [int(model.score(text) >= 0) for text in texts]


def _accuracy(predicted: list[int], truth: list[int]) -> float:
    return round(sum(int(p == t) for p, t in zip(predicted, truth, strict=True)) / len(truth), 4)


def evaluate_sentiment(model: Any, reviews: Iterable[Review]) -> dict[str, Any]:
    """The model's figures on the held-out reviews of this history."""
    return measure(model, split_reviews(reviews).test)
