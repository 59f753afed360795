"""Zoom: meetings made with a Server-to-Server OAuth app, presence from its webhooks.

The app's token (account credentials) is cached until shortly before it expires. A meeting is
hosted by the Zoom user whose email is the Slack person's, else by ZOOM_DEFAULT_HOST. Slack
gets the join link, the desktop link and the meeting number; the host's start_url never leaves
this module. Webhooks are signed: HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the app's
secret token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from calls_app import wording
from calls_app.config import ZoomConfig
from calls_app.errors import CallsError
from calls_app.providers import (
    HostEmail,
    Meeting,
    MeetingEnded,
    Person,
    PersonJoined,
    PersonLeft,
    PresenceEvent,
)

log = logging.getLogger(__name__)

URL_VALIDATION = "endpoint.url_validation"
SIGNATURE_MAX_AGE_SECONDS = 5 * 60
TOKEN_MARGIN_SECONDS = 60  # a token this close to expiry is fetched again
TIMEOUT_SECONDS = 10.0
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MEETING_PATH = re.compile(r"/(?:j|wc/join|my)/([0-9]{9,12})(?:/.*)?")
# Zoom's codes for "no such user in this account": the meeting goes to the default host.
_NO_SUCH_USER = {1001, 1120}


class ZoomError(CallsError):
    """Zoom refused or couldn't be reached; the message is for the person who started."""


def zoom_meeting_id(number: object) -> str:
    return f"zoom:{number}"


