"""Intake through the real app: every answer the webhook gives, and what it stores."""

from __future__ import annotations

from sqlmodel import Session, select

from hub.models import Dispatch, Lead
from hub.testing.hub import add_delivery, wait_until

GOOD = {"first_name": "Ann", "email": "ann@example.com", "phone": "07911 123456", "age": "41", "utm": "x"}


def leads(hub) -> list[Lead]:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        return list(session.exec(select(Lead).order_by(Lead.id)))


def test_json_lead_is_accepted_validated_and_normalised(hub, post):
    answer = post(GOOD)
    assert answer.status_code == 202
    body = answer.json()
    assert body == {"lead_id": body["lead_id"], "status": "accepted"}
    (lead,) = leads(hub)
    assert lead.fields["phone"] == "+447911123456"
    assert lead.fields["age"] == 41
    assert lead.fields["utm"] == "x"  # unknown fields are kept


def test_form_and_query_bodies_and_key_in_query(hub, client):
    form = client.post("/webhooks/form?key=s3cret-key", content="first_name=Bo&email=bo%40example.com&age=7",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 202, form.text
    query = client.post("/webhooks/form?key=s3cret-key&first_name=Cy&email=cy@example.com")
    assert query.status_code == 202, query.text
    stored = [lead.fields for lead in leads(hub)]
    assert stored[0]["first_name"] == "Bo" and stored[0]["age"] == 7
    assert stored[1]["first_name"] == "Cy" and "key" not in stored[1]


def test_every_bad_field_is_named(post, hub):
    answer = post({"first_name": "x" * 51, "email": "not-an-email", "phone": "12", "age": "old"})
    assert answer.status_code == 422
    fields = answer.json()["fields"]
    assert set(fields) == {"first_name", "email", "phone", "age"}
    assert leads(hub) == []


def test_missing_required_fields(post):
    answer = post({})
    assert answer.status_code == 422
    assert answer.json()["fields"]["first_name"] == "is required"
    assert "email" in answer.json()["fields"]


def test_wrong_or_missing_key_is_401(post, client):
    assert post(GOOD, key="nope").status_code == 401
    missing = client.post("/webhooks/form", json=GOOD)
    assert missing.status_code == 401
    assert "X-API-Key" in missing.json()["error"]


def test_unknown_source_is_404(client):
    answer = client.post("/webhooks/nope", json=GOOD, headers={"X-API-Key": "s3cret-key"})
    assert answer.status_code == 404
    assert "nope" in answer.json()["error"]


def test_body_over_the_limit_is_413(client, hub):
    big = {"first_name": "A", "email": "a@example.com", "blob": "x" * (hub.settings.max_body_bytes + 1)}
    answer = client.post("/webhooks/form", json=big, headers={"X-API-Key": "s3cret-key"})
    assert answer.status_code == 413
    assert "error" in answer.json()


def test_unsupported_type_is_415_and_bad_json_is_422(client):
    xml = client.post("/webhooks/form", content=b"<lead/>", headers={"X-API-Key": "s3cret-key",
                                                                      "Content-Type": "application/xml"})
    assert xml.status_code == 415 and "application/json" in xml.json()["error"]
    broken = client.post("/webhooks/form", content=b"{nope", headers={"X-API-Key": "s3cret-key",
                                                                       "Content-Type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    array = client.post("/webhooks/form", content=b"[1]", headers={"X-API-Key": "s3cret-key",
                                                                    "Content-Type": "application/json"})
    assert array.status_code == 422 and "object" in array.json()["error"]
    latin = client.post("/webhooks/form", content=b"first_name=\xff", headers={
        "X-API-Key": "s3cret-key", "Content-Type": "application/x-www-form-urlencoded"})
    assert latin.status_code == 422 and "UTF-8" in latin.json()["error"]


def test_idempotency_key_returns_the_first_answer(post, hub):
    first = post(GOOD, headers={"Idempotency-Key": "abc"})
    second = post({**GOOD, "first_name": "Changed"}, headers={"Idempotency-Key": "abc"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(leads(hub)) == 1


def test_duplicate_within_window_is_stored_but_not_dispatched(post, hub, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder")
    first = post(GOOD).json()
    second = post({**GOOD, "email": "ANN@example.com"}).json()
    assert second["status"] == "duplicate" and second["duplicate_of"] == first["lead_id"]
    with Session(hub.engine) as session:
        dispatched = {d.lead_id for d in session.exec(select(Dispatch))}
    assert dispatched == {first["lead_id"]}
    wait_until(lambda: len(recorder) == 1)


def test_filter_skips_non_matching_deliveries(post, hub):
    add_delivery(hub, "london", sources=["form"], channel="recorder", filter="postcode startswith 'SW'")
    inside = post({**GOOD, "postcode": "SW1A 1AA"}).json()["lead_id"]
    outside = post({**GOOD, "email": "b@example.com", "postcode": "M1 1AA"}).json()["lead_id"]
    with Session(hub.engine) as session:
        status = {d.lead_id: d.status for d in session.exec(select(Dispatch))}
    assert status[outside] == "skipped"
    wait_until(lambda: _status(hub, inside) == "accepted")


def _status(hub, lead_id: int) -> str:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        return session.exec(select(Dispatch.status).where(Dispatch.lead_id == lead_id)).one()


def test_a_key_opens_only_its_own_source(hub, client):
    from hub.testing.hub import add_source

    add_source(hub, "other", [{"name": "email", "type": "email"}], api_key="other-key")
    assert client.post("/webhooks/other", json={"email": "a@example.com"},
                       headers={"X-API-Key": "s3cret-key"}).status_code == 401
    assert client.post("/webhooks/other?key=other-key", json={"email": "a@example.com"}).status_code == 202
