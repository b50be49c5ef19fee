"""How carriers count an SMS: GSM-7 or UCS-2, and how many segments it takes (pure).

GSM-7: 160 characters in one segment, 153 per segment when concatenated; the
extension characters (^ { } \\ [ ~ ] | € and form feed) take two. Any other
character switches the whole message to UCS-2: 70 in one segment, 67 per
segment, counted in UTF-16 units (an emoji takes two). A two-unit character
is never split across segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}
ELLIPSIS = {"GSM-7": "...", "UCS-2": "…"}

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    characters: int  # units as carriers count them (septets or UTF-16 units)
    segments: int
    per_segment: int  # capacity of each segment at this length
    remaining: int  # units still free in the last segment


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else "UCS-2"


def _units(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SegmentCount:
    encoding = encoding_of(text)
    single, multi = LIMITS[encoding]
    costs = [_units(c, encoding) for c in text]
    total = sum(costs)
    if total <= single:
        return SegmentCount(encoding, total, 1 if text else 0, single, single - total)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:  # the pair moves whole into the next segment
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(encoding, total, segments, multi, multi - used)


def fit(text: str, max_segments: int) -> str:
    """``text`` cut (with an ellipsis) to fit in ``max_segments``; unchanged when it already fits."""
    if count_segments(text).segments <= max_segments:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its ellipsis
        middle = (low + high + 1) // 2
        candidate = text[:middle].rstrip()
        candidate += ELLIPSIS[encoding_of(candidate + ELLIPSIS["GSM-7"])]
        if count_segments(candidate).segments <= max_segments:
            low = middle
        else:
            high = middle - 1
    prefix = text[:low].rstrip()
    return prefix + ELLIPSIS[encoding_of(prefix)]
