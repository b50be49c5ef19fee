"""The mapping engine and the built-in transforms (pure functions, no hub needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.mapping.engine import (
    MappingError,
    apply_mapping,
    parse_rules,
    parse_step,
    preview,
    validate_rules,
)
from hub.mapping.rules import MappingRule, TransformStep
from hub.mapping.transforms import BUILTIN_TRANSFORMS as T

LEAD = {"first_name": "ann", "last_name": "Lee", "phone": "07911 123456", "dob": "1984-03-07", "tier": "G",
        "full": "Ann Marie Lee", "age": "41", "consent": True}


@pytest.mark.parametrize("name, value, args, expected", [
    ("e164", "07911 123456", ["GB"], "+447911123456"),
    ("e164", "+1 (415) 555-2671", [], "+14155552671"),
    ("digits_only", "+44 (0)7911-123", [], "4407911123"),
    ("upper", "ann", [], "ANN"),
    ("lower", "ANN", [], "ann"),
    ("title", "ann lee", [], "Ann Lee"),
    ("trim", "  a   b ", [], "a b"),
    ("date", "1984-03-07", ["%d/%m/%Y"], "07/03/1984"),
    ("date", "07/03/1984", ["%Y-%m-%d", "%d/%m/%Y"], "1984-03-07"),
    ("date", "1984-03-07T10:30:00", ["%H:%M"], "10:30"),
    ("first_name", "Ann Marie Lee", [], "Ann"),
    ("last_name", "Ann Marie Lee", [], "Marie Lee"),
    ("last_name", "Cher", [], ""),
    ("split", "a,b,c", [",", "1"], "b"),
    ("split", "a,b", [",", "5"], ""),
    ("split", "a b c", [" ", "-1"], "c"),
    ("join", ["a", None, "b"], ["-"], "a-b"),
    ("default", "", ["n/a"], "n/a"),
    ("default", None, ["n/a"], "n/a"),
    ("default", "x", ["n/a"], "x"),
    ("lookup", "G", ["G=Gold", "S=Silver"], "Gold"),
    ("lookup", "g", ["G=Gold"], "Gold"),
    ("lookup", "X", ["G=Gold", "*=Other"], "Other"),
    ("lookup", "M", [{"M": "Male", "F": "Female"}], "Male"),
    ("truncate", "abcdef", ["3"], "abc"),
    ("replace", "a-b-c", ["-", "+"], "a+b+c"),
    ("prefix", "123", ["ID-"], "ID-123"),
    ("suffix", "5", ["%"], "5%"),
    ("number", "1,234", [], 1234),
    ("number", "2.5", [], 2.5),
    ("string", True, [], "true"),
    ("string", 5, [], "5"),
    ("bool_yes_no", True, [], "Yes"),
    ("bool_yes_no", "false", ["Y", "N"], "N"),
])
def test_transforms(name, value, args, expected):
    assert T[name](value, *args) == expected


@pytest.mark.parametrize("name", sorted(set(T) - {"default"}))
def test_none_passes_through(name):
    args = {"lookup": ["a=b"], "replace": ["a", "b"]}.get(name, [])
    assert T[name](None, *args) is None


@pytest.mark.parametrize("name, value, args, words", [
    ("e164", "12", ["GB"], "not a valid phone number"),
    ("e164", "abc", [], "not a phone number"),
    ("date", "07/03/1984", ["%d/%m/%Y"], "not a date"),
    ("lookup", "X", ["G=Gold"], "not in the lookup table"),
    ("lookup", "X", ["oops"], "key=value"),
    ("truncate", "abc", ["many"], "whole number"),
    ("number", "abc", [], "not a number"),
    ("number", "nan", [], "not a finite number"),
    ("replace", "abc", [], "needs the text"),
    ("split", "a b", [" ", "x"], "whole number"),
])
def test_transform_errors_are_short_and_specific(name, value, args, words):
    with pytest.raises(ValueError, match=words):
        T[name](value, *args)


def test_parse_step_and_escaped_colons():
    assert parse_step("truncate:20") == ("truncate", ["20"])
    assert parse_step(r"date:%H\:%M") == ("date", ["%H:%M"])
    assert parse_step(TransformStep(name="lookup", args=[{"a": 1}])) == ("lookup", [{"a": 1}])


def test_each_rule_kind_and_pipelines_in_order():
    rules = parse_rules([
        {"target": "FirstName", "source": "first_name", "transforms": ["title"]},
        {"target": "FullName", "template": "{{ first_name | title }} {{ last_name }}"},
        {"target": "Phone", "source": "phone", "transforms": ["e164:GB", "digits_only"]},
        {"target": "DOB", "source": "dob", "transforms": ["date:%d/%m/%Y"]},
        {"target": "Tier", "source": "tier", "transforms": [{"name": "lookup", "args": [{"G": "Gold"}]}]},
        {"target": "Campaign", "value": "home-2026"},
        {"target": "Missing", "source": "nope", "transforms": ["default:unknown"]},
    ])
    assert apply_mapping(rules, LEAD, T) == {
        "FirstName": "Ann", "FullName": "Ann Lee", "Phone": "447911123456", "DOB": "07/03/1984", "Tier": "Gold",
        "Campaign": "home-2026", "Missing": "unknown"}


def test_output_keeps_rule_order_and_dotted_targets_nest():
    rules = parse_rules([{"target": "z", "value": 1}, {"target": "customer.name", "source": "first_name"},
                         {"target": "customer.address.town", "value": "Leeds"}, {"target": "a", "value": 2}])
    output = apply_mapping(rules, LEAD, T)
    assert list(output) == ["z", "customer", "a"]
    assert output["customer"] == {"name": "ann", "address": {"town": "Leeds"}}


def test_empty_mapping_passes_the_lead_through():
    assert apply_mapping([], LEAD, T) == LEAD and apply_mapping([], LEAD, T) is not LEAD


def test_every_failing_target_is_reported():
    rules = parse_rules([{"target": "Age", "source": "first_name", "transforms": ["number"]},
                         {"target": "Phone", "source": "tier", "transforms": ["e164:GB"]},
                         {"target": "Ok", "value": 1},
                         {"target": "Ghost", "value": 1, "transforms": ["sparkle"]}])
    with pytest.raises(MappingError) as caught:
        apply_mapping(rules, LEAD, T)
    assert set(caught.value.errors) == {"Age", "Phone", "Ghost"}
    assert caught.value.errors["Age"].startswith("number:") and "no transform 'sparkle'" in caught.value.errors["Ghost"]
    shown = preview(rules, LEAD, T)
    assert shown.output == {"Ok": 1} and set(shown.errors) == {"Age", "Phone", "Ghost"}


def test_missing_fields_render_empty_and_templates_stay_in_the_sandbox():
    rules = parse_rules([{"target": "a", "template": "{{ nope }}|{{ nope.deeper }}"},
                         {"target": "b", "template": "{{ ''.__class__.__mro__ }}"},
                         {"target": "c", "template": "{{ cycler.__init__.__globals__ }}"},
                         {"target": "d", "template": "{{ first_name.__class__.__subclasses__() }}"}])
    shown = preview(rules, LEAD, T)
    assert shown.output.get("a") == "|"
    for target in ("b", "c", "d"):
        assert "class" not in str(shown.output.get(target, "")) and "os" not in str(shown.output.get(target, ""))


def test_validate_rules_names_the_problem_and_where():
    rules, errors = validate_rules([
        {"target": "A"},
        {"target": "B", "source": "x", "value": 1},
        {"target": "C", "template": "{{ unclosed"},
        {"target": "D", "source": "x", "transforms": ["upper", "sparkle"]},
        {"target": "A", "value": 1},
        {"target": "", "value": 1},
        {"target": "E", "colour": "red"},
    ], T)
    assert "exactly one of source, value or template" in errors["mapping[0]"]
    assert "found source, value" in errors["mapping[1]"]
    assert "syntax error" in errors["mapping[2].template"]
    assert "no transform 'sparkle'" in errors["mapping[3].transforms[1]"] and "upper" in errors["mapping[3].transforms[1]"]
    assert errors["mapping[4].target"] == "'A' is mapped twice"
    assert errors["mapping[5].target"] == "is required"
    assert "colour" in errors["mapping[6]"]
    assert validate_rules("nope", T) == ([], {"mapping": "must be a list of rules"})
    assert validate_rules([{"target": "ok", "value": 1}], T) == ([MappingRule(target="ok", value=1)], {})


lead_values = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)


@settings(max_examples=300, deadline=None)
@given(lead=st.dictionaries(st.sampled_from(list(LEAD) + ["x", "y"]), lead_values, max_size=8),
       steps=st.lists(st.sampled_from(sorted(T) + ["truncate:2", "e164:GB", "date:%d", "lookup:a=b:*=c"]), max_size=4),
       template=st.text(max_size=40))
def test_preview_never_raises(lead, steps, template):
    rules = [MappingRule(target="s", source="first_name", transforms=list(steps)),
             MappingRule(target="t", template=template)]
    result = preview(rules, lead, T)
    assert set(result.output) | set(result.errors) == {"s", "t"}


def test_template_syntax_inside_a_lead_is_data_not_code():
    hostile = {"name": "{{ ''.__class__.__mro__[1].__subclasses__() }}", "n": "{{ 7*7 }}"}
    rules = parse_rules([{"target": "a", "template": "Hi {{ name }} {{ n }}"}, {"target": "b", "source": "n"}])
    assert apply_mapping(rules, hostile, T) == {"a": f"Hi {hostile['name']} {{{{ 7*7 }}}}", "b": "{{ 7*7 }}"}
