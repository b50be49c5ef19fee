"""The segment counter, exactly as carriers count, at every boundary."""

from __future__ import annotations

import pytest
from leadhub_sms.segments import count_segments, encoding_of, fit


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("", "GSM-7", 0, 0),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
    ("€" * 81, "GSM-7", 162, 2),
    ("a" * 159 + "^", "GSM-7", 161, 2),
    ("é" * 160, "GSM-7", 160, 1),  # é is in the GSM basic set
    ("ж" * 70, "UCS-2", 70, 1),
    ("ж" * 71, "UCS-2", 71, 2),
    ("ж" * 134, "UCS-2", 134, 2),
    ("ж" * 135, "UCS-2", 135, 3),
    ("😀" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
    ("😀" * 36, "UCS-2", 72, 2),
    ("a" * 159 + "ç", "UCS-2", 160, 3),  # ç (lower case) is not GSM-7: the whole text goes UCS-2
])
def test_counts(text, encoding, units, segments):
    count = count_segments(text)
    assert (count.encoding, count.characters, count.segments) == (encoding, units, segments)


def test_an_extension_pair_is_not_split_across_segments():
    # 152 plain + € (2) = 154 > 153: the € moves whole to the second segment.
    count = count_segments("a" * 152 + "€" + "a" * 10)
    assert count.segments == 2 and count.remaining == 153 - 12
    assert count_segments("a" * 305 + "€").segments == 3


def test_a_surrogate_pair_is_not_split():
    count = count_segments("ж" * 66 + "😀" + "ж" * 5)
    assert count.segments == 2 and count.remaining == 67 - 7


def test_remaining_and_capacity():
    single = count_segments("hello")
    assert single.per_segment == 160 and single.remaining == 155
    multi = count_segments("a" * 200)
    assert multi.per_segment == 153 and multi.remaining == 106


def test_encoding_of():
    assert encoding_of("Hello {name} [1] €5 ~ \\") == "GSM-7" and encoding_of("Привет") == "UCS-2"


@pytest.mark.parametrize("text, limit", [("hello world " * 30, 1), ("hello world " * 30, 2), ("привет " * 40, 1),
                                         ("€" * 200, 1), ("a" * 160, 1)])
def test_fit_cuts_with_an_ellipsis_to_the_limit(text, limit):
    fitted = fit(text, limit)
    assert count_segments(fitted).segments <= limit
    if fitted != text:
        assert fitted.endswith("...") or fitted.endswith("…")
        assert count_segments(fitted).remaining < 8  # cut as late as possible
