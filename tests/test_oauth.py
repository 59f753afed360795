"""Multi-workspace installs: Slack's OAuth flow, requests served with each workspace's own
token, uninstalls, and tokens encrypted at rest."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import StartupError, load_settings
from calls_app.installations import (
    BOT_SCOPES,
    BOTS_TABLE,
    INSTALLATIONS_TABLE,
    OAUTH_STATES_TABLE,
    TOKEN_COLUMNS,
    purge_expired_oauth_states,
)
from calls_app.models import CallState, EndReason
from calls_app.runtime import check_stored_tokens
from local_slack.app_requests import get
from local_slack.web_api import FakeSlack
from tests.app_process import process_env, run_module
from tests.support.app import RunningApp, reply_text, serve_app
from tests.support.oauth import (
    BOB_B,
    CHANNEL_B,
    TEAM_A,
    TEAM_B,
    TOKEN_A,
    TOKEN_B,
    install,
    oauth_env,
    two_workspaces_fake,
)
from tests.support.workspace import ALICE


@pytest.fixture
def oauth_fake() -> Iterator[FakeSlack]:
    fake = two_workspaces_fake(scope=",".join(BOT_SCOPES))
    yield fake
    fake.stop()


@pytest.fixture
def oauth_app(oauth_fake, database_url, clock) -> Iterator[RunningApp]:
    with serve_app(oauth_fake, database_url, clock, oauth_env(oauth_fake, database_url)) as app:
        yield app


def stored_bot_tokens(app: RunningApp) -> dict[str, str]:
    with app.db.engine.connect() as connection:
        rows = connection.execute(select(BOTS_TABLE.c.team_id, BOTS_TABLE.c.bot_token)).all()
    return dict(rows)


def test_installing_exchanges_the_code_and_stores_the_workspace(oauth_app):
    app = oauth_app
    install(app, TEAM_A)
    (exchange,) = app.fake.calls_to("oauth.v2.access")
    assert exchange["code"] == f"code-{TEAM_A}"
    assert stored_bot_tokens(app) == {TEAM_A: TOKEN_A}  # stored as slack-sdk stores it
    with app.db.engine.connect() as connection:
        assert connection.execute(select(INSTALLATIONS_TABLE.c.team_id)).scalars().all() == [TEAM_A]


def test_a_state_not_issued_by_the_app_is_refused(oauth_app):
    app = oauth_app
    request = urllib.request.Request(
        f"{app.base_url}/slack/oauth_redirect?code=code-{TEAM_A}&state=forged",
        headers={"Cookie": "slack-app-oauth-state=forged"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401  # Bolt: the state is not one it issued
    assert app.fake.calls_to("oauth.v2.access") == []
    assert stored_bot_tokens(app) == {}


def test_requests_are_served_with_their_own_workspaces_token(oauth_app):
    app = oauth_app
    install(app, TEAM_A)
    install(app, TEAM_B)
    call_a = app.start_call("start Alpha", user=ALICE, team_id=TEAM_A)
    call_b = app.start_call("start Beta", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
    tokens = {r.args["title"]: r.token for r in app.fake.attempts_to("calls.add")}
    assert tokens == {"Alpha": TOKEN_A, "Beta": TOKEN_B}
    assert (call_a.team_id, call_b.team_id) == (TEAM_A, TEAM_B)
    # Workspace B sees nothing of workspace A's call, even by its id.
    reply = app.click("call_end", str(call_a.id), user=BOB_B, team_id=TEAM_B)
    assert "doesn't exist" in reply_text(reply)
    assert app.db.call(call_a.id).state == CallState.ACTIVE


def test_uninstalling_removes_the_tokens_and_closes_that_workspaces_calls(oauth_app):
    app = oauth_app
    install(app, TEAM_A)
    install(app, TEAM_B)
    call_a = app.start_call("start Alpha", user=ALICE, team_id=TEAM_A)
    call_b = app.start_call("start Beta", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
    result = app.slack.event({"type": "app_uninstalled"}, team_id=TEAM_B)
    assert result.status == 200
    app.fake.wait_for(lambda: app.db.call(call_b.id).state == CallState.ENDED)
    assert app.db.call(call_b.id).end_reason == EndReason.UNINSTALLED
    assert app.db.present(call_b.id) == []
    assert stored_bot_tokens(app) == {TEAM_A: TOKEN_A}
    assert app.db.call(call_a.id).state == CallState.ACTIVE
    # Workspace B's requests now reach nothing.
    before = len(app.fake.requests)
    result, _ = app.slack.command("start Again", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
    assert result.status in (200, 401)
    assert [r.method for r in app.fake.requests[before:]] == []


def test_a_revoked_bot_token_is_forgotten(oauth_app):
    app = oauth_app
    install(app, TEAM_B)
    call_b = app.start_call("start Beta", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
    app.slack.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}, team_id=TEAM_B)
    app.fake.wait_for(lambda: stored_bot_tokens(app) == {})
    app.fake.wait_for(lambda: app.db.call(call_b.id).state == CallState.ENDED)


def test_tokens_are_encrypted_at_rest_with_a_key(oauth_fake, database_url, clock):
    key = Fernet.generate_key().decode()
    env = oauth_env(oauth_fake, database_url, CALLS_ENCRYPTION_KEY=key)
    with serve_app(oauth_fake, database_url, clock, env) as app:
        install(app, TEAM_A)
        stored = stored_bot_tokens(app)[TEAM_A]
        assert TOKEN_A not in stored and not stored.startswith("xox")
        assert Fernet(key.encode()).decrypt(stored.encode()).decode() == TOKEN_A
        app.start_call("start Alpha", user=ALICE, team_id=TEAM_A)
        assert app.fake.attempts_to("calls.add")[0].token == TOKEN_A


def test_single_workspace_mode_has_no_install_routes(running_app):
    from local_slack.app_requests import get

    assert get(running_app.base_url + "/slack/install").status == 404


def test_the_reconciler_closes_calls_of_a_workspace_whose_install_is_gone(
    oauth_app, oauth_fake, database_url
):
    app = oauth_app
    install(app, TEAM_B)
    call_b = app.start_call("start Beta", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
    with app.db.engine.begin() as connection:  # the uninstall event was never delivered
        connection.execute(BOTS_TABLE.delete())
        connection.execute(INSTALLATIONS_TABLE.delete())
    settings = load_settings(oauth_env(oauth_fake, database_url))
    reconciler = build_reconciler(build_parts(settings, app.db.engine, clock=app.clock))
    assert reconciler.run_once()["closed: workspace gone"] == 1
    stored = app.db.call(call_b.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.UNINSTALLED)


# -- OAuth states of install attempts nobody finished -----------------------------------------


def oauth_states(app: RunningApp) -> list[str]:
    with app.db.engine.connect() as connection:
        return list(connection.scalars(select(OAUTH_STATES_TABLE.c.state).order_by("id")))


def add_expired_states(app: RunningApp, count: int) -> None:
    """States as slack-sdk stores them (expiry in naive UTC), each past its expiry."""
    now = app.clock().replace(tzinfo=None)
    with app.db.engine.begin() as connection:
        connection.execute(
            OAUTH_STATES_TABLE.insert(),
            [
                {"state": f"expired-{i}", "expire_at": now - timedelta(seconds=1 + 3600 * i)}
                for i in range(count)
            ],
        )


def test_a_reconciler_pass_deletes_expired_oauth_states_and_keeps_fresh_ones(
    oauth_app, oauth_fake, database_url
):
    app = oauth_app
    add_expired_states(app, 3)
    for _ in range(2):  # install attempts that stopped at Slack's page, for now
        assert get(app.base_url + "/slack/install").status == 200
    fresh = oauth_states(app)[3:]
    assert len(fresh) == 2
    reconciler = build_reconciler(
        build_parts(
            load_settings(oauth_env(oauth_fake, database_url)), app.db.engine, clock=app.clock
        )
    )
    assert reconciler.run_once()["purged expired OAuth states"] == 3
    assert oauth_states(app) == fresh
    assert "purged expired OAuth states" not in reconciler.run_once()
    install(app, TEAM_A)  # a state issued before the pass still completes its install
    assert stored_bot_tokens(app) == {TEAM_A: TOKEN_A}


def test_expired_oauth_states_are_purged_a_bounded_batch_at_a_time(oauth_app):
    app = oauth_app
    add_expired_states(app, 5)
    purged = [purge_expired_oauth_states(app.db.engine, now=app.clock(), limit=2) for _ in range(4)]
    assert purged == [2, 2, 1, 0]
    assert oauth_states(app) == []


# -- Encryption keys: rotation, encrypting what is stored, the start-up check ------------------

OLD_KEY, NEW_KEY, OTHER_KEY = (Fernet.generate_key().decode() for _ in range(3))
TOKEN_A2 = "xoxb-team-a-reinstalled-22"


def serve_with_keys(fake: FakeSlack, database_url, clock, keys: str | None):
    extra = {"CALLS_ENCRYPTION_KEY": keys} if keys else {}
    return serve_app(fake, database_url, clock, oauth_env(fake, database_url, **extra))


def stored_rows(app: RunningApp) -> list[dict]:
    """Every install row with its tokens, by table and team, oldest first."""
    rows = []
    with app.db.engine.connect() as connection:
        for table in (BOTS_TABLE, INSTALLATIONS_TABLE):
            found = connection.execute(select(table).order_by(table.c.team_id, table.c.id))
            for row in found.mappings():
                tokens = {name: row[name] for name in TOKEN_COLUMNS if row.get(name)}
                rows.append({"table": table.name, "team_id": row["team_id"], **tokens})
    return rows


def decrypted(rows: list[dict], key: str) -> list[dict]:
    """The rows with each token decrypted by `key` alone (InvalidToken if one isn't under it)."""
    fernet = Fernet(key.encode())
    return [
        {
            name: fernet.decrypt(value.encode()).decode() if name in TOKEN_COLUMNS else value
            for name, value in row.items()
        }
        for row in rows
    ]


def encrypt_tokens(fake: FakeSlack, database_url, keys: str | None) -> subprocess.CompletedProcess:
    """`python -m calls_app encrypt-tokens`, as an operator runs it."""
    extra = {"CALLS_ENCRYPTION_KEY": keys} if keys else {}
    env = process_env(oauth_env(fake, database_url, **extra))
    return run_module("calls_app", "encrypt-tokens", env=env)


def test_with_several_keys_the_first_encrypts_and_any_decrypts(oauth_fake, database_url, clock):
    with serve_with_keys(oauth_fake, database_url, clock, OLD_KEY) as app:
        install(app, TEAM_A)
    with serve_with_keys(oauth_fake, database_url, clock, f"{NEW_KEY},{OLD_KEY}") as app:
        install(app, TEAM_B)
        app.start_call("start Alpha", user=ALICE, team_id=TEAM_A)  # stored under the old key
        app.start_call("start Beta", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
        tokens = {r.args["title"]: r.token for r in app.fake.attempts_to("calls.add")}
        assert tokens == {"Alpha": TOKEN_A, "Beta": TOKEN_B}
        stored = stored_bot_tokens(app)
    assert Fernet(OLD_KEY.encode()).decrypt(stored[TEAM_A].encode()).decode() == TOKEN_A
    assert Fernet(NEW_KEY.encode()).decrypt(stored[TEAM_B].encode()).decode() == TOKEN_B


def test_encrypt_tokens_puts_every_token_under_the_newest_key_and_keeps_the_newest_rows(
    oauth_fake, database_url, clock
):
    with serve_with_keys(oauth_fake, database_url, clock, None) as app:
        install(app, TEAM_A)  # plain, then installed again with a new token: two rows each
        oauth_fake.set_oauth_code(
            f"code-{TEAM_A}", team_id=TEAM_A, bot_token=TOKEN_A2, scope=",".join(BOT_SCOPES)
        )
        install(app, TEAM_A)
    with serve_with_keys(oauth_fake, database_url, clock, OLD_KEY) as app:
        install(app, TEAM_B)  # under a key now being replaced
        assert len(stored_rows(app)) == 6

        done = encrypt_tokens(oauth_fake, database_url, f"{NEW_KEY},{OLD_KEY}")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "plain tokens encrypted: 2",
            "superseded install rows deleted: 2",
            "tokens re-encrypted with the newest key: 2",
        ]
        assert decrypted(stored_rows(app), NEW_KEY) == [
            {"table": "slack_bots", "team_id": TEAM_A, "bot_token": TOKEN_A2},
            {"table": "slack_bots", "team_id": TEAM_B, "bot_token": TOKEN_B},
            {"table": "slack_installations", "team_id": TEAM_A, "bot_token": TOKEN_A2},
            {"table": "slack_installations", "team_id": TEAM_B, "bot_token": TOKEN_B},
        ]
        for secret in (NEW_KEY, OLD_KEY, TOKEN_A2, TOKEN_B):
            assert secret not in done.stdout + done.stderr

        before = stored_rows(app)
        again = encrypt_tokens(oauth_fake, database_url, f"{NEW_KEY},{OLD_KEY}")
        assert (again.returncode, again.stdout) == (0, "nothing to do\n"), again.stderr
        assert stored_rows(app) == before
    with serve_with_keys(oauth_fake, database_url, clock, NEW_KEY) as app:  # old key retired
        app.start_call("start Alpha", user=ALICE, team_id=TEAM_A)
        app.start_call("start Beta", user=BOB_B, team_id=TEAM_B, channel=CHANNEL_B)
        tokens = {r.args["title"]: r.token for r in app.fake.attempts_to("calls.add")}
        assert tokens == {"Alpha": TOKEN_A2, "Beta": TOKEN_B}


def test_encrypt_tokens_leaves_an_install_no_key_decrypts_as_it_was(
    oauth_fake, database_url, clock
):
    with serve_with_keys(oauth_fake, database_url, clock, OTHER_KEY) as app:
        install(app, TEAM_A)
    with serve_with_keys(oauth_fake, database_url, clock, None) as app:
        install(app, TEAM_B)
        before = stored_rows(app)
        done = encrypt_tokens(oauth_fake, database_url, f"{NEW_KEY},{OLD_KEY}")
        assert done.returncode == 1, done.stderr
        assert "installs left as they were: no key in CALLS_ENCRYPTION_KEY decrypts them: 1" in (
            done.stdout
        )
        assert "plain tokens encrypted: 2" in done.stdout  # the other install's
        after = stored_rows(app)
    assert [row for row in after if row["team_id"] == TEAM_A] == [
        row for row in before if row["team_id"] == TEAM_A
    ]
    with pytest.raises(InvalidToken):
        decrypted([row for row in after if row["team_id"] == TEAM_A], NEW_KEY)
    assert decrypted([row for row in after if row["team_id"] == TEAM_B], NEW_KEY)
    for secret in (NEW_KEY, OLD_KEY, OTHER_KEY):
        assert secret not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({}, "CALLS_ENCRYPTION_KEY"),  # nothing to encrypt with
        ({"CALLS_ENCRYPTION_KEY": "not-a-key"}, "CALLS_ENCRYPTION_KEY"),
    ],
)
def test_encrypt_tokens_without_a_usable_key_changes_nothing(
    oauth_fake, oauth_app, database_url, env, setting
):
    app = oauth_app
    install(app, TEAM_A)
    before = stored_rows(app)
    done = encrypt_tokens(oauth_fake, database_url, env.get("CALLS_ENCRYPTION_KEY"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"calls-app: {setting}: "), done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert stored_rows(app) == before


def test_the_start_up_check_reads_the_newest_stored_token(oauth_fake, database_url, clock):
    def check(keys: str | None) -> None:
        extra = {"CALLS_ENCRYPTION_KEY": keys} if keys else {}
        settings = load_settings(oauth_env(oauth_fake, database_url, **extra))
        check_stored_tokens(app.db.engine, settings)

    with serve_with_keys(oauth_fake, database_url, clock, None) as app:
        check(None)  # nothing stored
        install(app, TEAM_A)
        check(None)  # plain
        check(OLD_KEY)
    with serve_with_keys(oauth_fake, database_url, clock, OLD_KEY) as app:
        install(app, TEAM_B)  # now the newest, and encrypted
        check(OLD_KEY)
        check(f"{NEW_KEY},{OLD_KEY}")
        with pytest.raises(StartupError, match="CALLS_ENCRYPTION_KEY: .* not in it"):
            check(NEW_KEY)
        with pytest.raises(StartupError, match="CALLS_ENCRYPTION_KEY: .* encrypted, but it is not"):
            check(None)
