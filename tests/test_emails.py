"""Email addresses: the kept-domain path answers exactly as email-validator does on its own."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ingestion.emails import normalized_email

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
LOCAL_PARTS = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),  # dots first, last, doubled; over 64
    st.text(alphabet=ATEXT + ". \"(),:;<>@[\\]é", min_size=1, max_size=20),  # quotes, specials, non-ASCII
    st.sampled_from(["lead", "Lead.Name", "a+tag", "x" * 64, "x" * 65, '"quoted"', "o'brien"]),
)
DOMAINS = st.one_of(
    st.sampled_from(["example.com", "EXAMPLE.com", "gmail.com", "mail.co.uk", "localhost", "printer.local",
                     "site.test", "x.invalid", "a.onion", "example.arpa", "123.456", "a.b-", "-a.com", "a..com",
                     "nodot", "xn--bcher-kva.de", "bücher.de", "xn--zz.com", "a" * 64 + ".com", "[127.0.0.1]",
                     ("a" * 60 + ".") * 4 + "com", "ex_ample.com", "a.com.", ""]),
    st.from_regex(r"\A[a-zA-Z0-9-]{1,12}(\.[a-zA-Z0-9-]{1,12}){0,3}\Z"),
)


def _reference(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _ours(address: str) -> str | None:
    try:
        return normalized_email(address)
    except EmailNotValidError:
        return None


@settings(max_examples=1500, deadline=None)
@given(LOCAL_PARTS, DOMAINS)
def test_the_same_verdict_and_normal_form_as_email_validator(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert _ours(address) == _reference(address)


@pytest.mark.parametrize("address", ["lead..name@example.com", "lead@example.com.", "a b@example.com", "lead@localhost",
                                     "lead@example", "@example.com", "lead@-example.com", "lead"])
def test_a_refusal_carries_email_validators_own_reason(address: str) -> None:
    with pytest.raises(EmailNotValidError) as ours:
        normalized_email(address)
    with pytest.raises(EmailNotValidError) as reference:
        validate_email(address, check_deliverability=False)
    assert str(ours.value) == str(reference.value)


def test_a_domain_is_normalised_as_email_validator_does() -> None:
    assert normalized_email("Lead.Name@EXAMPLE.Com") == "Lead.Name@example.com"
    assert normalized_email("lead@xn--bcher-kva.de") == validate_email("lead@xn--bcher-kva.de",
                                                                      check_deliverability=False).normalized
