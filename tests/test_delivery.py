"""The delivery path on the embedded default: worker, retries, dead, rejected, masking, hooks."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from hub.accounts.tokens import create_token
from hub.delivery import ledger
from hub.driver_sql import DriverSql
from hub.models import Attempt, Dispatch, utcnow
from hub.plugins.hookspecs import hookimpl
from hub.testing.hub import add_delivery, store_leads, wait_until

LEAD = {"first_name": "Ann", "email": "ann@example.com", "phone": "07911123456"}


def dispatch_of(hub, lead_id: int) -> Dispatch:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        return session.exec(select(Dispatch).where(Dispatch.lead_id == lead_id)).one()


def attempts_of(hub, dispatch_id: int) -> list[Attempt]:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        return list(session.exec(select(Attempt).where(Attempt.dispatch_id == dispatch_id).order_by(Attempt.id)))


def settled(hub, lead_id: int, status: str):  # type: ignore[no-untyped-def]
    return wait_until(lambda: (d := dispatch_of(hub, lead_id)).status == status and d)


def test_mapped_lead_is_delivered_and_recorded(hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder", mapping=[
        {"target": "Name", "template": "{{ first_name }} <{{ email }}>"},
        {"target": "Phone", "source": "phone", "transforms": ["digits_only"]},
        {"target": "Campaign", "value": "home-2026"},
    ])
    lead_id = post(LEAD).json()["lead_id"]
    dispatch = settled(hub, lead_id, "accepted")
    assert dispatch.remote_id == f"r-{lead_id}"
    (ctx,) = recorder
    assert ctx.payload == {"Name": "Ann <ann@example.com>", "Phone": "447911123456", "Campaign": "home-2026"}
    assert ctx.idempotency_key == f"leadhub-dispatch-{dispatch.id}"
    (attempt,) = attempts_of(hub, dispatch.id)
    assert attempt.outcome == "accepted" and attempt.number == 1 and attempt.duration_ms >= 0


def test_transient_failures_retry_with_backoff_then_succeed(hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder",
                 config={"outcomes": ["failed", "failed", "accepted"]})
    lead_id = post(LEAD).json()["lead_id"]
    dispatch = settled(hub, lead_id, "accepted")
    assert [a.outcome for a in attempts_of(hub, dispatch.id)] == ["failed", "failed", "accepted"]
    assert dispatch.attempts == 3 and dispatch.last_error == ""


def test_dead_after_max_attempts_then_replayed_through_the_api(hub, post, client, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder", max_attempts=2,
                 config={"outcomes": ["failed", "failed", "accepted"]})
    lead_id = post(LEAD).json()["lead_id"]
    dead = settled(hub, lead_id, "dead")
    assert dead.attempts == 2 and "buyer down" in dead.last_error
    token = create_token(hub.engine, "test")
    answer = client.post(f"/api/v1/dispatches/{dead.id}/replay", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["replayed"] == 1
    assert settled(hub, lead_id, "accepted").attempts == 3


def test_rejected_is_final(hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder", config={"outcomes": ["rejected", "accepted"]})
    lead_id = post(LEAD).json()["lead_id"]
    dispatch = settled(hub, lead_id, "rejected")
    assert dispatch.last_error == "buyer said no"
    post({**LEAD, "email": "other@example.com"})  # give the worker time to (not) retry the first one
    wait_until(lambda: len(recorder) == 2)
    assert len(attempts_of(hub, dispatch.id)) == 1


def test_a_plugin_exception_is_a_failed_attempt_not_a_dead_worker(hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder", config={"outcomes": ["raise", "accepted"]})
    lead_id = post(LEAD).json()["lead_id"]
    dispatch = settled(hub, lead_id, "accepted")
    first = attempts_of(hub, dispatch.id)[0]
    assert first.outcome == "failed" and "RuntimeError" in first.message


def test_secrets_are_masked_in_attempts(hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder", max_attempts=1,
                 config={"outcomes": ["failed"], "token": "tok-SECRET-123"})
    lead_id = post(LEAD).json()["lead_id"]
    dispatch = settled(hub, lead_id, "dead")
    assert recorder[0].config.token == "tok-SECRET-123"  # the channel gets the real value
    (attempt,) = attempts_of(hub, dispatch.id)
    stored = repr((attempt.message, attempt.request, attempt.response, dispatch.last_error))
    assert "tok-SECRET-123" not in stored and "********" in stored
    with Session(hub.engine) as session:
        from hub.models import Delivery

        config = session.exec(select(Delivery.config)).one()
    assert "tok-SECRET-123" not in repr(config)  # encrypted at rest


def test_mapping_error_rejects_with_the_target_named(hub, post, recorder):
    add_delivery(hub, "rec", sources=["form"], channel="recorder",
                 mapping=[{"target": "Age", "source": "first_name", "transforms": ["number"]}])
    lead_id = post(LEAD).json()["lead_id"]
    dispatch = settled(hub, lead_id, "rejected")
    assert "Age" in dispatch.last_error
    assert recorder == []


def test_dispatch_finished_hook_sees_every_attempt(tmp_path, recorder, hub_env):
    from litestar.testing import TestClient

    from hub.testing.hub import add_source, make_test_hub
    from hub.testing.recorder import RecorderPlugin
    from hub.web.app import create_app

    seen: list[tuple[str, str]] = []

    class Watcher:
        @hookimpl
        def leadhub_dispatch_finished(self, dispatch, attempt):  # type: ignore[no-untyped-def]
            seen.append((dispatch["delivery"], attempt["outcome"]))

        @hookimpl
        def leadhub_lead_received(self, lead):  # type: ignore[no-untyped-def]
            raise RuntimeError("a broken listener must not matter")

    hub = make_test_hub(tmp_path, plugins=[("recorder", RecorderPlugin()), ("watcher", Watcher())], env=hub_env)
    add_source(hub, "form", [{"name": "email", "type": "email"}], api_key="k")
    add_delivery(hub, "rec", sources=["form"], channel="recorder", config={"outcomes": ["failed", "accepted"]})
    with TestClient(create_app(hub, embedded=True)) as client:
        assert client.post("/webhooks/form?key=k", json={"email": "a@example.com"}).status_code == 202
        wait_until(lambda: len(seen) == 2)
    assert seen == [("rec", "failed"), ("rec", "accepted")]


def test_a_try_that_outlived_its_lease_is_logged_but_the_new_holder_moves_the_dispatch(hub):
    """The ledger's record, on each database (one statement on PostgreSQL, two on SQLite)."""
    add_delivery(hub, "rec", sources=["form"], channel="recorder")
    (dispatch_id,) = store_leads(hub, "form", [LEAD], "s3cret-key")  # the conftest source's key
    sql = DriverSql(hub.engine.dialect.name)

    def claim(now):  # type: ignore[no-untyped-def]
        with hub.engine.connect() as conn:
            with sql.transaction(conn):
                claiming = ledger.claim(sql, conn, [dispatch_id], lease_seconds=60, now=now)
            return claiming.read(sql)[dispatch_id].taken

    def record(taken, outcome, remote_id):  # type: ignore[no-untyped-def]
        now = utcnow()
        attempt = dict(dispatch_id=dispatch_id, number=taken.attempt, started_at=now, duration_ms=1.0,
                       outcome=outcome, message=outcome, remote_id=remote_id, request={}, response={}, details={})
        values = {"status": outcome, "updated_at": now, "last_error": "", "next_attempt_at": None,
                  **({"remote_id": remote_id} if remote_id else {})}
        with hub.engine.connect() as conn:
            with sql.transaction(conn):
                ledger.store(sql, conn, [{"claim": taken, "attempt": attempt, "dispatch": values}])

    def dispatch() -> Dispatch:
        with Session(hub.engine) as session:
            return session.get(Dispatch, dispatch_id)

    first = claim(utcnow())
    second = claim(utcnow() + timedelta(minutes=2))  # the first lease (60 s) ran out: another worker took over
    record(first, "failed", None)
    late = dispatch()
    assert late.status == "pending" and late.leased_until is not None  # still the second worker's
    record(second, "accepted", "r-7")
    done = dispatch()
    assert (done.status, done.remote_id, done.leased_until) == ("accepted", "r-7", None)
    assert [(a.number, a.outcome, a.remote_id) for a in attempts_of(hub, dispatch_id)] == [
        (1, "failed", None), (2, "accepted", "r-7")]
