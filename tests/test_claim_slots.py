"""A worker leases only as many dispatches as it has delivery threads for, plus a short queue."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from hub.batching import GroupCommit
from hub.delivery.runner import ClaimSlots, DeliveryRunner
from hub.delivery.service import make_http_client
from hub.models import Dispatch
from hub.testing.http_peer import HttpPeer
from hub.testing.hub import add_delivery, add_source, make_test_hub, store_leads


def test_slots_are_taken_in_chunks_and_never_beyond_the_total() -> None:
    slots = ClaimSlots(total=4, chunk=2)
    assert slots.take(10) == 4
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(slots.take(3)))
    waiter.start()
    slots.give()
    time.sleep(0.1)
    assert got == []  # one free slot is less than a chunk: the message waits rather than claim one dispatch
    slots.give()
    waiter.join(timeout=2)
    assert got == [2]


def test_a_slow_buyer_never_has_more_dispatches_leased_than_slots(tmp_path: Path) -> None:
    hub = make_test_hub(tmp_path)
    add_source(hub, "form", [{"name": "email", "type": "email"}], api_key="k")
    with HttpPeer() as buyer:
        buyer.respond(status=200, body="ok", delay=0.15)
        add_delivery(hub, "slow", sources=["form"], channel="http_post", config={"url": f"{buyer.url}/leads"})
        ids = store_leads(hub, "form", ({"email": f"lead{n}@example.com"} for n in range(12)), "k")
        runner = DeliveryRunner(hub, make_http_client(2), lambda *_: None, threads=2)  # 4 slots
        most_leased = 0
        statuses: dict = {}
        # One message of ten and two of one id each, claimed side by side: 4 leases at most, still.
        messages = [ids[:10], ids[10:11], ids[11:]]
        batches = [threading.Thread(target=lambda m=m: statuses.update(runner.run_batch(m))) for m in messages]
        for batch in batches:
            batch.start()
        while any(batch.is_alive() for batch in batches):
            with hub.engine.connect() as conn:
                leased = conn.execute(select(func.count()).select_from(Dispatch)
                                      .where(Dispatch.leased_until.is_not(None))).scalar_one()
            most_leased = max(most_leased, leased)
            time.sleep(0.02)
        runner.close()
    assert len(statuses) == 12 and {s.value for s in statuses.values()} == {"accepted"}
    assert 2 <= most_leased <= 4  # two trying, at most two more claimed and waiting for a thread
    hub.engine.dispose()


def test_records_wait_for_company_but_a_claim_goes_at_once() -> None:
    batches: list[list[str]] = []
    ledger: GroupCommit[str, str] = GroupCommit("probe", lambda jobs: batches.append(list(jobs)) or jobs, linger=0.3)
    started = time.monotonic()
    records = [ledger.submit(f"record-{n}", urgent=False) for n in range(3)]
    time.sleep(0.05)
    assert ledger.run("claim") == "claim" and time.monotonic() - started < 0.25  # did not wait out the linger
    assert all(r.done() for r in records) and batches == [["record-0", "record-1", "record-2", "claim"]]
    alone = ledger.submit("record-3", urgent=False)
    alone.result(timeout=2)  # nobody else came: it went when the linger was over
    assert batches[-1] == ["record-3"] and time.monotonic() - started >= 0.3
    ledger.close()
