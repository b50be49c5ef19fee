"""Lead validation against a source's field spec: every type, every message, never an exception."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ingestion.fields import (
    FIELD_TYPES,
    FieldSpec,
    dedupe_key,
    validate_lead,
    validate_specs,
)


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


@pytest.mark.parametrize("value, message", [("nan", "must be a finite number"), ("-Infinity", "must be a finite number"),
                                            (float("nan"), "must be a finite number"), ("abc", "must be a number"),
                                            (True, "must be a number"), ("1e999", "at most 30 digits")])
def test_decimal_refusals(value, message):
    assert message in one("decimal", value)[1]


def test_decimal_keeps_its_places_and_writes_no_exponent():
    assert one("decimal", "1E+2") == ("100", None)
    assert one("decimal", " 0012.500 ") == ("12.500", None)


@pytest.mark.parametrize("value, expected", [(True, True), ("yes", True), ("ON", True), ("1", True), (1, True),
                                             (False, False), ("no", False), ("off", False), (0, False)])
def test_boolean(value, expected):
    assert one("boolean", value) == (expected, None)


def test_boolean_refusal_lists_the_accepted_words():
    assert "yes/no" in one("boolean", "maybe")[1]


@pytest.mark.parametrize("value, expected", [("2026-01-02", "2026-01-02"), ("2026-01-02T10:00:00Z", "2026-01-02"),
                                             (" 2026-01-02 23:59:59.5+01:00 ", "2026-01-02")])
def test_date(value, expected):
    assert one("date", value) == (expected, None)


@pytest.mark.parametrize("value", ["02/01/2026", "2026-13-01", "soon", True, "20260102", "2026-01-02junk",
                                   "2026-01-02T25:00", "2026-W01-1"])
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


@pytest.mark.parametrize("type_, message", [
    ("string", "must be text"), ("integer", "must be a whole number"), ("decimal", "must be a number"),
    ("boolean", "must be true or false"), ("date", "must be a date"), ("email", "must be an email address"),
    ("phone", "must be a phone number"), ("enum", "must be one of the listed values")])
@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], []])
def test_nested_values_for_typed_fields_are_refused(type_, message, value):
    assert one(type_, value, choices=["a"] if type_ == "enum" else []) == (None, message)


@pytest.mark.parametrize("type_", FIELD_TYPES)
def test_required_blank_and_optional_blank(type_):
    specs = [FieldSpec(name="a", type=type_, required=True), FieldSpec(name="b", type=type_)]
    for blank in ("", "  ", None):
        assert validate_lead(specs, {"a": blank, "b": blank}) == ({}, {"a": "is required"})
    assert validate_lead(specs, {}) == ({}, {"a": "is required"})


def test_max_length_applies_to_the_cleaned_value():
    assert one("string", "  abc  ", max_length=3) == ("abc", None)
    assert one("email", "ann@example.com", max_length=5) == (None, "must be at most 5 characters")


def test_a_body_that_is_not_an_object():
    assert validate_lead([FieldSpec(name="a")], ["a"]) == ({}, {"_lead": "must be an object of named fields"})


def test_every_error_is_reported_and_unknown_fields_are_kept():
    specs = [FieldSpec(name="email", type="email", required=True), FieldSpec(name="age", type="integer")]
    clean, errors = validate_lead(specs, {"email": "x", "age": "old", "utm_source": " google ", "score": 7})
    assert set(errors) == {"email", "age"}
    assert clean == {"utm_source": "google", "score": 7}


def test_limits_on_unknown_fields():
    clean, errors = validate_lead([FieldSpec(name="known")], {"known": "k", **{f"f{i}": "x" for i in range(202)}})
    assert list(errors) == ["f200"] and "202 fields are not in the source's spec" in errors["f200"]
    assert len(clean) == 201 and clean["known"] == "k"
    assert validate_lead([], {f"f{i}": "x" for i in range(200)})[1] == {}
    _, errors = validate_lead([], {"essay": "x" * 10_001, "ok": "x" * 10_000})
    assert errors == {"essay": "must be at most 10000 characters"}
    _, errors = validate_lead([], {"meta": {"notes": ["x" * 10_001]}})
    assert errors == {"meta": "must not hold text longer than 10000 characters"}


def test_unknown_scalars_and_nested_values_are_kept():
    data = {"n": None, "f": 1.5, "b": False, "i": 3, "meta": {"tags": ["a", "b"], "depth": {"x": 1}}}
    assert validate_lead([], data) == (data, {})


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
    assert set(errors) == {"fields[1].name", "fields[2].name", "fields[3].choices", "fields[4].country",
                           "fields[5].type", "fields[5].max_length", "fields[5].bogus", "fields[6]"}
    assert validate_specs("nope") == ([], {"fields": "must be a list of fields"})


@pytest.mark.parametrize("item, key, words", [
    ({"name": "a", "country": ["GB"]}, "country", "country code"),
    ({"name": "a", "type": ["enum"]}, "type", "use one of: string, integer"),
    ({"name": "a", "required": "yes"}, "required", "true or false"),
    ({"name": "a", "max_length": True}, "max_length", "at least 1"),
    ({"name": "a", "max_length": "5"}, "max_length", "at least 1"),
    ({"name": "a", "choices": "a,b"}, "choices", "list of strings"),
    ({"name": "a", "label": 3}, "label", "must be text"),
    ({"type": "email"}, "name", "is required"),
    ({"name": "has space"}, "name", "letters, digits"),
])
def test_validate_specs_refusals(item, key, words):
    specs, errors = validate_specs([item])
    assert specs == [] and list(errors) == [f"fields[0].{key}"] and words in errors[f"fields[0].{key}"]


def test_validate_specs_accepts_every_setting():
    specs, errors = validate_specs([{"name": "mobile", "type": "phone", "required": True, "max_length": 20,
                                     "country": "GB", "label": "Mobile"},
                                    {"name": "tier", "type": "enum", "choices": ["Gold"]}, {"name": "utm.source-1"}])
    assert errors == {}
    assert specs == [FieldSpec(name="mobile", type="phone", required=True, max_length=20, country="GB", label="Mobile"),
                     FieldSpec(name="tier", type="enum", choices=["Gold"]), FieldSpec(name="utm.source-1")]


def test_dedupe_key_ignores_case_and_spacing():
    assert dedupe_key({"email": "A@x.com "}, ["email"]) == dedupe_key({"email": "a@x.com"}, ["email"])
    assert dedupe_key({"email": "a@x.com"}, ["email"]) != dedupe_key({"email": "b@x.com"}, ["email"])
    assert dedupe_key({"email": ""}, ["email"]) is None and dedupe_key({"email": "a"}, []) is None
    assert dedupe_key({}, ["email", "phone"]) is None
    both = dedupe_key({"email": "a@x.com", "phone": "+44"}, ["email", "phone"])
    assert both == hashlib.sha256("a@x.com\x1f+44".encode()).hexdigest()
    assert both != dedupe_key({"email": "a@x.com", "phone": "+44"}, ["phone", "email"])  # order counts
    assert dedupe_key({"email": "a@x.com"}, ["email", "phone"]) is not None


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(data=st.dictionaries(st.text(max_size=20), json_values, max_size=8),
       types=st.lists(st.sampled_from(FIELD_TYPES), min_size=1, max_size=8),
       names=st.lists(st.text(max_size=10), min_size=8, max_size=8, unique=True))
def test_validate_lead_never_raises(data, types, names):
    specs = [FieldSpec(name=names[i], type=t, required=bool(i % 2), country="GB" if t == "phone" else None,
                       choices=["a", "b"] if t == "enum" else [], max_length=5 if i % 3 == 0 else None)
             for i, t in enumerate(types)]
    merged = {**data, **{s.name: data.get(s.name, next(iter(data.values()), None)) for s in specs}}
    clean, errors = validate_lead(specs, merged)
    assert isinstance(clean, dict) and all(isinstance(v, str) for v in errors.values())
    assert not set(clean) & set(errors)  # a field is either clean or wrong, never both
    assert all(s.name in clean or s.name in errors for s in specs if s.required)


spec_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.sampled_from(FIELD_TYPES),
                        st.lists(st.text(max_size=4), max_size=3), st.sampled_from(["GB", "US", "UK", "gb"]))


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.lists(st.dictionaries(
    st.sampled_from(["name", "type", "required", "max_length", "country", "choices", "label", "other"]), spec_values),
    max_size=5)))
def test_validate_specs_never_raises(raw):
    specs, errors = validate_specs(raw)
    assert all(isinstance(s, FieldSpec) for s in specs) and all(isinstance(v, str) for v in errors.values())


def test_deeply_nested_unknown_fields_are_refused():
    nested: object = "x"
    for _ in range(9):
        nested = [nested]
    assert validate_lead([], {"deep": nested})[1] == {"deep": "is nested more than 8 levels deep"}
    assert validate_lead([], {"ok": [[{"a": 1}]]})[0] == {"ok": [[{"a": 1}]]}
