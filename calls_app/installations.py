"""Multi-workspace installs: slack-sdk's SQLAlchemy installation and OAuth state stores, their
tables built on our metadata (so Alembic owns them), and bot tokens encrypted at rest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, Text, select

from calls_app.db import Base, writing

log = logging.getLogger(__name__)

# The scopes the app asks for: exactly those of manifest.yml (a test keeps them equal).
BOT_SCOPES = (
    "calls:read",
    "calls:write",
    "channels:read",
    "chat:write",
    "commands",
    "groups:read",
    "users:read",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

INSTALLATIONS_TABLE = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name
)
BOTS_TABLE = SQLAlchemyInstallationStore.build_bots_table(
    Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name
)
OAUTH_STATES_TABLE = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
)
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
# An encrypted token is longer than the 200 characters slack-sdk allows a plain one.
for _table in (INSTALLATIONS_TABLE, BOTS_TABLE):
    for _name in TOKEN_COLUMNS:
        if _name in _table.c:
            _table.c[_name].type = Text()


class TokenCipher:
    """Fernet over Slack tokens. Plain tokens (xox…) read as they are, so turning encryption
    on later needs no migration of the rows already stored."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, token: str | None) -> str | None:
        if token is None or not token.startswith("xox"):
            return token
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None or stored.startswith("xox"):
            return stored
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            log.error("a stored token can't be decrypted: is CALLS_ENCRYPTION_KEY the right key?")
            return None


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store, with every token encrypted on the way in and decrypted on the way out."""

    def __init__(self, *, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self._cipher = cipher

    def save(self, installation: Installation) -> None:
        super().save(_with_tokens(installation, self._cipher.encrypt))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(_with_tokens(bot, self._cipher.encrypt))

    def find_bot(self, **kwargs: Any) -> Bot | None:
        bot = super().find_bot(**kwargs)
        return bot and _with_tokens(bot, self._cipher.decrypt)

    def find_installation(self, **kwargs: Any) -> Installation | None:
        installation = super().find_installation(**kwargs)
        return installation and _with_tokens(installation, self._cipher.decrypt)


def _with_tokens(record: Any, transform: Callable[[str | None], str | None]) -> Any:
    """A copy of an Installation or Bot with each token transformed; the original is untouched."""
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__)
    for name in TOKEN_COLUMNS:
        if hasattr(copy, name):
            setattr(copy, name, transform(getattr(copy, name)))
    return copy


def installation_store(
    *, client_id: str, engine: Engine, encryption_key: str | None
) -> SQLAlchemyInstallationStore:
    if encryption_key:
        return EncryptedInstallationStore(
            client_id=client_id, engine=engine, cipher=TokenCipher(encryption_key)
        )
    return SQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def oauth_state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)


OAUTH_STATES_PER_PURGE = 1000


def purge_expired_oauth_states(
    engine: Engine, *, now: datetime, limit: int = OAUTH_STATES_PER_PURGE
) -> int:
    """Delete up to `limit` OAuth states past their expiry. slack-sdk deletes a state only when
    an install completes with it: every visit to the install page that went no further stays."""
    c = OAUTH_STATES_TABLE.c
    # slack-sdk stores expiry as a naive UTC datetime.
    cutoff = now.astimezone(UTC).replace(tzinfo=None)
    expired = select(c.id).where(c.expire_at < cutoff).order_by(c.id).limit(limit)
    with writing(engine, one_statement=True)() as connection:
        return connection.execute(OAUTH_STATES_TABLE.delete().where(c.id.in_(expired))).rowcount
