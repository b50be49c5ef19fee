"""Scaled out on PostgreSQL + Redis: two `serve`, three `worker` and two `scheduler` processes on one database."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta

import httpx
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import update
from sqlmodel import Session, select

from hub.config.apply import apply_document
from hub.db import make_engine
from hub.migrate import alembic_config, upgrade
from hub.models import Dispatch, Export, ExportRun, utcnow
from hub.testing.hub import make_test_hub, wait_until
from hub.testing.process import HubProcess
from hub.testing.services import postgres_database, require_service


def test_each_lead_reaches_the_buyer_once_and_each_export_run_fires_once(tmp_path, http_peer):
    require_service("redis")
    with postgres_database() as database:
        broker = "redis://127.0.0.1:6379/15"
        env = {"HUB_DATA_DIR": str(tmp_path), "HUB_DATABASE_URL": database, "HUB_BROKER_URL": broker,
               "HUB_QUEUE_NAME": f"leadhub_test_{uuid.uuid4().hex[:8]}", "HUB_SWEEP_INTERVAL": "0.5",
               "HUB_SWEEP_GRACE": "5", "HUB_SECRET_KEY": "one-key-for-every-process"}
        hub = make_test_hub(tmp_path, env={k: env[k] for k in ("HUB_DATABASE_URL", "HUB_BROKER_URL", "HUB_SECRET_KEY")})
        outbox = tmp_path / "outbox"
        outbox.mkdir()
        apply_document(hub, {
            "sources": [{"slug": "form", "api_key": "k", "fields": [{"name": "email", "type": "email"}]}],
            "buyers": [{"slug": "acme"}],
            "deliveries": [{"slug": "buyer", "sources": ["form"], "channel": "http_post",
                            "config": {"url": f"{http_peer.url}/leads"},
                            "mapping": [{"target": "Email", "source": "email"}]}],
            "exports": [{"slug": "minutely", "buyer": "acme", "sources": ["form"], "schedule": "* * * * *",
                         "transport": "directory", "config": {"path": str(outbox)}}],
        })
        with Session(hub.engine) as session:  # due at once: created before the last minute began
            session.execute(update(Export).values(created_at=utcnow() - timedelta(minutes=5)))
            session.commit()
        processes = [HubProcess(env, tmp_path / f"serve-{n}.log").start() for n in range(2)]
        processes += [HubProcess(env, tmp_path / f"{kind}-{n}.log", command=kind).start()
                      for kind, count in (("worker", 3), ("scheduler", 2)) for n in range(count)]
        try:
            sent = [f"lead{n}@example.com" for n in range(60)]
            for n, email in enumerate(sent):
                server = processes[n % 2]
                assert httpx.post(f"{server.url}/webhooks/form?key=k", json={"email": email}).status_code == 202

            def accepted() -> bool:
                with Session(hub.engine) as session:
                    return Counter(session.exec(select(Dispatch.status)).all()) == Counter({"accepted": 60})

            wait_until(accepted, timeout=60)
            time.sleep(12)  # a few scheduler ticks each, racing for the same fire time
        finally:
            for process in processes:
                process.stop()
        received = Counter(r.json()["Email"] for r in http_peer.requests)
        assert received == Counter(sent)  # every lead exactly once, although three workers shared them
        keys = Counter(r.headers["idempotency-key"] for r in http_peer.requests)
        assert len(keys) == 60 and set(keys.values()) == {1}
        with Session(hub.engine) as session:
            runs = session.exec(select(ExportRun).where(ExportRun.kind == "scheduled")).all()
        fire_times = Counter(run.fire_time for run in runs)
        assert runs and set(fire_times.values()) == {1}  # two schedulers, one run per fire time
        hub.engine.dispose()


def test_migrations_on_postgresql_from_empty_and_from_the_previous_schema():
    for start in (None, "0001"):
        with postgres_database() as database:
            engine = make_engine(database)
            if start:
                upgrade(engine, start)  # the previous release's schema
            upgrade(engine)
            head = ScriptDirectory.from_config(alembic_config(database)).get_current_head()
            with engine.connect() as connection:
                assert MigrationContext.configure(connection).get_current_revision() == head
            engine.dispose()
