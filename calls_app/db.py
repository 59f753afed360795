"""The engine, write transactions and the declarative base shared by models and migrations."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# One naming convention so Alembic names constraints the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The autocommit engine of each PostgreSQL engine make_engine made; it goes with its engine.
_autocommit_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def make_engine(url: URL) -> Engine:
    """An engine tuned for concurrent request threads on either backend."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per checkout; a connection the server dropped is
    # detected on use and the pool refilled, and none is kept long enough to be cut idle.
    engine = create_engine(url, pool_size=5, max_overflow=5, pool_recycle=1800)
    # Reads and one-statement writes, most statements, get connections of their own that stay
    # in autocommit mode: switching a pooled connection's mode at each checkout, and the
    # ROLLBACK SQLAlchemy sends when one is returned, cost CPU on every statement.
    autocommit = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        skip_autocommit_rollback=True,
        pool_size=10,
        max_overflow=10,
        pool_recycle=1800,
    )
    _autocommit_engines[engine] = autocommit
    event.listen(engine, "engine_disposed", lambda _: autocommit.dispose())
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL loses nothing when the app dies; only an OS crash can cost the last
    # commits. It spares an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def reading(engine: Engine) -> Callable[[], AbstractContextManager[Connection]]:
    """A connection for reads: on PostgreSQL in autocommit mode (no BEGIN or ROLLBACK round
    trips), on SQLite the process's store connection."""
    if engine.dialect.name == "sqlite":
        return _store_connection(engine).transaction
    return autocommitting(engine).connect


def writing(
    engine: Engine, *, one_statement: bool = False
) -> Callable[[], AbstractContextManager[Connection]]:
    """A write transaction. With `one_statement`, for a write that is a single statement
    (atomic by itself), PostgreSQL runs it in autocommit mode: no BEGIN and COMMIT round trips.
    On SQLite it is a transaction on the process's store connection."""
    if engine.dialect.name == "sqlite":
        return _store_connection(engine).transaction
    return autocommitting(engine).connect if one_statement else engine.begin


class _SqliteStoreConnection:
    """The one connection a process's store uses on a SQLite file, one thread at a time.

    SQLite allows one writer at a time anyway; within a process, writers queue on a lock
    instead of sleeping in SQLite's busy handler. Reads take the same connection too: SQLite
    empties a connection's page cache whenever another connection has written, so with a
    connection per request thread every statement read its pages again (about 60 reads of
    the WAL file per call life), which cost more CPU than the statements themselves."""

    def __init__(self, engine: Engine) -> None:
        # Weak: this object is kept per engine (below), and must not keep its engine alive.
        self._engine = weakref.ref(engine)
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._pid = 0

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                # Opened in the process that uses it: a forked worker never shares its parent's.
                engine = self._engine()
                assert engine is not None, "the engine was garbage-collected"
                self._connection, self._pid = engine.connect(), os.getpid()
            with self._connection.begin():
                yield self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


_store_connections: WeakKeyDictionary[Engine, _SqliteStoreConnection] = WeakKeyDictionary()
_store_connections_lock = threading.Lock()


def _store_connection(engine: Engine) -> _SqliteStoreConnection:
    with _store_connections_lock:
        found = _store_connections.get(engine)
        if found is None:
            found = _store_connections[engine] = _SqliteStoreConnection(engine)
            # Disposing of an engine closes the connections in its pool, not one checked out.
            event.listen(engine, "engine_disposed", lambda _: found.close())
    return found


def autocommitting(engine: Engine) -> Engine:
    """The engine of PostgreSQL reads and one-statement writes: every statement commits on its
    own, which spares a BEGIN and a COMMIT (or ROLLBACK) round trip. SQLite has none: its
    driver opens no transaction for a read anyway, and it would cost a PRAGMA per use."""
    if engine.dialect.name == "sqlite":
        return engine
    return _autocommit_engines[engine]
