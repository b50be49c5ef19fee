"""Driver-level SQL (hub.driver_sql): values bound as SQLAlchemy stores them, transactions, errors, ids."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import Column, MetaData, Table, insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel.sql.sqltypes import UTCDateTime

from hub.db import KeptConnection, make_engine
from hub.driver_sql import DriverSql, in_list
from hub.testing.hub import make_test_hub
from hub.testing.services import postgres_database


def test_times_bound_on_sqlite_are_the_text_sqlalchemy_stores(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Leases are compared as text on SQLite (leased_until < :now), so both writers must spell a time alike.
    hub = make_test_hub(tmp_path)
    sql = DriverSql("sqlite")
    aware = datetime(2026, 12, 3, 14, 5, 6, 7, tzinfo=timezone(timedelta(hours=2)))
    with hub.engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (at DATETIME)"))
        probe = Table("probe", MetaData(), Column("at", UTCDateTime()))  # as the models' time columns
        for moment in (aware, aware.replace(microsecond=0), datetime(2026, 1, 1, tzinfo=timezone.utc)):
            conn.execute(text("DELETE FROM probe"))
            conn.execute(insert(probe).values(at=moment))
            stored = conn.execute(text("SELECT at FROM probe")).scalar_one()
            assert sql.time(moment) == stored
    assert sql.time(None) is None
    hub.engine.dispose()


def test_postgresql_gets_its_own_parameter_style_and_aware_times() -> None:
    sql = DriverSql("postgresql")
    ids, params = in_list("id", [7, 9])
    statement = f"UPDATE dispatch SET leased_until = :lease WHERE id IN {ids} AND status = 'a:b'"
    assert sql.text(statement) == ("UPDATE dispatch SET leased_until = %(lease)s WHERE id IN (%(id_0)s, %(id_1)s) "
                                   "AND status = 'a:b'")
    assert params == {"id_0": 7, "id_1": 9}
    moment = datetime(2026, 12, 3, tzinfo=timezone.utc)
    assert sql.time(moment) is moment
    assert DriverSql.from_json('{"a": [1]}') == {"a": [1]} == DriverSql.from_json({"a": [1]})


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):  # type: ignore[no-untyped-def]
    """An engine on each database the hub runs on, with a ``probe`` table."""
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'probe.db'}" if request.param == "sqlite"
               else stack.enter_context(postgres_database()))
        engine = make_engine(url)
        key = "INTEGER PRIMARY KEY" if request.param == "sqlite" else "SERIAL PRIMARY KEY"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE probe (id {key}, name TEXT UNIQUE NOT NULL)"))
        yield engine
        engine.dispose()


def names(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM probe ORDER BY id")).scalars())


def test_a_driver_error_is_sqlalchemys_and_rolls_the_whole_transaction_back(engine) -> None:  # type: ignore[no-untyped-def]
    sql = DriverSql(engine.dialect.name)
    kept = KeptConnection(engine)
    conn = kept.get()
    with sql.transaction(conn):
        sql.execute_many(conn, "INSERT INTO probe (name) VALUES (:name)", [{"name": "a"}])
    with pytest.raises(IntegrityError):  # as the engine would raise it: the lead writer catches this one
        with sql.transaction(conn):
            sql.execute_many(conn, "INSERT INTO probe (name) VALUES (:name)", [{"name": "b"}, {"name": "a"}])
    assert names(engine) == ["a"]
    with sql.transaction(conn):  # the same connection goes on working
        assert sql.send(conn, "INSERT INTO probe (name) VALUES (:name) RETURNING name", {"name": "c"}).all() == [("c",)]
    assert names(engine) == ["a", "c"]
    kept.close()


def test_reserved_ids_are_new_and_taken_by_the_rows_that_use_them(engine) -> None:  # type: ignore[no-untyped-def]
    sql = DriverSql(engine.dialect.name)
    with engine.connect() as conn:
        with sql.transaction(conn):
            sql.execute_many(conn, "INSERT INTO probe (name) VALUES (:name)", [{"name": "first"}])
        with sql.transaction(conn):
            ids = sorted(row[0] for row in sql.reserve_ids(conn, "probe", 3).all())
            sql.execute_many(conn, "INSERT INTO probe (id, name) VALUES (:id, :name)",
                             [{"id": i, "name": f"n{i}"} for i in ids])
        with sql.transaction(conn):  # the table's own numbering carries on after them
            (after,), = sql.send(conn, "INSERT INTO probe (name) VALUES ('last') RETURNING id", {}).all()
    with engine.connect() as conn:
        first = conn.execute(text("SELECT id FROM probe WHERE name = 'first'")).scalar_one()
    assert len(set(ids)) == 3 and min(ids) > first and after > max(ids)


def test_a_kept_connection_is_reused_and_replaced_once_the_server_dropped_it() -> None:
    with postgres_database() as url:
        engine = make_engine(url)
        kept = KeptConnection(engine, ping_after=0.05)
        first = kept.get()
        pid = first.connection.dbapi_connection.info.backend_pid
        assert kept.get() is first  # used within ping_after: no ping, no checkout
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.1)
        again = kept.get()  # idle longer than ping_after: pinged, found dead, replaced
        assert again.connection.dbapi_connection.info.backend_pid != pid
        sql = DriverSql("postgresql")
        with sql.transaction(again):
            assert sql.send(again, "SELECT 1", {}).all() == [(1,)]
        kept.close()
        engine.dispose()
