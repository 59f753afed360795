"""The WSGI application: Slack's requests on POST /slack/events, GET /healthz, GET /metrics.

Bad requests stop here, before Bolt: too large (413), too slow to arrive (408), not signed by
Slack (401), or not a payload Slack would send (400); so do repeats of a request already
acted on (200, see deliveries.py). Everything else is handed to Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from calls_app import log_context, metrics
from calls_app.deliveries import Deliveries
from calls_app.installations import INSTALL_PATH, REDIRECT_PATH
from calls_app.provider_web import ProviderWebhooks
from calls_app.read_deadlines import ReadDeadlines

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES  # past this an oversized body is cut off, not read
# Slack waits 3 s for an answer: a body still arriving after that serves no one.
BODY_DEADLINE_SECONDS = 3.0
SIGNATURE_MAX_AGE_SECONDS = 5 * 60
# ASCII digits only, and few enough for int(): str.isdigit() also passes "²" and "١".
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]
Environ = Mapping[str, Any]  # a WSGI environ, which we only read


class SlackWsgiApp:
    def __init__(
        self,
        bolt_app: App,
        *,
        signing_secret: str,
        database_ok: Callable[[], bool],
        deliveries: Deliveries,
        on_close: Callable[[], None] = lambda: None,
        metrics_page: Callable[[], bytes] | None = None,
        webhooks: ProviderWebhooks | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._bolt = bolt_app
        self._signing_secret = signing_secret.encode()
        self._database_ok = database_ok
        self._deliveries = deliveries
        self._body_deadlines = ReadDeadlines(BODY_DEADLINE_SECONDS)
        self._metrics_page = metrics_page  # None: /metrics is served elsewhere (METRICS_PORT)
        self.close = on_close  # stops the background work this app started

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with log_context.about():  # what a request's lines concern ends with it
            try:
                return self._route(environ, start_response)
            except Exception:
                # Logged here, through our redacting handlers, once: left to the server, the
                # traceback of a database error reaches its own log as it is.
                error_id = uuid.uuid4().hex[:8]
                method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
                log.exception("error %s: %s %s failed", error_id, method, path)
                return _plain(start_response, 500, f"internal error {error_id}")

    def _route(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            if self._database_ok():
                return _plain(start_response, 200, "ok")
            return _plain(start_response, 503, "database unavailable")
        if path == metrics.METRICS_PATH and method == "GET" and self._metrics_page:
            body = self._metrics_page()
            start_response(
                "200 OK",
                [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(body)))],
            )
            return [body]
        oauth_flow = self._bolt.oauth_flow
        if oauth_flow is not None and method == "GET" and path in (INSTALL_PATH, REDIRECT_PATH):
            request = BoltRequest(
                body="",
                query=environ.get("QUERY_STRING", ""),
                headers=_headers(environ),  # type: ignore[arg-type]  # see _headers
            )
            if path == INSTALL_PATH:
                return _bolt_response(start_response, oauth_flow.handle_installation(request))
            return _bolt_response(start_response, oauth_flow.handle_callback(request))
        if self._webhooks is not None and self._webhooks.handles(path):
            if method != "POST":
                return _plain(start_response, 405, "method not allowed")
            return self._provider_request(path, environ, start_response)
        if path != EVENTS_PATH:
            return _plain(start_response, 404, "not found")
        if method != "POST":
            return _plain(start_response, 405, "method not allowed")
        return self._slack_request(environ, start_response)

    def _slack_request(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        arrived = time.monotonic()
        with self._body_deadlines.watching(environ.get("gunicorn.socket")) as watch:
            try:
                body = _read_body(environ)
                readable = True
            except Exception:  # the server's framing errors: a chunked body malformed or cut off
                body, readable = b"", False
        if watch.expired:
            return _refuse(start_response, 408, "request body not received in time")
        if not readable:
            return _refuse(start_response, 400, "request body unreadable")
        if body is None:
            return _refuse(start_response, 413, "request body too large")
        headers = _headers(environ)
        timestamp = headers.get("x-slack-request-timestamp", [""])[0]
        signature = headers.get("x-slack-signature", [""])[0]
        if not signed_by_slack(
            self._signing_secret, body, timestamp=timestamp, signature=signature
        ):
            return _refuse(start_response, 401, "invalid signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(start_response, 400, "body is not UTF-8")
        payload = _slack_payload(text, headers.get("content-type", [""])[0])
        if payload is None:
            return _refuse(start_response, 400, "not a Slack payload")
        key = delivery_key(payload, signature)
        if not self._deliveries.first(key):
            # Acknowledged as the first was, so Slack stops retrying; acted on once.
            log.info("ignored a repeated delivery (%s)", key)
            metrics.webhook_deliveries.labels("slack", "duplicate").inc()
            return _plain(start_response, 200, "")
        metrics.webhook_deliveries.labels("slack", "accepted").inc()
        response = self._bolt.dispatch(
            BoltRequest(
                body=text,
                query=environ.get("QUERY_STRING", ""),
                headers=headers,  # type: ignore[arg-type]  # see _headers
            )
        )
        answer = _bolt_response(start_response, response)
        metrics.ack_seconds.observe(time.monotonic() - arrived)
        return answer


    def _provider_request(
        self, path: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        """A video provider's webhook (calls_app/provider_web.py), read as Slack's are."""
        assert self._webhooks is not None
        with self._body_deadlines.watching(environ.get("gunicorn.socket")) as watch:
            try:
                body = _read_body(environ)
            except Exception:  # the server's framing errors
                return _plain(start_response, 400, "request body unreadable")
        if watch.expired:
            return _plain(start_response, 408, "request body not received in time")
        if body is None:
            return _plain(start_response, 413, "request body too large")
        answer = self._webhooks.handle(path, _headers(environ), body)
        data = answer.body.encode()
        start_response(
            f"{answer.status} {_REASONS[answer.status]}",
            [("Content-Type", answer.content_type), ("Content-Length", str(len(data)))],
        )
        return [data]


def _bolt_response(start_response: StartResponse, response: BoltResponse) -> list[bytes]:
    start_response(
        f"{response.status} {_REASONS.get(response.status, 'OK')}",
        [(k, v) for k, values in response.headers.items() for v in values],
    )
    return [response.body.encode("utf-8")]


def _read_body(environ: Environ) -> bytes | None:
    """The request body, or None if it is over the limit."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if length > MAX_BODY_BYTES:
        # Read what was sent (up to a bound) so the client gets its 413 instead of a reset.
        remaining = min(length, MAX_DRAIN_BYTES)
        while remaining > 0 and (chunk := stream.read(min(remaining, 65536))):
            remaining -= len(chunk)
        return None
    if length == 0 and environ.get("HTTP_TRANSFER_ENCODING", "").lower() != "chunked":
        return b""
    body = stream.read(length) if length else stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def signed_by_slack(secret: bytes, body: bytes, *, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the raw bytes, made within the last 5 minutes. Headers Slack
    never sends (a timestamp that is not a short run of ASCII digits, a signature that is not
    ASCII) are simply not signed."""
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _headers(environ: Environ) -> dict[str, list[str]]:
    # Bolt's BoltRequest takes a dict[str, str | Sequence[str]], not a Mapping: hence its ignores.
    headers = {
        key[5:].replace("_", "-").lower(): [value]
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = [environ[key]]
    return headers


def _slack_payload(text: str, content_type: str) -> dict[str, Any] | None:
    """What Slack sends: a JSON object (Events API), returned parsed, or a form (a command, or
    payload=<JSON object>), returned as its fields. None for anything else."""
    if not text.strip():
        return None
    if content_type.startswith("application/json"):
        return _json_object(text)
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        return form if _json_object(form["payload"][0]) is not None else None
    return form if "command" in form or "ssl_check" in form else None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def delivery_key(payload: dict[str, Any], signature: str) -> str:
    """The same for a delivery and its repeats. Slack retries an event with its event_id but
    a new timestamp, so a new signature; any other repeat is the same bytes, signed alike."""
    event_id = payload.get("event_id")
    is_event = payload.get("type") == "event_callback"
    if is_event and isinstance(event_id, str) and 0 < len(event_id) <= 64:
        return "event:" + event_id
    return "signature:" + hashlib.sha256(signature.encode()).hexdigest()


_REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _refuse(start_response: StartResponse, status: int, reason: str) -> list[bytes]:
    """A request stopped at the door: one log line, no traceback."""
    log.info("refused a request to %s: %d %s", EVENTS_PATH, status, reason)
    outcome = "bad_signature" if status == 401 else "bad_request"
    metrics.webhook_deliveries.labels("slack", outcome).inc()
    return _plain(start_response, status, reason)


def _plain(start_response: StartResponse, status: int, text: str) -> list[bytes]:
    body = text.encode()
    start_response(
        f"{status} {_REASONS[status]}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
