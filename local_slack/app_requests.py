"""Requests as Slack sends them to the app: signed, to POST /slack/events, shaped like Slack's
payloads. The tests drive the app with them, and so does the local Slack of ``make demo``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"  # the tests' app has this one
APP_ID = "A123456"


@dataclass
class HttpResult:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}


def sign(body: bytes, timestamp: int | str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def post(
    url: str,
    body: bytes,
    *,
    content_type: str,
    signed: bool = True,
    timestamp: int | str | None = None,
    signature: str | None = None,
    extra_headers: dict[str, str] | None = None,
    secret: str = SIGNING_SECRET,
) -> HttpResult:
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": content_type, **(extra_headers or {})}
    if signed:
        headers["X-Slack-Request-Timestamp"] = str(timestamp)
        headers["X-Slack-Signature"] = signature or sign(body, timestamp, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return HttpResult(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, error.read().decode(), dict(error.headers))


def get(url: str) -> HttpResult:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return HttpResult(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, error.read().decode(), dict(error.headers))


def slash_command_form(
    text: str,
    *,
    user: str,
    response_url: str,
    team_id: str = "T0001",
    channel: str = "C0GENERAL",
    channel_name: str = "general",
    enterprise_id: str | None = None,
    org_wide: bool = False,
    trigger_id: str | None = None,
) -> dict[str, str]:
    """A `/call` command as Slack sends it: the fields of its form. With `org_wide`, from a
    workspace of an organization the app is installed on as a whole."""
    enterprise = {"enterprise_id": enterprise_id, "enterprise_name": "Org"} if enterprise_id else {}
    return {
        **enterprise,
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user.lower(),
        "command": "/call",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "true" if org_wide else "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"trigger-{time.monotonic_ns()}",
    }


def button_click_payload(
    action_id: str,
    value: str | None,
    *,
    user: str,
    response_url: str,
    team_id: str = "T0001",
    channel: str = "C0GENERAL",
    message_ts: str = "1700000000.000200",
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> dict:
    """A block_actions payload for a button in a message the app posted."""
    element = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": "Button", "emoji": True},
    }
    if value is not None:
        element["value"] = value
    return block_actions_payload(
        button_action(element, block_id="call_actions"),
        user=user,
        team_id=team_id,
        container={
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        channel={"id": channel, "name": "general"},
        message={"type": "message", "ts": message_ts, "text": "…", "blocks": []},
        response_url=response_url,
        enterprise_id=enterprise_id,
        org_wide=org_wide,
    )


def button_action(element: dict, *, block_id: str, action_ts: str | None = None) -> dict:
    """The `actions` entry Slack sends when a person presses the button `element`."""
    action = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "text": element["text"],
        "type": "button",
        "action_ts": action_ts or f"{time.time():.6f}",
    }
    for key in ("value", "style", "url"):
        if key in element:
            action[key] = element[key]
    return action


def block_actions_payload(
    action: dict,
    *,
    user: str,
    team_id: str,
    container: dict,
    trigger_id: str | None = None,
    channel: dict | None = None,
    message: dict | None = None,
    view: dict | None = None,
    response_url: str | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> dict:
    """A press of `action`: on a message (`channel`, `message` and a `response_url`), or in
    a view (`view`: a Home tab or a modal, which have none)."""
    payload: dict = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "verification-token-unused",
        "container": container,
        "trigger_id": trigger_id or f"trigger-{time.monotonic_ns()}",
    }
    if channel is not None:  # on a message: a private one (ephemeral) comes without it
        payload["channel"] = channel
        if message is not None:
            payload["message"] = message
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url
    if view is not None:
        payload["view"] = view
    payload["actions"] = [action]
    _add_installed_on(payload, team_id, enterprise_id=enterprise_id, org_wide=org_wide)
    return payload


def view_submission_payload(
    view: dict,
    values: dict,
    *,
    user: str,
    team_id: str,
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> dict:
    """A modal's submission: `view` as Slack holds it, with the state Slack sends for `values`
    (block_id -> action_id -> the input's value object)."""
    payload = {
        "type": "view_submission",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "verification-token-unused",
        "trigger_id": trigger_id or f"trigger-{time.monotonic_ns()}",
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
    }
    _add_installed_on(payload, team_id, enterprise_id=enterprise_id, org_wide=org_wide)
    return payload


def app_home_opened_event(user: str) -> dict:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0LAHSQ9B",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }


def event_envelope(
    event: dict, *, team_id: str = "T0001", enterprise_id: str | None = None, org_wide: bool = False
) -> dict:
    """An Events API delivery of `event`; with `org_wide`, to an organization-wide install
    (its authorization names the organization, not a workspace)."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "enterprise_id": enterprise_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if org_wide else team_id,
                "user_id": "U0BOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
        "is_ext_shared_channel": False,
    }


def _add_installed_on(
    payload: dict, team: str, *, enterprise_id: str | None, org_wide: bool
) -> None:
    """The fields of an interactivity payload that say where it comes from and where the app
    is installed; for an org-wide install, a view's app_installed_team_id is the org's id."""
    payload["team"] = {"id": team, "domain": "example"}
    payload["enterprise"] = None
    if enterprise_id:
        payload["team"] |= {"enterprise_id": enterprise_id, "enterprise_name": "Org"}
        payload["enterprise"] = {"id": enterprise_id, "name": "Org"}
    payload["is_enterprise_install"] = org_wide
    if "view" in payload:
        payload["view"]["app_installed_team_id"] = enterprise_id if org_wide else team


class SlackDriver:
    """Drives the app as Slack does: one method per kind of request."""

    def __init__(self, events_url: str, new_response_url, *, team_id: str = "T0001") -> None:
        self.events_url = events_url
        self._new_response_url = new_response_url
        self.team_id = team_id

    def command(
        self,
        text: str,
        *,
        user: str,
        channel: str = "C0GENERAL",
        channel_name: str = "general",
        team_id: str | None = None,
        response_url: str | None = None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> tuple[HttpResult, str]:
        """A `/call` slash command; returns the HTTP answer and the command's response_url."""
        response_url = response_url or self._new_response_url()
        form = slash_command_form(
            text,
            user=user,
            team_id=team_id or self.team_id,
            channel=channel,
            channel_name=channel_name,
            response_url=response_url,
            enterprise_id=enterprise_id,
            org_wide=org_wide,
        )
        body = urlencode(form).encode()
        return self.post_form(body), response_url

    def click(
        self,
        action_id: str,
        value: str | None,
        *,
        user: str,
        channel: str = "C0GENERAL",
        team_id: str | None = None,
        message_ts: str = "1700000000.000200",
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> tuple[HttpResult, str, str]:
        """A button in a message; returns the HTTP answer, the response_url and the trigger_id."""
        response_url = self._new_response_url()
        payload = button_click_payload(
            action_id,
            value,
            user=user,
            team_id=team_id or self.team_id,
            channel=channel,
            message_ts=message_ts,
            response_url=response_url,
            enterprise_id=enterprise_id,
            org_wide=org_wide,
        )
        trigger_id = payload["trigger_id"]
        return self.post_payload(payload), response_url, trigger_id

    def click_in_home(
        self,
        action_id: str,
        value: str | None,
        *,
        user: str,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> tuple[HttpResult, str]:
        """A button in the App Home tab: no message, no channel, no response_url. With
        `org_wide`, from a workspace of an organization the app is installed on as a whole."""
        team = team_id or self.team_id
        trigger_id = f"trigger-{time.monotonic_ns()}"
        element = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": "Button"},
        }
        if value is not None:
            element["value"] = value
        payload = block_actions_payload(
            button_action(element, block_id="home", action_ts="1700000001.000300"),
            user=user,
            team_id=team,
            container={"type": "view", "view_id": "V0HOME0001"},
            trigger_id=trigger_id,
            view={
                "id": "V0HOME0001",
                "team_id": team,
                "type": "home",
                "blocks": [],
                "private_metadata": "",
                "callback_id": "",
                "state": {"values": {}},
                "hash": "1700000000.abcdef",
                "app_id": APP_ID,
                "bot_id": "B0BOT",
            },
            enterprise_id=enterprise_id,
            org_wide=org_wide,
        )
        return self.post_payload(payload), trigger_id

    def open_home(self, *, user: str, team_id: str | None = None) -> HttpResult:
        return self.event(app_home_opened_event(user), team_id=team_id)

    def submit_view(
        self,
        view: dict,
        values: dict,
        *,
        user: str,
        team_id: str | None = None,
        view_id: str = "V0MODAL001",
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> HttpResult:
        """A modal's submission, with the state Slack would send for `values`; with
        `org_wide`, from a workspace of an organization the app is installed on as a whole."""
        team = team_id or self.team_id
        held = {
            "id": view_id,
            "team_id": team,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "hash": "1700000000.abcdef",
            "app_id": APP_ID,
            "bot_id": "B0BOT",
            "blocks": view.get("blocks", []),
        }
        payload = view_submission_payload(
            held,
            values,
            user=user,
            team_id=team,
            enterprise_id=enterprise_id,
            org_wide=org_wide,
        )
        return self.post_payload(payload)

    def event(
        self,
        event: dict,
        *,
        team_id: str | None = None,
        headers: dict | None = None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> HttpResult:
        envelope = event_envelope(
            event, team_id=team_id or self.team_id, enterprise_id=enterprise_id, org_wide=org_wide
        )
        return post(
            self.events_url,
            json.dumps(envelope).encode(),
            content_type="application/json",
            extra_headers=headers,
        )

    def post_form(self, body: bytes, **kwargs) -> HttpResult:
        return post(
            self.events_url, body, content_type="application/x-www-form-urlencoded", **kwargs
        )

    def post_payload(self, payload: dict) -> HttpResult:
        return self.post_form(urlencode({"payload": json.dumps(payload)}).encode())
