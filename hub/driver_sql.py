"""SQL text run straight on the database driver's cursor, for the few statements on the hot path.

SQLAlchemy's per-call work (compiled-cache lookup, bind and result processors,
execution context) cost more than SQLite took to run the delivery ledger's
statements. Here a statement is written once with ``:name`` parameters and
runs on the cursor of a SQLAlchemy connection, so the engine still owns
pooling, and on SQLite the transaction and its write lock (hub.db). What
SQLAlchemy's types did is done here by hand: times are bound as SQLite's
DATETIME text or as aware datetimes for PostgreSQL, and JSON is encoded with
msgspec.

On PostgreSQL a :meth:`DriverSql.transaction` sends its BEGIN, its statements
and its COMMIT in one go (psycopg's pipeline mode), so a batch of the ledger
costs one round trip to the server instead of one per statement; the rows a
statement returns are read from its :class:`Rows` after the block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from hub.db import json_text

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class DriverSql:
    """The SQL text, time and JSON conventions of one database dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    @lru_cache(maxsize=256)  # noqa: B019 - a few statements (times the IN-list lengths), one instance per runner
    def text(self, sql: str) -> str:
        """``sql`` with ``:name`` parameters in the driver's style (sqlite3 takes them as they are)."""
        return sql if self.sqlite else _PARAM.sub(r"%(\1)s", sql)

    def time(self, value: datetime | None) -> Any:
        """A time as SQLAlchemy's UTC DateTime columns store it (naive UTC text on SQLite)."""
        if value is None or not self.sqlite:
            return value
        utc = value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds")

    json = staticmethod(json_text)  # the engine's own JSON column encoder

    @staticmethod
    def from_json(value: Any) -> Any:
        """A JSON column's value: SQLite gives text, psycopg gives it decoded."""
        return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value

    @contextmanager
    def transaction(self, conn: Connection) -> Iterator[None]:
        """One transaction on ``conn``, committed at the end of the block, rolled back on any error.

        SQLite is in-process: this is the engine's own transaction (BEGIN IMMEDIATE under
        hub.db's write lock) and statements run as they are sent. On PostgreSQL nothing
        goes to the server until the block ends, unless a statement's rows are read in it.
        A driver's error comes out as SQLAlchemy's (OperationalError, IntegrityError...),
        as it would from the engine.
        """
        try:
            if self.sqlite:
                with conn.begin():
                    yield
                return
            driver = conn.connection.dbapi_connection
            # Our own BEGIN and COMMIT: psycopg waits for the server after the ones it sends itself.
            driver.autocommit = True
            try:
                with driver.pipeline():
                    driver.execute("BEGIN")
                    yield
                    driver.execute("COMMIT")
            except BaseException:
                with suppress(Exception):  # a broken connection cannot roll back; its owner discards it
                    driver.rollback()
                raise
            finally:
                with suppress(Exception):
                    driver.autocommit = False  # as the pool handed it out
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(None, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect) from exc

    def send(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> Rows:
        """Run a statement that returns rows (a SELECT, or with RETURNING) in ``conn``'s transaction.

        On PostgreSQL it is only queued: read its rows from the result, after the transaction
        if they can wait (see :class:`Rows`).
        """
        cursor = conn.connection.cursor()
        cursor.execute(self.text(sql), params)
        if self.sqlite:  # rows are here already: keep them, not the cursor
            try:
                return Rows(rows=cursor.fetchall() if cursor.description else [])
            finally:
                cursor.close()
        return Rows(cursor=cursor)

    def reserve_ids(self, conn: Connection, table: str, count: int) -> Rows:
        """``count`` ids for new rows of ``table`` (an integer ``id`` key), to insert with the rows.

        A row whose id is known before it is inserted can have its children sent with it.
        PostgreSQL's sequence hands the ids out (unused ones are gaps, as after any rollback);
        on SQLite, whose writer holds the database's lock, they count on from the largest id,
        as SQLite itself would.
        """
        if self.sqlite:
            ((largest,),) = self.execute(conn, f"SELECT COALESCE(MAX(id), 0) FROM {table}", {})
            return Rows(rows=[(largest + n,) for n in range(1, count + 1)])
        return self.send(conn, f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                               "FROM generate_series(1, :count)", {"count": count})

    def execute(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a statement that returns rows in ``conn``'s transaction, and wait for them."""
        return self.send(conn, sql, params).all()

    def execute_many(self, conn: Connection, sql: str, params: Iterable[Mapping[str, Any]]) -> None:
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(self.text(sql), list(params))
        finally:
            cursor.close()


class Rows:
    """The rows of a statement run by :meth:`DriverSql.send`.

    On PostgreSQL in a :meth:`DriverSql.transaction`, asking for them inside the block
    waits there for the server (one round trip for all that was sent until then).
    """

    __slots__ = ("_cursor", "_rows")

    def __init__(self, *, cursor: Any = None, rows: list[tuple[Any, ...]] | None = None) -> None:
        self._cursor = cursor
        self._rows = rows

    def all(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            try:
                self._rows = self._cursor.fetchall()
            finally:
                self._cursor.close()
                self._cursor = None
        return self._rows


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """An ``IN (...)`` list of ``values`` as named parameters: the SQL fragment and its parameters."""
    names = [f"{name}_{i}" for i in range(len(values))]
    return "(" + ", ".join(f":{n}" for n in names) + ")", dict(zip(names, values))
