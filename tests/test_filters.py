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
    ("county contains 'EN'", True),
    ("county startswith 'x' or county endswith 'NT'", True),
    ("county in [\"essex\"]", False),
    ("age in [40, 41]", True),
    ("age not in [40, '041']", False),  # '041' is the number 41
    ("county > 'essex'", True),  # textual, ignoring case: "kent" > "essex"
    ("county < 'Essex'", False),
    ("age <= 41 and age >= 41 and age != 40", True),
    ("not consent == false", True),
    ("consent == 'TRUE'", True),
    ("note == ''", True),
    ("note is not empty", False),
    ("missing == ''", False),
    ("missing contains ''", False),
    ("missing startswith 'a' or missing endswith 'a' or missing < 'a' or missing matches '.*'", False),
    ("missing in [null]", True),
    ("missing != null", False),
    ("age != null", True),
    ("NOT county == 'Essex' AND age > 1", True),  # keywords ignore case
])
def test_matches(text, expected):
    assert compile_filter(text).matches(LEAD) is expected


def test_fields_referenced_and_text():
    compiled = compile_filter("a == 1 and (b in [1] or not c is empty) and utm.source-x matches 'x'")
    assert compiled.fields == {"a", "b", "c", "utm.source-x"}
    assert compiled.text.startswith("a == 1")
    assert compile_filter("   ").fields == frozenset() and compile_filter("   ").matches({})


def test_string_escapes_and_regular_expressions():
    assert compile_filter(r"postcode matches '^SW\d'").matches(LEAD)  # \d reaches the regex untouched
    assert not compile_filter(r"postcode matches '^SW\d'").matches({"postcode": "SWd"})
    assert compile_filter(r'say == "a \"quoted\" word"').matches({"say": 'A "quoted" WORD'})
    assert compile_filter(r"path == 'c:\\temp'").matches({"path": "c:\\temp"})
    assert compile_filter(r"text contains '\n'").matches({"text": "two\nlines"})
    assert compile_filter("code matches 'ab'").matches({"code": "xABy"})  # regexes ignore case too


@pytest.mark.parametrize("value, expected", [(True, True), ("yes", True), ("On", True), (1, True), ("1", True),
                                             (False, False), ("no", False), ("maybe", False), (None, False)])
def test_booleans_compare_like_form_answers(value, expected):
    assert compile_filter("consent == true").matches({"consent": value}) is expected


def test_numbers_compare_as_numbers_whatever_their_type():
    assert compile_filter("price > 9.5").matches({"price": "10.00"})
    assert compile_filter("price == 10").matches({"price": 10.0})
    assert compile_filter("price > 9.5").matches({"price": "ten"})  # not a number, so text: "ten" > "9.5"
    assert not compile_filter("price > 9.5").matches({"price": "10e"})  # "10e" < "9.5" as text
    assert compile_filter("age >= -1").matches({"age": "-1"})


def test_matches_never_raises_on_odd_values():
    odd = {"a": [1, {"b": 2}], "b": object(), "c": float("nan"), "d": b"bytes"}
    for text in ("a > 1", "b contains 'x'", "c == 1", "d matches 'x'", "a in [1]", "c is empty"):
        assert compile_filter(text).matches(odd) in (True, False)


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
    assert caught.value.position == column - 1 and words in caught.value.message


def test_error_message_names_the_operator():
    with pytest.raises(FilterError) as caught:
        compile_filter("postcode startswith and age > 1")
    assert str(caught.value) == "at column 21: expected a value after 'startswith' (quote text: 'like this')"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["x in []", "x not 'a'", "x is not", "x == 1 and", "x == [1]", "x matches 1",
                                  "(x == 1))", "x == 12abc", "not", "x in [1,]", "'a' == x", "x == = 1"])
def test_malformed_filters_are_refused(text):
    with pytest.raises(FilterError):
        compile_filter(text)


def test_limits():
    with pytest.raises(FilterError, match="nested too deeply"):
        compile_filter("(" * 60 + "a == 1" + ")" * 60)
    with pytest.raises(FilterError, match="at most"):
        compile_filter("a == 1 and " * 1000 + "a == 1")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(list("abc ()[]'\"=!<>,.0123456789-_\\") + [
    " and ", " or ", " not ", " in ", " is ", " empty", " matches ", " contains ", " true", " null"]), max_size=30))
def test_filter_like_text_compiles_or_raises_filter_error(pieces):
    _compiles_or_refuses("".join(pieces), {"a": "1", "b": None, "c": [1]})


lead_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.lists(st.integers())


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60), lead=st.dictionaries(st.sampled_from(list("abc")), lead_values))
def test_any_text_compiles_or_raises_filter_error(text, lead):
    _compiles_or_refuses(text, lead)


def _compiles_or_refuses(text: str, lead: dict) -> None:
    try:
        compiled = compile_filter(text)
    except FilterError as exc:
        assert 0 <= exc.position <= len(text)
        return
    assert compiled.matches(lead) in (True, False)
