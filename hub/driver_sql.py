"""SQL text run straight on the database driver's cursor, for the few statements on the hot path.

SQLAlchemy's per-call work (compiled-cache lookup, bind and result processors,
execution context) cost more than SQLite took to run the delivery ledger's
statements. Here a statement is written once with ``:name`` parameters and
runs on the cursor of a SQLAlchemy connection, in that connection's
transaction, so the engine still owns pooling, BEGIN/COMMIT and the SQLite
write lock (hub.db). What SQLAlchemy's types did is done here by hand: times
are bound as SQLite's DATETIME text or as aware datetimes for PostgreSQL, and
JSON is encoded with msgspec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy.engine import Connection

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

    def execute(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run one statement in ``conn``'s transaction; returns its rows (if any)."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.text(sql), params)
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()

    def execute_many(self, conn: Connection, sql: str, params: Iterable[Mapping[str, Any]]) -> None:
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(self.text(sql), list(params))
        finally:
            cursor.close()


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """An ``IN (...)`` list of ``values`` as named parameters: the SQL fragment and its parameters."""
    names = [f"{name}_{i}" for i in range(len(values))]
    return "(" + ", ".join(f":{n}" for n in names) + ")", dict(zip(names, values))
