"""``FakeSlack``: the fake Web API as tests and the demo drive it — start and stop it, set up
workspaces, hand out response_urls and trigger ids, set rate limits, inject faults."""

from __future__ import annotations

import copy
import secrets
import threading
import uuid
from collections.abc import Mapping

from local_slack.web_api.faults import Fault, FaultQueues
from local_slack.web_api.methods import UNDEFINED_METHODS
from local_slack.web_api.rate_limits import RateLimit, RateLimiter, RateLimitSpec
from local_slack.web_api.server import HANDLERS, ApiServer
from local_slack.web_api.views import check_view, store_view
from local_slack.web_api.workspaces import Workspaces


class FakeSlack(Workspaces):
    """A strict, stateful, recording fake of Slack's Web API with fault injection.

    State lives per workspace (team): users, channels and calls of team A are invisible to
    team B's token. One re-entrant lock guards all state; handlers run under it and never block,
    while injected delays and hangs are waited out before taking it.
    """

    latency = 0.0  # seconds every request waits before it is served; the real Slack's ~0.1

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0001",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        client_id: str | None = None,
        client_secret: str | None = None,
        rate_limits: bool | Mapping[str, RateLimitSpec] | None = None,
    ) -> None:
        """``rate_limits``: True for ``SLACK_TIERS``, a dict for limits of your own (the whole
        table: methods not in it are not limited), None or False for none (the default)."""
        super().__init__(team_id)
        self.bot_token = bot_token
        self.client_id = client_id  # when set, oauth.v2.access checks them
        self.client_secret = client_secret
        self.base_url = ""
        self.root_url = ""
        self.faults = FaultQueues()
        self.rate_limiter = RateLimiter(HANDLERS)
        self.stopping = threading.Event()
        self._server: ApiServer | None = None
        self._thread: threading.Thread | None = None
        self.add_team(
            team_id,
            bot_token=bot_token,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            name="Example",
            domain="example",
        )
        self.set_rate_limits(rate_limits)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 on a free port in a background thread."""
        server = ApiServer(self)
        host, port = server.socket.getsockname()[:2]
        self._server = server
        self.root_url = f"http://{host}:{port}"
        self.base_url = f"{self.root_url}/api/"
        self.stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests hanging on an injected fault are released."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ what Slack hands out

    def new_response_url(self, *, team_id: str | None = None) -> str:
        """A slash-command / action response_url (usable 5 times, like Slack's)."""
        if not self.root_url:
            raise RuntimeError("start() the fake before asking for a response_url")
        with self.lock:
            team = self.team(team_id)
            url = f"{self.root_url}/response/{uuid.uuid4()}"
            self.response_urls[url] = {"team_id": team.id, "uses": 0}
            self.responses[url] = []
            return url

    def new_trigger_id(self) -> str:
        """A trigger_id that expires 3 s (by ``clock``) after issue, like Slack's.

        Trigger ids the fake did not issue are accepted once and never expire.
        """
        with self.lock:
            trigger = (
                f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
            )
            self.issued_triggers[trigger] = self.clock()
            return trigger

    def answer_view(
        self, view: dict, *, view_id: str | None = None, team_id: str | None = None
    ) -> dict:
        """Take a modal the app answered a view_submission with (``response_action`` update,
        with ``view_id``, or push): checked as views.update checks one (SlackError if bad)."""
        with self.lock:
            team = self.team(team_id)
            checked = check_view(self, team, view, types=("modal",))
            return copy.deepcopy(store_view(self, team, checked, view_id=view_id))

    # ------------------------------------------------------------------ rate limits

    def set_rate_limits(self, limits: bool | Mapping[str, RateLimitSpec] | None) -> None:
        """Enforce ``limits`` from now on (see ``__init__``); None or False turns them off.

        Requests already let through keep counting against an unchanged limit's window.
        """
        table = self.rate_limiter.table(limits)
        with self.lock:
            self.rate_limiter.limits = table

    @property
    def rate_limits(self) -> dict[str, tuple[RateLimit, ...]]:
        """The limits in force: method -> its limits (empty when off)."""
        with self.lock:
            return dict(self.rate_limiter.limits)

    def rate_limited(self, method: str | None = None) -> int:
        """How many requests to ``method`` (None: to any method) the rate limits refused."""
        with self.lock:
            if method is None:
                return sum(self.rate_limiter.refused.values())
            return self.rate_limiter.refused[method]

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        hang: threading.Event | None = None,
        drop_connection: bool = False,
        landed: bool = False,
    ) -> None:
        """Make the next ``times`` requests to ``method`` fail or stall.

        Each waits ``delay`` seconds and/or until ``hang`` is set, then: drops the connection,
        or answers HTTP 429 (Retry-After: ``retry_after``, default 1), or answers an HTTP 5xx
        with an HTML body, or answers 200 ``{"ok": false, "error": error}``; with none of
        those it is processed normally (a slow Slack). With ``landed``, the request takes
        effect first: then a dropped connection or a 5xx means Slack did it and the client
        never heard, and a delay or a hang is an answer slow to come back.
        ``method`` may also be ``"response_url"`` for posts to any response_url. Faults queue
        in order.
        """
        if method not in HANDLERS and method not in (*UNDEFINED_METHODS, "response_url"):
            raise ValueError(f"unknown method {method!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if landed and (method == "response_url" or error is not None or status == 429):
            raise ValueError("landed is for a Web API call answered late, by a 5xx or a drop")
        fault = Fault(error, status, retry_after, delay, hang, drop_connection, times, landed)
        self.faults.add(method, fault)
