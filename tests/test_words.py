"""Durations as the report's reader reads them."""

from datetime import timedelta

import pytest

from rootwatch.words import duration


@pytest.mark.parametrize(("delta", "words"), [
    (timedelta(minutes=20), "20 minutes"), (timedelta(minutes=1), "1 minute"), (timedelta(0), "0 seconds"),
    (timedelta(days=1, minutes=5), "1 day 5 minutes"), (timedelta(hours=2, seconds=30), "2 hours 30 seconds"),
    (timedelta(days=90), "90 days"),
])
def test_a_duration_is_words_never_pythons_repr(delta, words):
    assert duration(delta) == words
