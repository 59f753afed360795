"""The engine, write transactions and the declarative base shared by models and migrations."""

from __future__ import annotations

import threading
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
    """An engine tuned for concurrent request threads on either backend. Its errors never
    show the statement's parameters: they hold tokens (an install being saved)."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per checkout; a connection the server dropped is
    # detected on use and the pool refilled, and none is kept long enough to be cut idle.
    engine = create_engine(
        url, pool_size=5, max_overflow=5, pool_recycle=1800, hide_parameters=True
    )
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
        hide_parameters=True,
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


_sqlite_write_locks: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_locks_lock = threading.Lock()


def writing(
    engine: Engine, *, one_statement: bool = False
) -> Callable[[], AbstractContextManager[Connection]]:
    """A write transaction. With `one_statement`, for a write that is a single statement
    (atomic by itself), PostgreSQL runs it in autocommit mode: no BEGIN and COMMIT round trips.
    SQLite takes one writer at a time: within a process, writers queue on a lock instead of
    sleeping in SQLite's busy handler."""
    if engine.dialect.name != "sqlite":
        return autocommitting(engine).connect if one_statement else engine.begin
    with _locks_lock:
        lock = _sqlite_write_locks.setdefault(engine, threading.Lock())

    @contextmanager
    def one_writer() -> Iterator[Connection]:
        with lock, engine.begin() as connection:
            yield connection

    return one_writer


def autocommitting(engine: Engine) -> Engine:
    """The engine for reads and one-statement writes. On PostgreSQL every statement commits
    on its own, which spares a BEGIN and a COMMIT (or ROLLBACK) round trip. SQLite's driver
    opens no transaction for a read anyway, and switching modes would cost a PRAGMA per use."""
    if engine.dialect.name == "sqlite":
        return engine
    return _autocommit_engines[engine]
