"""Everything the stores do differently on PostgreSQL and SQLite, in one place.

PostgreSQL runs some writes of several statements as one (data-modifying CTEs): one round trip
instead of a BEGIN, the statements and a COMMIT. SQLite runs them as they read, in one
transaction. Row locks (`with_for_update`) are left to SQLAlchemy, which renders them on
PostgreSQL only: SQLite's one writer at a time gives the same guarantee.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Engine, Insert, Row, bindparam, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from calls_app.db import writing
from calls_app.models import LIVE_MEETING_CALL
from calls_app.store.statements import (
    CLOSE_PARTICIPANTS,
    CLOSING,
    INSERT_PARTICIPANT,
    MARK_ENDED,
    calls,
    insert_invitations,
    participants,
)


def upsert_into(engine: Engine, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support, in the engine's database's dialect."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect}")


# Where the database refuses a second live call of a meeting (calls_app/models.py).
_MEETING_KEY = ["team_id", "meeting_id"]


def dialect_of(engine: Engine) -> Dialect:
    return PostgreSQL(engine) if engine.dialect.name == "postgresql" else SQLite(engine)


class Dialect(ABC):
    """The writes of several statements a call's life makes, as this engine's database runs
    them best."""

    def __init__(self, engine: Engine) -> None:
        self._writing = writing(engine)
        self._writing_one = writing(engine, one_statement=True)
        # No id back, and nothing written, when the call's meeting has a live call already.
        self._insert_call = (
            upsert_into(engine, calls)
            .on_conflict_do_nothing(index_elements=_MEETING_KEY, index_where=LIVE_MEETING_CALL)
            .returning(calls.c.id)
        )

    @abstractmethod
    def start_call(self, values: Mapping[str, Any], invitees: Sequence[str]) -> int | None:
        """Insert a call (`values`) with its starter in it, and its invitations; its id, or
        None (nothing written) if its meeting has a live call already."""

    def register_call(self, values: Mapping[str, Any], invitees: Sequence[str]) -> int | None:
        """start_call for a call nobody is in yet (its meeting will say who joins)."""
        with self._writing() as db:
            call_id: int | None = db.execute(self._insert_call, values).scalar()
            if call_id is not None:
                insert_invitations(db, call_id, invitees)
        return call_id

    @abstractmethod
    def end_call(self, values: Mapping[str, Any]) -> Row[Any] | None:
        """MARK_ENDED, and if it marked the call, CLOSE_PARTICIPANTS; the ended call's row."""


class PostgreSQL(Dialect):
    def start_call(self, values: Mapping[str, Any], invitees: Sequence[str]) -> int | None:
        with self._writing() if invitees else self._writing_one() as db:
            call_id: int | None = db.execute(
                _insert_call_and_starter(tuple(values)), _as_new(values)
            ).scalar()
            if call_id is not None:
                insert_invitations(db, call_id, invitees)
        return call_id

    def end_call(self, values: Mapping[str, Any]) -> Row[Any] | None:
        with self._writing_one() as db:
            return db.execute(_MARK_ENDED_AND_CLOSE_PARTICIPANTS, values).one_or_none()


class SQLite(Dialect):
    def start_call(self, values: Mapping[str, Any], invitees: Sequence[str]) -> int | None:
        with self._writing() as db:
            call_id: int | None = db.execute(self._insert_call, values).scalar()
            if call_id is None:
                return None
            db.execute(
                INSERT_PARTICIPANT,
                {
                    "call_id": call_id,
                    "slack_user_id": values["created_by"],
                    "joined_at": values["started_at"],
                    "in_slack": True,  # calls.add lists the starter
                },
            )
            insert_invitations(db, call_id, invitees)
        return call_id

    def end_call(self, values: Mapping[str, Any]) -> Row[Any] | None:
        with self._writing() as db:
            row = db.execute(MARK_ENDED, values).one_or_none()
            if row is not None:
                db.execute(CLOSE_PARTICIPANTS, values)
        return row


@cache  # one statement per set of columns, which create_starting always sets alike
def _insert_call_and_starter(columns: tuple[str, ...]) -> Insert:
    """A new call (these columns) and its starter's participant row as one statement, a
    data-modifying CTE; its parameters are the columns, prefixed `new_`. Neither is written if
    the call's meeting has a live call already."""
    new_call = (
        postgresql.insert(calls)
        .values({name: bindparam(f"new_{name}", type_=calls.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=_MEETING_KEY, index_where=LIVE_MEETING_CALL)
        .returning(calls.c.id)
        .cte("new_call")
    )
    starter = select(
        new_call.c.id,
        bindparam("new_created_by", type_=calls.c.created_by.type),
        bindparam("new_started_at", type_=calls.c.started_at.type),
        true(),  # calls.add lists the starter
    )
    return (
        insert(participants)
        .from_select(["call_id", "slack_user_id", "joined_at", "in_slack"], starter)
        .returning(participants.c.call_id)
    )


def _as_new(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"new_{name}": value for name, value in values.items()}


_ENDED = MARK_ENDED.cte("ended")
_MARK_ENDED_AND_CLOSE_PARTICIPANTS = select(_ENDED).add_cte(
    update(participants)
    .where(participants.c.call_id.in_(select(_ENDED.c.id)))
    .values(CLOSING)
    .cte("closed")
)
