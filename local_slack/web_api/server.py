"""The HTTP side of the fake: parse a request, take an injected fault, authenticate, apply the
rate limits, check the arguments against the method's definition, run its handler, answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from local_slack.web_api import calls, chat, conversations, users, views
from local_slack.web_api.auth import authenticate, parse_authorization
from local_slack.web_api.errors import SlackError
from local_slack.web_api.faults import answer_fault, wait_out
from local_slack.web_api.methods import (
    API_DIR,
    APPS_CONNECTIONS_OPEN,
    METHODS,
    OAUTH_V2_ACCESS,
    UNDEFINED_METHODS,
    check_args,
    decode_args,
)
from local_slack.web_api.oauth import apps_connections_open, oauth_v2_access
from local_slack.web_api.replies import send, send_json
from local_slack.web_api.response_urls import serve_response_url
from local_slack.web_api.state import ApiRequest, SlackState, Team

if TYPE_CHECKING:
    from local_slack.web_api.fake import FakeSlack

# Every method a bot token may call: name -> handler(state, team, args) -> the ok body.
HANDLERS: dict[str, Callable[[SlackState, Team, dict], dict]] = {
    **users.HANDLERS,
    **conversations.HANDLERS,
    **calls.HANDLERS,
    **chat.HANDLERS,
    **views.HANDLERS,
}
_undefined = (set(HANDLERS) | {OAUTH_V2_ACCESS}) - set(METHODS)
if _undefined:
    raise RuntimeError(f"no method definition in {API_DIR} for {sorted(_undefined)}")


@dataclass
class _ParsedRequest:
    args: dict[str, Any]
    token: str | None
    basic_auth: tuple[str, str] | None
    error: str | None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ApiServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if self.server.fake.latency:  # as far away as the real Slack (benchmarks)
            time.sleep(self.server.fake.latency)
        _serve(self.server.fake, self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request logging; the fake records requests instead."""


class ApiServer(ThreadingHTTPServer):
    """The fake's HTTP server on a free port of 127.0.0.1."""

    daemon_threads = True  # a thread per request, never joined: none outlives the test run
    request_queue_size = 1024  # listen backlog: load tests open ~1,000 connections at once

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


def _serve(fake: FakeSlack, http: _Handler) -> None:
    url = urlsplit(http.path)
    length = int(http.headers.get("Content-Length") or 0)
    body = http.rfile.read(length) if length > 0 else b""
    if url.path.startswith("/api/"):
        _serve_api(fake, http, url.path[len("/api/") :], url.query, body)
    elif url.path.startswith("/response/") and http.command == "POST":
        serve_response_url(fake, fake.faults, fake.stopping, http, fake.root_url + url.path, body)
    else:
        send(http, 404, b"not found", "text/plain")


def _serve_api(fake: FakeSlack, http: _Handler, method: str, query: str, body: bytes) -> None:
    request = _parse_api_request(http, method, query, body)

    def record(status: int, response: dict) -> None:
        fake.record(ApiRequest(method, request.args, request.token, status, response))

    fault = fake.faults.take(method)
    landed = None
    if fault is not None:
        if fault.landed:
            landed = _process(fake, method, request)
        wait_out(fault, fake.stopping)
        if fault.answers:
            answer_fault(http, fault, record)
            return
    if landed is not None:
        status, response, headers = landed
        record(status, response)
    else:
        with fake.lock:  # recorded as it happens: requests are in the order of effects
            status, response, headers = _process(fake, method, request)
            record(status, response)
    send_json(http, status, response, headers=headers)


def _process(
    fake: FakeSlack, method: str, request: _ParsedRequest
) -> tuple[int, dict, dict[str, str]]:
    with fake.lock:
        status, response, headers = _dispatch(fake, method, request)
    # a snapshot, and proof it is JSON
    return status, json.loads(json.dumps(response)), headers


def _parse_api_request(http: _Handler, method: str, query: str, body: bytes) -> _ParsedRequest:
    """Args from the query string and a form or JSON body; token from header or form.

    As in Slack, a JSON body cannot carry the token: it must be a Bearer header.
    """
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    content_type = (http.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    error = None
    json_args: dict[str, Any] = {}
    if body:
        if content_type == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                json_args = decoded
            else:
                error = "invalid_json"
        elif content_type == "application/x-www-form-urlencoded":
            args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif not content_type:
            error = "missing_post_type"
        else:
            error = "invalid_post_type"
    form_token = args.pop("token", None)
    json_args.pop("token", None)
    args.update(json_args)
    bearer, basic_auth = parse_authorization(http.headers.get("Authorization"))
    decode_args(method, args)
    return _ParsedRequest(args, bearer or form_token or None, basic_auth, error)


def _dispatch(
    fake: FakeSlack, method: str, request: _ParsedRequest
) -> tuple[int, dict, dict[str, str]]:
    """Authenticate, apply rate limits, check arguments against the definition, run the
    handler. Answers (HTTP status, body, extra headers)."""
    if method not in HANDLERS and method not in UNDEFINED_METHODS:
        return 404, {"ok": False, "error": "unknown_method"}, {}
    try:
        if request.error:
            raise SlackError(request.error)
        if method == OAUTH_V2_ACCESS:
            result = oauth_v2_access(
                fake,
                request.args,
                request.basic_auth,
                client_id=fake.client_id,
                client_secret=fake.client_secret,
            )
        elif method == APPS_CONNECTIONS_OPEN:
            result = apps_connections_open(fake, request.token)
        else:
            team = authenticate(fake, request.token, method, request.args)
            fake.rate_limiter.check(team.id, method, request.args, fake.clock)
            check_args(method, request.args)
            result = HANDLERS[method](fake, team, request.args)
    except SlackError as refusal:
        return refusal.status, refusal.body(), refusal.headers
    return 200, {"ok": True, **result}, {}
