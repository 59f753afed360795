"""The local Slack, assembled: the Web API fake (the tests' own) with the workspace set up in
it, and the page people use, each served on loopback. The app is pointed at ``api_url`` and
told to the local Slack with ``connect``."""

from __future__ import annotations

import secrets
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from local_slack.interactions import Interactions
from local_slack.meeting import Meeting
from local_slack.page import Pages
from local_slack.server import PageApp
from local_slack.timeline import Timeline
from local_slack.web_api import FakeSlack
from local_slack.workspace import DEMO, Workspace


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """The page polls every second: no line per request."""


class LocalSlack:
    def __init__(self, workspace: Workspace = DEMO) -> None:
        self.workspace = workspace
        # made up here: the app is given them as it would be given a real workspace's
        self.bot_token = f"xoxb-local-{secrets.token_hex(12)}"
        self.signing_secret = secrets.token_hex(16)
        self.api = FakeSlack(
            bot_token=self.bot_token,
            team_id=workspace.team_id,
            bot_user_id=workspace.bot_user_id,
        )  # rate limits off: a demo waits for no one
        workspace.set_up(self.api)
        self.timeline = Timeline(bot_user_id=workspace.bot_user_id)
        self.api.add_listener(self.timeline.observe)
        self.interactions = Interactions(self.api, workspace, self.timeline, self.signing_secret)
        self.meeting = Meeting(workspace)  # used once the app is told its token: meeting.connect
        self._page_server: _Server | None = None
        self._page_thread: threading.Thread | None = None
        self.page_url = ""

    @property
    def api_url(self) -> str:
        return self.api.base_url

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> LocalSlack:
        """Serve the Web API on a free port and the page on ``port`` (0: a free one)."""
        self.api.start()
        app = PageApp(
            Pages(self.api, self.workspace, self.timeline, self.meeting),
            self.interactions,
            self.workspace,
            self.meeting,
        )
        try:
            server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
        except OSError:
            self.api.stop()
            raise
        self._page_server = server
        self.page_url = f"http://{host}:{server.server_port}"
        self._page_thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name="local-slack-page", daemon=True
        )
        self._page_thread.start()
        return self

    def connect(self, events_url: str) -> None:
        """Where the app takes Slack's requests (its /slack/events)."""
        self.interactions.events_url = events_url

    def app_settings(self) -> dict[str, str]:
        """The Slack settings the app needs to talk to this Slack."""
        return {
            "SLACK_BOT_TOKEN": self.bot_token,
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "SLACK_API_URL": self.api_url,
        }

    def stop(self) -> None:
        if self._page_server is not None:
            self._page_server.shutdown()
            self._page_server.server_close()
            self._page_server = None
        self.api.stop()

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
