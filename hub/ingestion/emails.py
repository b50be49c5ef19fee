"""Email addresses: checked and normalised by email-validator, with each domain's verdict kept.

email-validator spends two thirds of its time on the domain (IDNA and UTS-46
rules), and most of a hub's leads come from a few dozen domains. So an
ASCII address with a plain local part is checked as its local part (a strict
subset of RFC 5322's dot-atom, by one regex) plus its domain's verdict, which
email-validator gave once. Anything else, and every address that fails, goes
through email-validator whole, so its message names the problem. A property
test holds the two paths to the same answers.
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

__all__ = ["EmailNotValidError", "normalized_email"]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
MAX_LOCAL_PART = 64
MAX_ADDRESS = 254


def normalized_email(text: str) -> str:
    """The address as email-validator normalises it; raises EmailNotValidError saying why not."""
    local, at, domain = text.rpartition("@")
    if at and text.isascii() and len(text) <= MAX_ADDRESS and len(local) <= MAX_LOCAL_PART \
            and _PLAIN_LOCAL_PART.fullmatch(local):
        try:
            return f"{local}@{_normalized_domain(domain)}"
        except EmailNotValidError:
            pass  # the whole address's check below says what is wrong, in its own words
    return validate_email(text, check_deliverability=False).normalized


@lru_cache(maxsize=4096)
def _normalized_domain(domain: str) -> str:
    """The domain as email-validator normalises it (errors are not kept: a bad domain is checked each time)."""
    return validate_email(f"postmaster@{domain}", check_deliverability=False).domain
