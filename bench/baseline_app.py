"""The baseline: a bare Litestar app that durably stores each JSON lead in SQLite (WAL) and answers 202.

With BASELINE_DB set to a postgresql:// URL it stores into PostgreSQL instead (the `--production` baseline).

With BASELINE_SINK set, it also posts each lead to that URL inline before answering (the end-to-end baseline),
BASELINE_COPIES times (default 1: the fan-out baseline posts each lead as often as Leadhub delivers it).
Run: uvicorn bench.baseline_app:app (the same server and settings as leadhub serve).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

import httpx
import msgspec
from litestar import Litestar, Response, post
from litestar.params import RawBody

DB = os.environ.get("BASELINE_DB", "/tmp/baseline.db")
SINK = os.environ.get("BASELINE_SINK", "")
COPIES = int(os.environ.get("BASELINE_COPIES", "1"))
_local = threading.local()
_client = httpx.Client(limits=httpx.Limits(max_connections=100), timeout=30) if SINK else None
logging.getLogger("httpx").setLevel(logging.WARNING)


POSTGRES = DB.startswith("postgresql://")


def _connect():  # type: ignore[no-untyped-def]
    if POSTGRES:
        import psycopg

        return psycopg.connect(DB, autocommit=True)  # each INSERT its own committed transaction
    db = sqlite3.connect(DB, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _setup() -> None:
    """Once, before any thread: WAL and the table."""
    db = _connect()
    if POSTGRES:
        db.execute("CREATE TABLE IF NOT EXISTS lead (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)")
    else:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS lead (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    db.close()


_setup()
INSERT = "INSERT INTO lead (body) VALUES (%s) RETURNING id" if POSTGRES else "INSERT INTO lead (body) VALUES (?)"


def _db() -> sqlite3.Connection:
    if not hasattr(_local, "db"):
        _local.db = _connect()
    return _local.db


@post("/ingest", sync_to_thread=True, status_code=202)
def ingest(body: RawBody) -> Response[bytes]:
    lead = msgspec.json.decode(body)
    if not isinstance(lead, dict):
        return Response(b'{"error":"not an object"}', status_code=422)
    cursor = _db().execute(INSERT, (msgspec.json.encode(lead).decode(),))
    lead_id = cursor.fetchone()[0] if POSTGRES else cursor.lastrowid
    if _client is not None:
        for _ in range(COPIES):
            _client.post(SINK, content=body, headers={"Content-Type": "application/json"})
    return Response(b'{"lead_id":%d,"status":"accepted"}' % lead_id, status_code=202)


app = Litestar(route_handlers=[ingest])
