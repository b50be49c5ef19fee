"""Export runs end to end on the embedded default, with the built-in directory transport."""

from __future__ import annotations

import csv
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from hub.export.runs import ExportRunner, rerun, run_now
from hub.export.scheduler import expire_files, fire_due, tick
from hub.models import Export, ExportRun, Lead, Source, utcnow
from hub.runtime import open_hub
from hub.testing.hub import add_export


def add_lead(hub, email: str, at: datetime, status: str = "accepted", postcode: str = "SW1") -> int:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        source_id = session.exec(select(Source.id).where(Source.slug == "form")).one()
        lead = Lead(source_id=source_id, received_at=at, status=status,
                    fields={"first_name": "Ann", "email": email, "postcode": postcode})
        session.add(lead)
        session.commit()
        return lead.id


def set_created(hub, export_id: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    with Session(hub.engine) as session:
        export = session.get(Export, export_id)
        export.created_at = at
        session.add(export)
        session.commit()


def rows_of(path) -> list[list[str]]:  # type: ignore[no-untyped-def]
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def outbox(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "outbox"
    folder.mkdir()
    return folder


@pytest.fixture
def daily(hub, outbox):  # type: ignore[no-untyped-def]
    export_id = add_export(hub, "daily", sources=["form"], transport="directory", config={"path": str(outbox)},
                           schedule="0 9 * * *", timezone="UTC", filename="leads-{{ date }}.csv",
                           filter="postcode startswith 'SW'",
                           mapping=[{"target": "Email", "source": "email"},
                                    {"target": "Name", "template": "{{ first_name | upper }}"}])
    set_created(hub, export_id, datetime(2026, 11, 1, tzinfo=UTC))
    return export_id


def test_run_now_writes_the_mapped_filtered_leads(hub, daily, outbox):
    now = utcnow()
    add_lead(hub, "a@example.com", now - timedelta(hours=1))
    add_lead(hub, "b@example.com", now - timedelta(hours=1), postcode="M1")  # filtered out
    add_lead(hub, "c@example.com", now - timedelta(hours=1), status="duplicate")  # never exported
    run = ExportRunner(hub).execute(run_now(hub, "daily").id)
    assert run.status == "succeeded" and run.row_count == 1 and run.kind == "manual"
    (written,) = outbox.iterdir()
    assert written.name == f"leads-{now:%Y-%m-%d}.csv" and run.location == str(written)
    assert rows_of(written) == [["Email", "Name"], ["a@example.com", "ANN"]]
    assert len(run.sha256) == 64 and run.byte_size == written.stat().st_size


def test_scheduled_windows_neither_repeat_nor_skip_a_lead(hub, daily, outbox):
    add_lead(hub, "before@example.com", datetime(2026, 11, 20, 8, tzinfo=UTC))
    add_lead(hub, "between@example.com", datetime(2026, 11, 20, 10, tzinfo=UTC))
    runner = ExportRunner(hub)
    # The hub was down for weeks: one run on start, not one per missed day.
    assert len(fire_due(hub, datetime(2026, 11, 20, 9, 30, tzinfo=UTC))) == 1
    assert fire_due(hub, datetime(2026, 11, 20, 9, 31, tzinfo=UTC)) == []
    assert len(tick(hub, runner, datetime(2026, 11, 20, 9, 31, tzinfo=UTC))) == 1
    add_lead(hub, "later@example.com", datetime(2026, 11, 21, 8, 59, tzinfo=UTC))
    tick(hub, runner, datetime(2026, 11, 21, 9, 0, 5, tzinfo=UTC))
    with Session(hub.engine) as session:
        runs = session.exec(select(ExportRun).order_by(ExportRun.id)).all()
    assert [(r.window_start, r.window_end, r.row_count) for r in runs] == [
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 20, 9, tzinfo=UTC), 1),
        (datetime(2026, 11, 20, 9, tzinfo=UTC), datetime(2026, 11, 21, 9, tzinfo=UTC), 2),
    ]


def test_two_schedulers_racing_fire_each_run_once(hub, daily, tmp_path):
    hubs = [open_hub(hub.settings, hub.registry) for _ in range(4)]
    barrier = threading.Barrier(len(hubs))
    created: list[list[int]] = []

    def race(other) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        created.append(fire_due(other, datetime(2026, 11, 20, 9, 30, tzinfo=UTC)))

    threads = [threading.Thread(target=race, args=(h,)) for h in hubs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(c) for c in created) == [0, 0, 0, 1]


def test_a_failing_transport_retries_then_fails_and_a_rerun_sends_the_same_window(hub, daily, outbox):
    add_lead(hub, "a@example.com", datetime(2026, 11, 20, 8, tzinfo=UTC))
    with Session(hub.engine) as session:
        export = session.get(Export, daily)
        export.max_attempts = 2
        session.add(export)
        session.commit()
    shutil.rmtree(outbox)
    runner = ExportRunner(hub)
    (run_id,) = fire_due(hub, datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    first = runner.execute(run_id)
    assert first.status == "retrying" and "not a folder" in first.message
    assert runner.execute(run_id) is None  # not due yet
    with Session(hub.engine) as session:
        session.get(ExportRun, run_id).next_attempt_at = utcnow()
        session.commit()
    assert runner.execute(run_id).status == "failed"
    outbox.mkdir()
    again = runner.execute(rerun(hub, run_id).id)
    assert again.status == "succeeded" and again.rerun_of == run_id and again.row_count == 1
    assert (again.window_start, again.window_end) == (first.window_start, first.window_end)


def test_password_zip_and_retention(hub, outbox):
    add_export(hub, "zipped", sources=["form"], transport="directory", config={"path": str(outbox)},
               zip_password="open sesame", retention_days=1)
    add_lead(hub, "a@example.com", utcnow())
    run = ExportRunner(hub).execute(run_now(hub, "zipped").id)
    assert run.status == "succeeded" and run.filename.endswith(".zip")
    (sent,) = outbox.iterdir()
    extracted = outbox / "x"
    subprocess.run(["7z", "x", "-popen sesame", f"-o{extracted}", str(sent)], check=True, capture_output=True)
    (inner,) = extracted.iterdir()
    assert rows_of(inner)[1][1] == "a@example.com"  # no mapping: the source's fields in spec order
    assert expire_files(hub, utcnow()) == 0
    assert expire_files(hub, utcnow() + timedelta(days=2)) == 1
    with Session(hub.engine) as session:
        assert session.get(ExportRun, run.id).file_path is None
