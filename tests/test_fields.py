"""Lead validation against a source's field spec: every type, every message, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ingestion.fields import FIELD_TYPES, FieldSpec, dedupe_key, validate_lead, validate_specs


def one(type_: str, value, **spec):  # type: ignore[no-untyped-def]
    clean, errors = validate_lead([FieldSpec(name="f", type=type_, **spec)], {"f": value})
    return clean.get("f"), errors.get("f")


@pytest.mark.parametrize("value, expected", [("  Ann ", "Ann"), (12, "12"), (1.5, "1.5")])
def test_string(value, expected):
    assert one("string", value) == (expected, None)


def test_string_max_length_and_wrong_shapes():
    assert one("string", "abcd", max_length=3) == (None, "must be at most 3 characters")
    assert one("string", {"a": 1})[1] == "must be text"
    assert one("string", True)[1] == "must be text"


@pytest.mark.parametrize("value, expected", [(41, 41), ("41", 41), (" -7 ", -7), (3.0, 3)])
def test_integer(value, expected):
    assert one("integer", value) == (expected, None)


@pytest.mark.parametrize("value", ["4.5", 4.5, "forty", True, "1e3", "9" * 30, [1]])
def test_integer_refusals(value):
    assert one("integer", value)[1] == "must be a whole number"


@pytest.mark.parametrize("value, expected", [("12.50", "12.50"), (3, "3"), ("-0.1", "-0.1"), (2.25, "2.25")])
def test_decimal(value, expected):
    assert one("decimal", value) == (expected, None)


@pytest.mark.parametrize("value", ["nan", "Infinity", "abc", "1e999", True])
def test_decimal_refusals(value):
    assert one("decimal", value)[1] is not None


@pytest.mark.parametrize("value, expected", [(True, True), ("yes", True), ("ON", True), ("1", True), (1, True),
                                             (False, False), ("no", False), ("off", False), (0, False)])
def test_boolean(value, expected):
    assert one("boolean", value) == (expected, None)


def test_boolean_refusal_lists_the_accepted_words():
    assert "yes/no" in one("boolean", "maybe")[1]


@pytest.mark.parametrize("value, expected", [("2026-01-02", "2026-01-02"), ("2026-01-02T10:00:00Z", "2026-01-02")])
def test_date(value, expected):
    assert one("date", value) == (expected, None)


@pytest.mark.parametrize("value", ["02/01/2026", "2026-13-01", "soon", True])
def test_date_refusals(value):
    assert one("date", value)[1].startswith("must be a date")


def test_email_is_normalised_and_explained():
    assert one("email", " Ann@Example.COM ") == ("Ann@example.com", None)
    assert one("email", "ann@")[1].startswith("is not a valid email address")


def test_phone_uses_the_fields_default_country():
    assert one("phone", "07911 123456", country="GB") == ("+447911123456", None)
    assert one("phone", "+1 415 555 2671") == ("+14155552671", None)
    assert "international format" in one("phone", "07911 123456")[1]
    assert one("phone", "12", country="GB")[1] == "is not a valid phone number"


def test_enum_matches_case_insensitively_and_lists_choices():
    assert one("enum", "gold", choices=["Gold", "Silver"]) == ("Gold", None)
    assert one("enum", "bronze", choices=["Gold", "Silver"])[1] == "must be one of: Gold, Silver"


def test_required_blank_and_optional_blank():
    specs = [FieldSpec(name="a", required=True), FieldSpec(name="b")]
    assert validate_lead(specs, {"a": "  ", "b": ""}) == ({}, {"a": "is required"})
    assert validate_lead(specs, {"a": None}) == ({}, {"a": "is required"})


def test_every_error_is_reported_and_unknown_fields_are_kept():
    specs = [FieldSpec(name="email", type="email", required=True), FieldSpec(name="age", type="integer")]
    clean, errors = validate_lead(specs, {"email": "x", "age": "old", "utm_source": " google ", "score": 7})
    assert set(errors) == {"email", "age"}
    assert clean == {"utm_source": "google", "score": 7}


def test_limits_on_unknown_fields():
    _, errors = validate_lead([], {f"f{i}": "x" for i in range(201)})
    assert "_fields" in errors
    _, errors = validate_lead([], {"essay": "x" * 10_001})
    assert errors == {"essay": "must be at most 10000 characters"}


def test_validate_specs_names_each_problem():
    specs, errors = validate_specs([
        {"name": "email", "type": "email", "required": True},
        {"name": "email"},
        {"name": "1bad"},
        {"name": "tier", "type": "enum"},
        {"name": "phone", "type": "phone", "country": "UK"},
        {"name": "x", "type": "colour", "max_length": 0, "bogus": 1},
        "not a table",
    ])
    assert [s.name for s in specs] == ["email", "email"]
    assert errors["fields[1].name"] == "'email' is listed twice"
    assert "fields[2].name" in errors and "fields[3].choices" in errors and "fields[4].country" in errors
    assert "colour" in errors["fields[5].type"] and "fields[5].max_length" in errors and "fields[5].bogus" in errors
    assert "fields[6]" in errors
    assert validate_specs("nope") == ([], {"fields": "must be a list of fields"})


def test_dedupe_key_ignores_case_and_spacing():
    assert dedupe_key({"email": "A@x.com "}, ["email"]) == dedupe_key({"email": "a@x.com"}, ["email"])
    assert dedupe_key({"email": "a@x.com"}, ["email"]) != dedupe_key({"email": "b@x.com"}, ["email"])
    assert dedupe_key({"email": ""}, ["email"]) is None and dedupe_key({"email": "a"}, []) is None


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(data=st.dictionaries(st.text(max_size=20), json_values, max_size=8),
       types=st.lists(st.sampled_from(FIELD_TYPES), min_size=1, max_size=8),
       names=st.lists(st.text(max_size=10), min_size=8, max_size=8))
def test_validate_lead_never_raises(data, types, names):
    specs = [FieldSpec(name=names[i], type=t, required=bool(i % 2), country="GB" if t == "phone" else None,
                       choices=["a", "b"] if t == "enum" else [], max_length=5 if i % 3 == 0 else None)
             for i, t in enumerate(types)]
    merged = {**data, **{s.name: data.get(s.name, next(iter(data.values()), None)) for s in specs}}
    clean, errors = validate_lead(specs, merged)
    assert isinstance(clean, dict) and all(isinstance(v, str) for v in errors.values())


def test_deeply_nested_unknown_fields_are_refused():
    nested: object = "x"
    for _ in range(9):
        nested = [nested]
    assert validate_lead([], {"deep": nested})[1] == {"deep": "is nested more than 8 levels deep"}
    assert validate_lead([], {"ok": [[{"a": 1}]]})[0] == {"ok": [[{"a": 1}]]}
