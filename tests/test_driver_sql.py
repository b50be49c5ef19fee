"""The ledger's driver-level SQL binds values exactly as SQLAlchemy stores them (hub.driver_sql)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, MetaData, Table, insert, text
from sqlmodel.sql.sqltypes import UTCDateTime

from hub.driver_sql import DriverSql, in_list
from hub.testing.hub import make_test_hub


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
