"""The video providers' webhooks: POST /jitsi/events/<event> and POST /zoom/events.

Each delivery is checked (Jitsi: the bearer token event_sync carries; Zoom: its signature),
parsed, and recorded before the answer (calls_app/presence.py); Slack is told afterwards,
from the outbox. Bad deliveries change nothing: 401 unchecked, 400 not a JSON object or not
an event, 404 for a provider that isn't set up.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from calls_app.clock import Clock
from calls_app.errors import SlackFailure
from calls_app.presence import PresenceRecorder
from calls_app.providers import PresenceEvent, jitsi_events, zoom

log = logging.getLogger(__name__)

JITSI_PREFIX = "/jitsi/events/"
ZOOM_PATH = "/zoom/events"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


class ProviderWebhooks:
    def __init__(
        self,
        *,
        recorder: PresenceRecorder,
        clock: Clock,
        jitsi_token: str | None,
        zoom_secret: str | None,
        unix_time: Callable[[], float] = time.time,
    ) -> None:
        self._recorder = recorder
        self._clock = clock
        self._jitsi_token = jitsi_token.encode() if jitsi_token else None
        self._zoom_secret = zoom_secret.encode() if zoom_secret else None
        self._unix_time = unix_time

    @staticmethod
    def handles(path: str) -> bool:
        return path.startswith(JITSI_PREFIX) or path == ZOOM_PATH

    def handle(self, path: str, headers: dict[str, list[str]], body: bytes) -> Answer:
        """One delivery, its body already read within the size limit."""
        if path == ZOOM_PATH:
            return self._zoom(headers, body)
        return self._jitsi(path.removeprefix(JITSI_PREFIX), headers, body)

    def _jitsi(self, event: str, headers: dict[str, list[str]], body: bytes) -> Answer:
        if self._jitsi_token is None or event not in jitsi_events.EVENTS:
            return Answer(404, "not found")
        given = _header(headers, "authorization").encode()
        if not hmac.compare_digest(b"Bearer " + self._jitsi_token, given):
            return _refused(401, "invalid token", JITSI_PREFIX + event)
        payload = _json_object(body)
        if payload is None:
            return _refused(400, "body is not a JSON object", JITSI_PREFIX + event)
        try:
            events = jitsi_events.events_of(event, payload, now=self._clock())
        except jitsi_events.NotAnEvent as problem:
            return _refused(400, f"not an event_sync body ({problem})", JITSI_PREFIX + event)
        return self._record(events)

    def _zoom(self, headers: dict[str, list[str]], body: bytes) -> Answer:
        if self._zoom_secret is None:
            return Answer(404, "not found")
        payload = _json_object(body)
        if payload is None:
            return _refused(400, "body is not a JSON object", ZOOM_PATH)
        if payload.get("event") == zoom.URL_VALIDATION:
            # Zoom checks the endpoint before it sends anything else: prove we hold the secret.
            answer = zoom.url_validation_answer(self._zoom_secret, payload)
            if answer is None:
                return _refused(400, "no plainToken", ZOOM_PATH)
            return Answer(200, json.dumps(answer), "application/json")
        if not zoom.signed_by_zoom(
            self._zoom_secret,
            body,
            timestamp=_header(headers, "x-zm-request-timestamp"),
            signature=_header(headers, "x-zm-signature"),
            now=self._unix_time(),
        ):
            return _refused(401, "invalid signature", ZOOM_PATH)
        return self._record(zoom.events_of(payload))

    def _record(self, events: list[PresenceEvent]) -> Answer:
        try:
            self._recorder.record(events)
        except SlackFailure as failure:
            # Only a Slack user lookup can fail here; the provider sends the delivery again.
            log.warning("presence not recorded yet: %s failed (%s)", failure.method, failure.error)
            return Answer(503, "try again")
        return Answer(200, "")


def _header(headers: dict[str, list[str]], name: str) -> str:
    value = headers.get(name, [""])[0]
    return value if value.isascii() else ""


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _refused(status: int, reason: str, path: str) -> Answer:
    log.info("refused a request to %s: %d %s", path, status, reason)
    return Answer(status, reason)
