"""The /api/v1 JSON API: bearer tokens, lead records, dispatch lists, replay."""

from __future__ import annotations

import pytest

from hub.accounts.tokens import create_token, revoke_token
from hub.testing.hub import add_delivery, wait_until


@pytest.fixture
def auth(hub) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {create_token(hub.engine, 'api-test')}"}


def test_every_api_route_needs_a_live_token(client, hub):
    assert client.get("/api/v1/leads/1").status_code == 401
    assert client.get("/api/v1/dispatches", headers={"Authorization": "Bearer nope"}).status_code == 401
    token = create_token(hub.engine, "short-lived")
    assert client.get("/api/v1/dispatches", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoke_token(hub.engine, "short-lived")
    assert client.get("/api/v1/dispatches", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/api/v1/dispatches/replay", json={}).status_code == 401


def test_lead_record_lists_dispatches_with_attempts(client, hub, post, auth, recorder):
    add_delivery(hub, "good", sources=["form"], channel="recorder")
    add_delivery(hub, "bad", sources=["form"], channel="recorder", config={"outcomes": ["rejected"]})
    lead_id = post({"first_name": "Ann", "email": "ann@example.com"}).json()["lead_id"]

    def settled():  # type: ignore[no-untyped-def]
        record = client.get(f"/api/v1/leads/{lead_id}", headers=auth).json()
        return record if all(d["status"] in ("accepted", "rejected") for d in record["dispatches"]) else None

    record = wait_until(settled)
    assert record["source"] == "form" and record["fields"]["first_name"] == "Ann"
    by_slug = {d["delivery"]: d for d in record["dispatches"]}
    assert by_slug["good"]["status"] == "accepted" and by_slug["good"]["remote_id"] == f"r-{lead_id}"
    assert by_slug["bad"]["status"] == "rejected" and by_slug["bad"]["remote_id"] is None
    assert [a["outcome"] for a in by_slug["good"]["attempts"]] == ["accepted"]
    assert by_slug["good"]["attempt_count"] == 1
    assert client.get("/api/v1/leads/999999", headers=auth).status_code == 404


def test_list_and_replay_rejected_dispatches(client, hub, post, auth, recorder):
    add_delivery(hub, "picky", sources=["form"], channel="recorder", config={"outcomes": ["rejected", "accepted"]})
    for n in range(3):
        post({"first_name": "A", "email": f"a{n}@example.com"})
    rejected = wait_until(lambda: len(items := client.get("/api/v1/dispatches?status=rejected", headers=auth)
                                      .json()["dispatches"]) == 3 and items)
    assert {d["delivery"] for d in rejected} == {"picky"}
    bad_status = client.get("/api/v1/dispatches?status=bogus", headers=auth)
    assert bad_status.status_code == 400 and "status" in bad_status.json()["error"]
    not_replayable = client.post("/api/v1/dispatches/replay", json={"status": "accepted"}, headers=auth)
    assert not_replayable.status_code == 400
    answer = client.post("/api/v1/dispatches/replay", json={"status": "rejected", "delivery": "picky"}, headers=auth)
    assert answer.json()["replayed"] == 3
    wait_until(lambda: len(client.get("/api/v1/dispatches?status=accepted", headers=auth).json()["dispatches"]) == 3)
    again = client.post(f"/api/v1/dispatches/{rejected[0]['id']}/replay", headers=auth)
    assert again.status_code == 400 and "accepted" in again.json()["error"]
    assert client.post("/api/v1/dispatches/424242/replay", headers=auth).status_code == 404


def test_openapi_is_served(client):
    schema = client.get("/schema/openapi.json").json()
    assert "/webhooks/{source}" in schema["paths"] and "/api/v1/leads/{lead_id}" in schema["paths"]