class ZoomProvider:
    def __init__(self, config: ZoomConfig) -> None:
        self._config = config
        self.reports_presence = config.webhook_secret is not None
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0

    # -- meetings --------------------------------------------------------------------------

    def new_meeting(self, *, host_email: HostEmail) -> Meeting:
        email = host_email()
        hosts = [h for h in (email, self._config.default_host) if h]
        if not hosts:
            raise ZoomError(wording.ZOOM_NEEDS_HOST)
        for position, host in enumerate(hosts):
            status, data = self._api(
                "POST",
                f"users/{urllib.parse.quote(host)}/meetings",
                {
                    "type": 1,  # instant
                    "topic": "Slack call",
                    "settings": {"join_before_host": True},
                },
            )
            if status == 201 and isinstance(data.get("join_url"), str):
                return _meeting(data)
            if data.get("code") in _NO_SUCH_USER and position + 1 < len(hosts):
                continue  # the person has no Zoom user here: the default host's turn
            if data.get("code") in _NO_SUCH_USER:
                raise ZoomError(wording.ZOOM_NO_ACCOUNT)
            log.warning("zoom: making a meeting failed: HTTP %s code %s", status, data.get("code"))
            break
        raise ZoomError(wording.ZOOM_FAILED)

    def meeting_id_of(self, url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not (host == "zoom.us" or host.endswith(".zoom.us")):
            return None
        match = _MEETING_PATH.fullmatch(parts.path)
        return zoom_meeting_id(match.group(1)) if match else None

    # -- Zoom's API -----------------------------------------------------------------------

    def _api(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One API request (again once with a fresh token if Zoom says ours is no good)."""
        for attempt in range(2):
            token = self._access_token(fresh=attempt > 0)
            status, data = _request(
                method,
                self._config.api_url + path,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                data=json.dumps(body).encode(),
            )
            if status != 401:
                return status, data
        return status, data

    def _access_token(self, *, fresh: bool) -> str:
        with self._lock:
            if not fresh and self._token and time.monotonic() < self._token_expires:
                return self._token
            credentials = f"{self._config.client_id}:{self._config.client_secret}".encode()
            query = urllib.parse.urlencode(
                {"grant_type": "account_credentials", "account_id": self._config.account_id}
            )
            status, data = _request(
                "POST",
                f"{self._config.oauth_url}?{query}",
                headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
                data=b"",
            )
            token, lifetime = data.get("access_token"), data.get("expires_in")
            if status != 200 or not isinstance(token, str):
                log.error("zoom: no access token (HTTP %s, %s)", status, data.get("reason"))
                raise ZoomError(
                    "calls-app couldn't sign in to Zoom, so the call wasn't started. "
                    "Ask whoever runs it to check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and "
                    "ZOOM_CLIENT_SECRET."
                )
            seconds = lifetime if isinstance(lifetime, int) else 3600
            self._token = token
            self._token_expires = time.monotonic() + max(0, seconds - TOKEN_MARGIN_SECONDS)
            return token


def _request(
    method: str, url: str, *, headers: dict[str, str], data: bytes
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except (urllib.error.URLError, OSError) as error:
        log.warning("zoom: %s unreachable (%s)", urllib.parse.urlsplit(url).netloc, error)
        raise ZoomError(wording.ZOOM_UNREACHABLE) from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _meeting(data: dict[str, Any]) -> Meeting:
    number = str(data.get("id", ""))
    desktop = None
    if number.isdigit():
        query = {"confno": number}
        if data.get("encrypted_password"):
            query["pwd"] = str(data["encrypted_password"])
        desktop = "zoommtg://zoom.us/join?" + urllib.parse.urlencode(query)
    return Meeting(
        join_url=data["join_url"],
        meeting_id=zoom_meeting_id(number) if number else None,
        desktop_app_join_url=desktop,
        external_display_id=number or None,
    )


# -- webhooks ------------------------------------------------------------------------------


def url_validation_answer(secret: bytes, payload: dict[str, Any]) -> dict[str, str] | None:
    plain = (payload.get("payload") or {}).get("plainToken")
    if not isinstance(plain, str) or not plain:
        return None
    encrypted = hmac.new(secret, plain.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain, "encryptedToken": encrypted}


def signed_by_zoom(
    secret: bytes, body: bytes, *, timestamp: str, signature: str, now: float
) -> bool:
    """Zoom's v0 signature over the raw bytes, made within the last 5 minutes."""
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def events_of(payload: dict[str, Any]) -> list[PresenceEvent]:
    """What a (verified) delivery says; events we don't follow say nothing."""
    event = payload.get("event")
    body = payload.get("payload")
    meeting = body.get("object") if isinstance(body, dict) else None
    if not isinstance(meeting, dict) or meeting.get("id") in (None, ""):
        return []
    meeting_id = zoom_meeting_id(meeting["id"])
    if event == "meeting.ended":
        return [MeetingEnded(meeting_id)]
    if event not in ("meeting.participant_joined", "meeting.participant_left"):
        return []
    participant = meeting.get("participant")
    if not isinstance(participant, dict):
        return []
    person = _person(participant)
    if person is None:
        return []
    if event == "meeting.participant_joined":
        at = _time(participant.get("join_time"), payload.get("event_ts"))
        return [PersonJoined(meeting_id, person, at)]
    at = _time(participant.get("leave_time"), payload.get("event_ts"))
    return [PersonLeft(meeting_id, person, at)]


def _person(participant: dict[str, Any]) -> Person | None:
    """Named by email, else their Zoom account, else their name: `user_id` is new on every
    join, so a guest who rejoins is known by name."""
    email = _text(participant.get("email"))
    name = _text(participant.get("user_name"))
    account = _text(participant.get("participant_user_id")) or _text(participant.get("id"))
    key = (email and "email:" + email.lower()) or (account and "user:" + account)
    key = key or (name and "name:" + name.lower())
    if not key:
        return None
    return Person(key=key, display_name=name or "Guest", email=email)


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _time(iso: Any, event_ts: Any) -> datetime:
    if isinstance(iso, str):
        try:
            return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    if isinstance(event_ts, int) and not isinstance(event_ts, bool):
        return datetime.fromtimestamp(event_ts // 1000, UTC)
    return datetime.now(UTC).replace(microsecond=0)
