"""Hostile input at the webhook: whatever arrives, the answer is a 2xx or a 4xx that says why.

10 000 generated requests per run (two properties of 5 000): JSON objects of any shape, and any bytes
under any content type with any query string and idempotency key.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15)
field_names = st.sampled_from(["first_name", "email", "phone", "age", "postcode", "key", "x"]) | st.text(max_size=12)
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", "",
                                 "application/json; charset=latin-1", "multipart/form-data", "application/xml"])


def check(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.json()["error"], answer.text


@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(field_names, json_values, max_size=8))
def test_any_json_object(client, fields):
    check(client.post("/webhooks/form", content=json.dumps(fields), headers={
        "X-API-Key": "s3cret-key", "Content-Type": "application/json"}))


@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), content_type=content_types,
       query=st.lists(st.tuples(field_names, st.text(max_size=20)), max_size=4),
       idempotency=st.none() | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300))
def test_any_bytes_any_type_any_query(client, body, content_type, query, idempotency):
    headers = {"X-API-Key": "s3cret-key", "Content-Type": content_type}
    if idempotency is not None:
        headers["Idempotency-Key"] = idempotency
    check(client.post("/webhooks/form", content=body, params=query, headers=headers))


def test_deeply_nested_json_is_refused_cleanly(client):
    deep = "[" * 5000 + "]" * 5000
    check(client.post("/webhooks/form", content=deep, headers={"X-API-Key": "s3cret-key",
                                                                "Content-Type": "application/json"}))
    deep_field = '{"first_name": ' + "[" * 3000 + "]" * 3000 + ', "email": "a@b.co"}'
    check(client.post("/webhooks/form", content=deep_field, headers={"X-API-Key": "s3cret-key",
                                                                      "Content-Type": "application/json"}))
