"""The demo's harness: a local Slack (the demo's own workspace) with the real app served beside
it, as `make demo` runs them (the app in-process here, so tests may move its clock and read its
database), and headless Chromium driving the page."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from local_slack.slack import LocalSlack
from tests.support.app import FakeClock, RunningApp, serve_app
from tests.support.demo import app_settings

# CI sets this: there a missing browser is a failure, not a skip.
REQUIRE_BROWSER = "CALLS_REQUIRE_BROWSER"


@pytest.fixture
def local_slack() -> Iterator[LocalSlack]:
    slack = LocalSlack().start()
    yield slack
    slack.stop()


@pytest.fixture
def demo(
    local_slack: LocalSlack, _sqlite_template: str, tmp_path, clock: FakeClock
) -> Iterator[RunningApp]:
    """The app, connected to the local Slack, on a migrated SQLite database of its own."""
    with _served(local_slack, _sqlite_template, tmp_path, clock, meeting=False) as app:
        yield app


@pytest.fixture
def meeting_demo(
    local_slack: LocalSlack, _sqlite_template: str, tmp_path, clock: FakeClock
) -> Iterator[RunningApp]:
    """As `make demo` runs it: calls get rooms of the local Slack's made-up self-hosted Jitsi,
    and who is in a call is what that meeting reports."""
    with _served(local_slack, _sqlite_template, tmp_path, clock, meeting=True) as app:
        yield app


@contextlib.contextmanager
def _served(
    local_slack: LocalSlack, template: str, tmp_path, clock: FakeClock, *, meeting: bool
) -> Iterator[RunningApp]:
    path = tmp_path / "demo.db"
    shutil.copy(template, path)
    url = make_url(f"sqlite:///{path}")
    settings = app_settings(local_slack, url.render_as_string(hide_password=False))
    if meeting:
        settings.update(local_slack.meeting.app_settings())
    with serve_app(local_slack.api, url, clock, settings) as app:
        local_slack.connect(f"{app.base_url}/slack/events")
        if meeting:
            local_slack.meeting.unix_time = lambda: clock().timestamp()  # the app's own time
            local_slack.meeting.connect(app.base_url)
        yield app


def _browser_or_skip() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    found = {"chromium": chromium, "chromedriver": driver}
    missing = [name for name, path in found.items() if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        reason = (
            f"the browser tests need {', '.join(missing)}; "
            "apt-get install -y chromium chromium-driver"
        )
        if os.environ.get(REQUIRE_BROWSER) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return chromium, driver  # type: ignore[return-value]


@pytest.fixture(scope="session")
def _chromium():
    chromium, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI and containers run as root
        "--disable-dev-shm-usage",
        "--window-size=1280,860",
        # offline but for loopback: the page must need nothing from the network
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    yield browser
    browser.quit()


@pytest.fixture
def browser(_chromium):
    """The session's Chromium, left with one tab (link buttons open others)."""
    yield _chromium
    first, *others = _chromium.window_handles
    for handle in others:
        _chromium.switch_to.window(handle)
        _chromium.close()
    _chromium.switch_to.window(first)
