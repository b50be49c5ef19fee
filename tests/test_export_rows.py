"""Export rows: the compiled mapping gives, for every lead, exactly the cells the mapping engine gives."""

from __future__ import annotations

import random

import msgspec
import pytest

from hub.export.rows import field_decoder, plan_rows
from hub.mapping.engine import parse_rules, preview
from hub.mapping.transforms import BUILTIN_TRANSFORMS


def boom(value):  # type: ignore[no-untyped-def]
    """A plugin transform with a bug: its error must empty the cell, as in the engine's preview."""
    if value == "Ann":
        raise RuntimeError("plugin bug")
    return value


TRANSFORMS = {**BUILTIN_TRANSFORMS, "boom": boom}

VALUES = ["Ann", "", " x ", "=SUM(A1)", "+44 7911", "-3", "a,b", 'say "hi"', "line\nbreak", "é€😀", None, True, False,
          0, -3, 2.5, [1, "a"], {"k": "v"}]
KEYS = ["email", "first_name", "n", "flag", "first name", "a.b"]
MAPPINGS = {
    "plain": [{"target": "E", "source": "email"}, {"target": "F", "source": "first_name"},
              {"target": "M", "source": "missing"}, {"target": "S", "source": "first name"}],
    "same source twice, reordered": [{"target": "A", "source": "n"}, {"target": "B", "source": "email"},
                                     {"target": "C", "source": "n"}],
    "transforms and constants": [{"target": "E", "source": "email", "transforms": ["upper", "prefix:x\\:y"]},
                                 {"target": "K", "value": "=const"}, {"target": "N", "value": None},
                                 {"target": "Num", "source": "n", "transforms": ["number"]},
                                 {"target": "Missing", "source": "email", "transforms": ["no_such_transform"]},
                                 {"target": "D", "source": "absent", "transforms": ["default:-"]},
                                 {"target": "L", "source": "flag",
                                  "transforms": [{"name": "lookup", "args": [{"True": "Y"}]}]}],
    "templates": [{"target": "Name", "template": "{{ first_name | upper }}!"}, {"target": "Err", "template": "{{ 1/0 }}"},
                  {"target": "Source wins", "source": "email", "template": "ignored"},
                  {"target": "T", "template": "{{ n }}", "transforms": ["number"]}],
    "dotted targets": [{"target": "a", "source": "email"}, {"target": "a.b", "source": "first_name"},
                       {"target": "c.d", "source": "n"}],
    "a target twice": [{"target": "X", "source": "email"}, {"target": "X", "source": "n"}],
    "constants only": [{"target": "K", "value": 1}],
    "a plugin transform that raises": [{"target": "B", "source": "first_name", "transforms": ["boom"]}],
    "a plugin transform that raises after a template": [
        {"target": "T", "template": "{{ first_name }}", "transforms": ["boom"]}],
}


def leads(count: int = 300) -> list[dict]:
    rng = random.Random(9)
    return [{key: rng.choice(VALUES) for key in KEYS if rng.random() < 0.8} for _ in range(count)]


@pytest.mark.parametrize("name", MAPPINGS)
@pytest.mark.parametrize("whole_lead", [False, True])
def test_cells_are_what_preview_maps(name, whole_lead):
    rules = parse_rules(MAPPINGS[name])
    plan = plan_rows(rules, [], TRANSFORMS, whole_lead=whole_lead)
    for lead in leads():
        expected = [preview(rules, lead, TRANSFORMS).output.get(rule.target) for rule in rules]
        stored = msgspec.json.encode(lead).decode()
        assert list(plan.cells(plan.decode(stored))) == expected, lead  # SQLite: the JSON text
        assert list(plan.cells(plan.decode(lead))) == expected, lead  # psycopg: already a dict


@pytest.mark.parametrize("whole_lead", [False, True])
@pytest.mark.parametrize("columns", [KEYS + ["missing"], ["email", "n", "email"]])
def test_no_mapping_passes_the_columns_through(whole_lead, columns):
    plan = plan_rows([], columns, TRANSFORMS, whole_lead=whole_lead)
    for lead in leads():
        expected = [lead.get(key) for key in columns]
        assert list(plan.cells(plan.decode(msgspec.json.encode(lead)))) == expected  # bytes as well as str
        assert list(plan.cells(plan.decode(lead))) == expected


def test_a_filter_sees_the_whole_lead():
    plan = plan_rows(parse_rules(MAPPINGS["plain"]), [], TRANSFORMS, whole_lead=True)
    assert plan.decode('{"email": "a@x", "postcode": "SW1"}') == {"email": "a@x", "postcode": "SW1"}


def test_field_decoder_reads_only_the_named_fields():
    decode = field_decoder(["b", "first name", "a.b", "absent"])
    assert decode('{"a": 1, "b": [2], "first name": "Ann", "a.b": null, "b": 3}') == (3, "Ann", None, None)
