"""A lead that was committed is delivered, even when the process dies before the broker send."""

from __future__ import annotations

import httpx
from sqlmodel import Session, select

from hub.models import Dispatch, Lead
from hub.testing.hub import add_delivery, add_source, make_test_hub, wait_until
from hub.testing.process import HubProcess

FAST_ENV = {"HUB_SWEEP_INTERVAL": "0.2", "HUB_SWEEP_GRACE": "1", "HUB_RETRY_BASE_SECONDS": "0.2"}


def test_kill_between_commit_and_send_then_the_sweeper_delivers(tmp_path, http_peer):
    hub = make_test_hub(tmp_path)
    add_source(hub, "form", [{"name": "email", "type": "email", "required": True}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post",
                 config={"url": f"{http_peer.url}/leads", "format": "json"},
                 mapping=[{"target": "Email", "source": "email"}])
    env = {"HUB_DATA_DIR": str(tmp_path), **FAST_ENV}

    doomed = HubProcess({**env, "HUB_FAULT": "after-commit"}, tmp_path / "serve-1.log").start()
    try:
        httpx.post(f"{doomed.url}/webhooks/form?key=k", json={"email": "ann@example.com"}, timeout=10)
        raise AssertionError("the server answered although it should have died after the commit")
    except httpx.HTTPError:
        pass
    assert doomed.wait() == -9
    with Session(hub.engine) as session:
        (lead,) = session.exec(select(Lead)).all()
        (dispatch,) = session.exec(select(Dispatch)).all()
    assert dispatch.status == "pending" and http_peer.requests == []

    revived = HubProcess(env, tmp_path / "serve-2.log").start()
    try:
        (request,) = http_peer.wait_for(1, timeout=15)
        assert request.json() == {"Email": "ann@example.com"}
        assert request.headers["Idempotency-Key"] == f"leadhub-dispatch-{dispatch.id}"

        def accepted() -> bool:
            with Session(hub.engine) as session:
                return session.get(Dispatch, dispatch.id).status == "accepted"

        wait_until(accepted)
        # And the revived process goes on taking and delivering new leads.
        answer = httpx.post(f"{revived.url}/webhooks/form?key=k", json={"email": "bo@example.com"}, timeout=10)
        assert answer.status_code == 202
        http_peer.wait_for(2, timeout=10)
    finally:
        revived.stop()
    assert len(http_peer.requests) == 2  # exactly once each


def test_a_retry_waiting_in_the_in_memory_broker_survives_a_restart(tmp_path, http_peer):
    hub = make_test_hub(tmp_path)
    add_source(hub, "form", [{"name": "email", "type": "email", "required": True}], api_key="k")
    add_delivery(hub, "buyer", sources=["form"], channel="http_post",
                 config={"url": f"{http_peer.url}/leads", "format": "json"})
    env = {"HUB_DATA_DIR": str(tmp_path), **FAST_ENV, "HUB_RETRY_BASE_SECONDS": "3"}
    http_peer.respond(status=503)
    first = HubProcess(env, tmp_path / "serve-1.log").start()
    assert httpx.post(f"{first.url}/webhooks/form?key=k", json={"email": "a@example.com"}).status_code == 202
    http_peer.wait_for(1)

    def status() -> str:
        with Session(hub.engine) as session:
            return session.exec(select(Dispatch.status)).one()

    wait_until(lambda: status() == "failed")
    first.kill()  # the delayed retry message dies with the StubBroker

    http_peer.respond(status=200, json={"ok": True})
    second = HubProcess(env, tmp_path / "serve-2.log").start()
    try:
        http_peer.wait_for(2, timeout=20)

        wait_until(lambda: status() == "accepted")
    finally:
        second.stop()
