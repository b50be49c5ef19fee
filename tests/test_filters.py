"""The delivery filter language: operators, precedence, missing fields, errors with a column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.mapping.filters import FilterError, compile_filter

LEAD = {"postcode": "SW1A 1AA", "age": 41, "county": "Kent", "consent": True, "email": "a@x.com", "note": ""}


@pytest.mark.parametrize("text, expected", [
    ("", True),
    ("postcode startswith 'sw'", True),
    ("postcode startswith 'M'", False),
    ("postcode endswith '1aa'", True),
    ("email contains '@X.'", True),
    ("county == 'kent'", True),
    ("county = \"Kent\"", True),
    ("county != 'Kent'", False),
    ("age >= 18", True),
    ("age < 18", False),
    ("age > '9'", True),  # numeric, not textual ("41" < "9" as text)
    ("age == 41.0", True),
    ("consent == true", True),
    ("consent == false", False),
    ("county in ['Surrey', 'KENT']", True),
    ("county not in ['Surrey', 'Kent']", False),
    ("note is empty", True),
    ("missing is empty", True),
    ("email is not empty", True),
    ("missing == null", True),
    ("missing != 'x'", False),
    ("missing > 1", False),
    ("missing not in ['a']", False),
    ("postcode matches '^SW[0-9]'", True),
    ("postcode matches '^N'", False),
    ("age >= 18 and county == 'Kent'", True),
    ("age < 18 or county == 'Kent'", True),
    ("not county == 'Kent'", False),
    ("age < 18 and county == 'Kent' or consent == true", True),  # and binds tighter than or
    ("age < 18 and (county == 'Kent' or consent == true)", False),
    ("not (age < 18 or county == 'Essex')", True),
    ("name == 'O\\'Brien'", False),
])
def test_matches(text, expected):
    assert compile_filter(text).matches(LEAD) is expected


def test_fields_referenced():
    assert compile_filter("a == 1 and (b in [1] or not c is empty)").fields == {"a", "b", "c"}


@pytest.mark.parametrize("text, column, words", [
    ("postcode startswith", 20, "expected a value"),
    ("postcode ~ 'x'", 10, "unexpected character"),
    ("(age > 1", 9, "expected ')'"),
    ("and", 1, "expected a field name"),
    ("age", 4, "expected a comparison"),
    ("age > 1 county", 9, "expected 'and', 'or'"),
    ("x matches '('", 11, "invalid regular expression"),
    ("x is full", 6, "expected 'empty'"),
    ("x in 'a'", 6, "expected '['"),
    ("x == 'open", 6, "unexpected character"),
])
def test_errors_say_where_and_what(text, column, words):
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    assert str(caught.value).startswith(f"at column {column}:") and words in str(caught.value)


def test_limits():
    with pytest.raises(FilterError, match="nested too deeply"):
        compile_filter("(" * 60 + "a == 1" + ")" * 60)
    with pytest.raises(FilterError, match="at most"):
        compile_filter("a == 1 and " * 1000 + "a == 1")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(list("abc ()[]'\"=!<>,.0123456789-_\\") + [
    " and ", " or ", " not ", " in ", " is ", " empty", " matches ", " contains ", " true", " null"]), max_size=30))
def test_any_text_compiles_or_raises_filter_error(pieces):
    text = "".join(pieces)
    try:
        compiled = compile_filter(text)
    except FilterError:
        return
    assert compiled.matches({"a": "1", "b": None, "c": [1]}) in (True, False)
