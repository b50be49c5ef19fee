"""Recipient numbers in E.164 (pure)."""

from __future__ import annotations

import phonenumbers


def to_e164(number: str, default_country: str = "") -> str:
    """``07911 123456`` + GB → ``+447911123456``; raises ValueError for anything that cannot be a number.

    The check is for a possible number (right length for its country) rather than
    an allocated one, so reserved test ranges such as +44 7700 900xxx still work.
    """
    try:
        parsed = phonenumbers.parse(str(number), default_country.upper() or None)
    except phonenumbers.NumberParseException:
        hint = "" if default_country else " (write it with +country code, or set default_country)"
        raise ValueError(f"{number!r} is not a phone number{hint}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{number!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
