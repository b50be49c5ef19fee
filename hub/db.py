"""The database engine and sessions; SQLite is tuned for durable, concurrent intake."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import msgspec
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine


def json_text(value: object) -> str:
    """A JSON column's text, as every writer stores it (the engine, and hub.driver_sql)."""
    return msgspec.json.encode(value).decode()


# JSON columns (lead fields above all) through msgspec: several times faster than the json module both ways.
JSON_CODEC = {"json_serializer": json_text, "json_deserializer": msgspec.json.decode}


def make_engine(database_url: str, sqlite_synchronous: str = "NORMAL") -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=20,
            **JSON_CODEC,
        )
        event.listen(engine, "connect", lambda conn, _rec: _sqlite_pragmas(conn, sqlite_synchronous))
        _serialize_writers(engine)
        WalCheckpointer(engine).start()
        return engine
    return create_engine(database_url, pool_size=20, max_overflow=20, pool_pre_ping=True, **JSON_CODEC)


class WriteLock:
    """The right to write: a thread lock, plus an ``flock`` on a file beside the database for other processes.

    SQLite's own busy handler sleeps 1, 2, 5, 10... ms between polls, and a lead
    batch waiting on the embedded worker child's transaction paid those sleeps.
    Here a waiting process polls the ``flock`` every 50-500 microseconds,
    and gives up after ``timeout`` seconds as SQLite would ("database is locked"),
    so a stuck writer elsewhere turns into errors (503s at the webhook), not a
    hang. Re-entrant, as one thread may begin a second connection's transaction
    inside its first.
    """

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None
        if self._fd is not None:
            weakref.finalize(self, os.close, self._fd)  # with its engine: tests make hundreds

    def acquire(self) -> None:
        self._thread_lock.acquire()
        self._depth += 1
        if self._depth == 1 and self._fd is not None:
            try:
                self._lock_file(self._fd)
            except BaseException:
                self._depth -= 1
                self._thread_lock.release()
                raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def _lock_file(self, fd: int) -> None:
        deadline = time.monotonic() + self.timeout
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None,
                                           sqlite3.OperationalError("database is locked")) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.0005)


def _serialize_writers(engine: Engine) -> None:
    """One SQLite transaction at a time, handed over by a lock instead of busy-waiting.

    SQLite allows one writer. Left to itself, a waiting thread sleeps and polls
    (busy_timeout), and with a dozen threads most time went to those sleeps. So
    every transaction starts with BEGIN IMMEDIATE (no failed read-to-write
    upgrades) under a :class:`WriteLock` released right after COMMIT/ROLLBACK.
    """
    database = engine.url.database or ""
    lock = WriteLock(f"{database}-writer.lock" if database not in ("", ":memory:") else "")
    holders: set[int] = set()  # ids of DBAPI connections whose transaction holds the lock

    def key(connection) -> int:  # type: ignore[no-untyped-def]
        # The dialect is handed the pool's proxy or the raw sqlite3 connection, depending on the caller.
        return id(getattr(connection, "dbapi_connection", connection))
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def begin(conn) -> None:  # type: ignore[no-untyped-def]
        lock.acquire()
        holders.add(key(conn.connection))
        try:
            # On the driver directly: through SQLAlchemy this one statement cost a tenth of a ledger batch.
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            _release(conn.connection)
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        except BaseException:
            _release(conn.connection)
            raise

    def _release(dbapi_conn) -> None:  # type: ignore[no-untyped-def]
        if key(dbapi_conn) in holders:
            holders.discard(key(dbapi_conn))
            lock.release()

    def finish(step):  # type: ignore[no-untyped-def]
        def run(dbapi_conn) -> None:  # type: ignore[no-untyped-def]
            try:
                step(dbapi_conn)
            finally:
                _release(dbapi_conn)

        return run

    event.listen(engine, "begin", begin)
    dialect.do_commit = finish(commit)  # type: ignore[method-assign]
    dialect.do_rollback = finish(rollback)  # type: ignore[method-assign]


def _sqlite_pragmas(dbapi_conn, synchronous: str) -> None:  # type: ignore[no-untyped-def]
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN IMMEDIATE
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash; only a power loss can drop the
    # last commits. README "Durability" states the trade-off; HUB_SQLITE_SYNCHRONOUS=FULL.
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class WalCheckpointer(threading.Thread):
    """Copies the WAL back into the database file twice a second, beside the writers instead of in their way.

    SQLite's own checkpoint runs in the commit that fills the WAL to 1000 pages,
    so one lead in a few thousand waited for all that copying. This thread does
    the copying first (a PASSIVE checkpoint blocks no one); the writer's own
    checkpoint then finds little left and still resets the WAL, keeping it small.
    It ends with its engine (a weak reference) or when the database file is gone.
    """

    def __init__(self, engine: Engine, interval: float = 0.5) -> None:
        super().__init__(name="leadhub-wal-checkpoint", daemon=True)
        self.engine_ref = weakref.ref(engine)
        self.path = engine.url.database or ""
        self.interval = interval

    def run(self) -> None:
        if self.path in ("", ":memory:"):
            return
        db: sqlite3.Connection | None = None
        try:
            while self.engine_ref() is not None and os.path.exists(self.path):
                time.sleep(self.interval)
                try:
                    db = db or sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, timeout=5,
                                               check_same_thread=False)
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # busy or gone: the loop condition and the next round decide
        finally:
            if db is not None:
                db.close()


class KeptConnection:
    """The connection one thread keeps between its transactions, instead of a pool checkout for each.

    On a database server a checkout, with the pool's pre-ping, cost a round trip
    and more CPU than a hot path's statements (the lead writer's batches, the
    dispatch ledger's). A connection left unused for ``ping_after`` seconds is
    pinged before it is handed out again, so one the server or a firewall
    dropped while idle is replaced, as the pre-ping did. After any error in a
    transaction, :meth:`discard` it: the next :meth:`get` starts afresh.
    """

    def __init__(self, engine: Engine, ping_after: float = 1.0) -> None:
        self.engine = engine
        self.ping_after = ping_after
        self._server = engine.dialect.name != "sqlite"  # SQLite is in-process: nothing to drop it while idle
        self._conn: Connection | None = None
        self._used = 0.0

    def get(self) -> Connection:
        now = time.monotonic()
        if self._conn is not None and self._server and now - self._used > self.ping_after and not self._alive():
            self.discard()
        if self._conn is None:
            self._conn = self.engine.connect()
        self._used = now
        return self._conn

    def close(self) -> None:
        """Give the connection back to the pool (at the end)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def discard(self) -> None:
        """Throw the connection away (after an error)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # it may be broken already: that is why it goes
                conn.invalidate()
            conn.close()

    def _alive(self) -> bool:
        driver = self._conn.connection.dbapi_connection  # type: ignore[union-attr]
        try:
            self.engine.dialect.do_ping(driver)
            driver.rollback()  # the ping's SELECT began a transaction on the server
            return True
        except Exception:  # noqa: BLE001 - any failure means "connect again"
            return False


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
