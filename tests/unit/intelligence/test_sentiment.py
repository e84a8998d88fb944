"""Sentiment: VADER for English out of the box; a classifier learnt from the store's own reviews by their
stars, for any language, measured on the reviews it did not see."""

from __future__ import annotations

import pytest

from onboardflow.intelligence.history import Review, olist_reviews
from onboardflow.intelligence.sentiment import (
    NotEnoughReviews,
    VaderSentiment,
    evaluate_sentiment,
    is_held_out,
    label_of,
    split_reviews,
    train_sentiment,
)

from .conftest import OLIST


@pytest.fixture(scope="module")
def portuguese():
    reviews = list(olist_reviews(OLIST))
    model, metrics = train_sentiment(reviews)
    return reviews, model, metrics


def test_vader_reads_english_out_of_the_box():
    vader = VaderSentiment()

    assert vader.score("The parcel arrived broken and nobody answers my emails. Terrible.") < -0.3
    assert vader.score("Lovely cream, arrived early, thank you!") > 0.3


def test_stars_label_reviews_and_three_stars_are_left_out():
    assert [label_of(Review("r", "x", stars)) for stars in (1, 2, 3, 4, 5)] == [0, 0, None, 1, 1]


def test_the_held_out_reviews_are_the_same_on_every_run_and_about_a_fifth():
    reviews = [Review(f"r{n}", "texto", 5) for n in range(2000)]

    held = [review.id for review in reviews if is_held_out(review)]

    assert held == [review.id for review in reviews if is_held_out(review)]
    assert 0.15 < len(held) / len(reviews) < 0.25
    assert len(split_reviews(reviews).test) == len(held)


def test_the_model_learnt_from_olist_portuguese_reviews_beats_the_majority_and_vader(portuguese):
    _, _, metrics = portuguese

    assert metrics["held_out_reviews"] > 300
    assert metrics["accuracy"] > metrics["majority_baseline_accuracy"] + 0.1
    assert metrics["accuracy"] > metrics["vader_accuracy"] + 0.1
    assert metrics["accuracy"] >= 0.85


def test_the_trained_model_reads_portuguese_the_right_way_round(portuguese):
    _, model, _ = portuguese

    assert model.score("Produto chegou quebrado e ninguém responde. Péssimo, não recomendo") < -0.3
    assert model.score("Chegou antes do prazo, produto excelente, recomendo") > 0.3
    assert -1 <= model.score("ok") <= 1


def test_evaluating_again_measures_the_same_held_out_reviews(portuguese):
    reviews, model, metrics = portuguese

    again = evaluate_sentiment(model, reviews)

    assert (again["held_out_reviews"], again["accuracy"]) == (
        metrics["held_out_reviews"],
        metrics["accuracy"],
    )


def test_too_few_reviews_say_how_many_there_are_and_what_is_needed():
    reviews = [Review(f"r{n}", "bom produto", 5) for n in range(100)] + [Review("bad", "ruim", 1)]

    with pytest.raises(NotEnoughReviews, match=r"the history has \d+ and [01] \(besides the held-out ones\)"):
        train_sentiment(reviews)
