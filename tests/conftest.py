"""The test harness: a fake Slack Web API over HTTP, the real app served over HTTP, a real
database (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from calls_app.db import Base, make_engine
from local_slack.web_api import FakeSlack
from tests.app_process import AppProcess, free_port
from tests.support import enterprise
from tests.support.app import Database, FakeClock, RunningApp, app_env, migrate, serve_app
from tests.support.oauth import install, oauth_env
from tests.support.process import StartApp
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL, GENERAL, OUTSIDE, OWNER


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(make_url(f"sqlite:///{path}"))
    return str(path)


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[URL]:
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.skip("TEST_DATABASE_URL is not set")
    base = make_url(raw)
    if base.drivername in ("postgres", "postgresql"):
        base = base.set(drivername="postgresql+psycopg")
    # A schema of our own: runs never see each other's rows, and nothing else is touched.
    schema = f"calls_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    migrate(url)
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[URL]:
    if request.param == "sqlite":
        path = tmp_path / "calls.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield make_url(f"sqlite:///{path}")
        return
    url = request.getfixturevalue("_postgres_url")
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(Base.metadata.tables)  # every table of ours, none forgotten
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    for user in (ALICE, BOB, CAROL):
        fake.add_user(user)
    fake.add_user(ADMIN, is_admin=True)
    fake.add_user(OWNER, is_owner=True, is_primary_owner=True)
    fake.add_channel(GENERAL, name="general")
    fake.add_channel(OUTSIDE, name="outside", bot_is_member=False)
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def running_app(fake_slack: FakeSlack, database_url: URL, clock: FakeClock) -> Iterator[RunningApp]:
    with serve_app(fake_slack, database_url, clock, app_env(fake_slack, database_url)) as app:
        yield app


@pytest.fixture
def start_app(fake_slack: FakeSlack, database_url: URL, tmp_path: Path) -> Iterator[StartApp]:
    """Start `python app.py` with the given settings and wait until /healthz answers 200.

    Every process started is killed (with its workers) at teardown, before the fake stops
    and before the database is cleaned.
    """
    started: list[AppProcess] = []
    # gunicorn's control socket goes to $XDG_RUNTIME_DIR (else ~/.gunicorn): keep it ours,
    # on a path short enough for a Unix socket.
    runtime_dir = tempfile.mkdtemp(prefix="calls-rt-")

    def start(settings: dict[str, str], *, name: str = "app") -> AppProcess:
        settings = {**settings, "XDG_RUNTIME_DIR": runtime_dir}
        app = AppProcess(settings, port=free_port(), log_dir=tmp_path, name=name)
        started.append(app.start())
        return app.wait_ready(timeout=15)

    yield start
    for app in started:
        app.stop()
    shutil.rmtree(runtime_dir, ignore_errors=True)


@pytest.fixture
def db(database_url: URL) -> Iterator[Database]:
    engine = make_engine(database_url)
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def org_fake() -> Iterator[FakeSlack]:
    fake = enterprise.org_fake_slack()
    yield fake
    fake.stop()


@pytest.fixture
def org_app(org_fake, database_url, clock) -> Iterator[RunningApp]:
    """The app installed on the whole organization, and on the workspace outside it."""
    with serve_app(org_fake, database_url, clock, oauth_env(org_fake, database_url)) as app:
        install(app, enterprise.ORG)
        install(app, enterprise.OTHER_TEAM)
        yield app
