"""Multi-workspace installs: slack-sdk's SQLAlchemy installation and OAuth state stores, their
tables built on our metadata (so Alembic owns them), and bot tokens encrypted at rest."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Connection, Engine, RowMapping, Text, select

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
    "links:read",  # link_shared: a meeting link was pasted
    "links:write",  # chat.unfurl: show it as the live call
    "users:read",
    "users:read.email",  # provider participants who are Slack members, and Zoom hosts
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
    """Fernet over Slack tokens, with keys for rotation: the first encrypts, any of them
    decrypts. Plain tokens (xox…) read as they are, so turning encryption on later needs no
    migration; `python -m calls_app encrypt-tokens` encrypts the rows already stored."""

    # cryptography is imported where it is used: without keys it is never loaded (about 9 MiB).

    def __init__(self, keys: Sequence[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        fernets = [Fernet(key.encode()) for key in keys]
        self._newest = fernets[0]
        self._any = MultiFernet(fernets)

    def encrypt(self, token: str | None) -> str | None:
        if token is None or not is_plain(token):
            return token
        return self._any.encrypt(token.encode()).decode()

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None or is_plain(stored):
            return stored
        from cryptography.fernet import InvalidToken

        try:
            return self._any.decrypt(stored.encode()).decode()
        except InvalidToken:
            log.error("a stored token can't be decrypted: is its key in CALLS_ENCRYPTION_KEY?")
            return None

    def can_read(self, stored: str) -> bool:
        from cryptography.fernet import InvalidToken

        try:
            self._any.decrypt(stored.encode())
        except InvalidToken:
            return False
        return True

    def under_newest_key(self, stored: str) -> str:
        """`stored` as the newest key encrypts it (itself if it already is); InvalidToken when
        no key reads it."""
        if is_plain(stored):
            return self._any.encrypt(stored.encode()).decode()
        from cryptography.fernet import InvalidToken

        try:
            self._newest.decrypt(stored.encode())
            return stored
        except InvalidToken:
            return self._any.rotate(stored.encode()).decode()


def is_plain(stored: str) -> bool:
    """A token as Slack issues it (xoxb-, xoxp-, xoxe-…), not one of ours encrypted."""
    return stored.startswith("xox")


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
    *, client_id: str, engine: Engine, encryption_keys: Sequence[str]
) -> SQLAlchemyInstallationStore:
    if encryption_keys:
        return EncryptedInstallationStore(
            client_id=client_id, engine=engine, cipher=TokenCipher(encryption_keys)
        )
    return SQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def oauth_state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)


def unreadable_stored_tokens(engine: Engine, encryption_keys: Sequence[str]) -> str | None:
    """Why the newest stored bot token can't be read with these keys, or None when it can: a
    key left out of CALLS_ENCRYPTION_KEY would otherwise surface as every request failing."""
    c = BOTS_TABLE.c
    with engine.connect() as connection:
        stored = connection.scalar(
            select(c.bot_token)
            .where(c.bot_token.is_not(None))
            .order_by(c.installed_at.desc(), c.id.desc())
            .limit(1)
        )
    if stored is None or is_plain(stored):
        return None
    if not encryption_keys:
        return "the stored tokens are encrypted, but it is not set"
    if not TokenCipher(encryption_keys).can_read(stored):
        return "the stored tokens were encrypted with a key that is not in it"
    return None


# What encrypt_stored_tokens did, as it prints it.
ENCRYPTED = "plain tokens encrypted"
REENCRYPTED = "tokens re-encrypted with the newest key"
DELETED_ROWS = "superseded install rows deleted"
UNREADABLE_INSTALLS = "installs left as they were: no key in CALLS_ENCRYPTION_KEY decrypts them"


def encrypt_stored_tokens(engine: Engine, cipher: TokenCipher) -> Counter[str]:
    """Every stored token under the newest key, and only each install's newest rows kept:
    slack-sdk adds rows at each install and reads the newest, so older ones only keep old
    tokens (perhaps plain) around. One transaction per install: the app may serve meanwhile."""
    from cryptography.fernet import InvalidToken

    done: Counter[str] = Counter()
    for install in _install_keys(engine):
        try:
            with writing(engine)() as connection:
                done.update(_encrypt_install(connection, cipher, install))
        except InvalidToken:  # rolled back: nothing of this install changed
            log.error("%s: no key in CALLS_ENCRYPTION_KEY decrypts its tokens", install)
            done[UNREADABLE_INSTALLS] += 1
    return done


def _install_keys(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    """(client_id, enterprise_id, team_id) of every install, as slack-sdk keys them."""
    keys: set[tuple[str, str | None, str | None]] = set()
    with engine.connect() as connection:
        for table in (INSTALLATIONS_TABLE, BOTS_TABLE):
            c = table.c
            rows = connection.execute(select(c.client_id, c.enterprise_id, c.team_id).distinct())
            keys.update((row[0], row[1], row[2]) for row in rows)
    return sorted(keys, key=str)


def _encrypt_install(
    connection: Connection, cipher: TokenCipher, install: tuple[str, str | None, str | None]
) -> Counter[str]:
    done: Counter[str] = Counter()
    client_id, enterprise_id, team_id = install
    bots, installs = BOTS_TABLE.c, INSTALLATIONS_TABLE.c
    # The rows slack-sdk reads: find_bot the newest bot that has a token; find_installation the
    # newest installation, of each installer when asked for one (tokens_revoked deletes by user).
    for table, newest_of, newest_first in (
        (BOTS_TABLE, (), (bots.bot_token.is_(None), bots.installed_at.desc(), bots.id.desc())),
        (INSTALLATIONS_TABLE, ("user_id",), (installs.installed_at.desc(), installs.id.desc())),
    ):
        c = table.c
        rows = connection.execute(
            select(table)
            .where(c.client_id == client_id, c.enterprise_id == enterprise_id, c.team_id == team_id)
            .order_by(*newest_first)
            .with_for_update()
        ).mappings()
        kept: dict[tuple[Any, ...], RowMapping] = {}
        superseded = []
        for row in rows:
            if kept.setdefault(tuple(row[name] for name in newest_of), row) is not row:
                superseded.append(row["id"])
        if superseded:
            connection.execute(table.delete().where(c.id.in_(superseded)))
            done[DELETED_ROWS] += len(superseded)
        for row in kept.values():
            changes = {}
            for name in TOKEN_COLUMNS:
                stored = row.get(name)
                if stored is not None and (new := cipher.under_newest_key(stored)) != stored:
                    changes[name] = new
                    done[ENCRYPTED if is_plain(stored) else REENCRYPTED] += 1
            if changes:
                connection.execute(table.update().where(c.id == row["id"]).values(**changes))
    return done


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
