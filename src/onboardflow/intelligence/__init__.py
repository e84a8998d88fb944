"""Models learned from the store's own history, trained and scored locally (nothing downloads): sentiment
of tickets and reviews, repeat-purchase propensity, item-to-item recommendations; kept in a models folder."""
