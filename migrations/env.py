"""Alembic environment: the same DATABASE_URL and metadata the app uses."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

import calls_app.installations  # noqa: F401  (slack-sdk's tables, on Base.metadata)
import calls_app.models  # noqa: F401  (registers the tables on Base.metadata)
from calls_app.config import database_url
from calls_app.db import Base, UtcDateTime, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations name plain SQLAlchemy types, never our TypeDecorators.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _foreign_keys_off(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # Batch migrations rebuild a table by copy-and-drop; with foreign keys on, dropping
        # `calls` would cascade to every participant. (SQLite ignores this inside a
        # transaction, so it goes before any statement of the migration.)
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller (tests, the app) lent its own connection
        _foreign_keys_off(connection)
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        _foreign_keys_off(connection)
        connection.commit()  # end the implicit transaction the PRAGMA began
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
