"""Posts to a slash command's or an action's response_url: five uses, bodies checked as Slack
checks a message."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_slack.web_api.blockkit import check_message_blocks
from local_slack.web_api.errors import SlackError
from local_slack.web_api.faults import FaultQueues, answer_fault, fault_name, wait_out
from local_slack.web_api.methods import missing
from local_slack.web_api.replies import send, send_json
from local_slack.web_api.state import SlackState, Team

RESPONSE_URL_USES = 5


def serve_response_url(
    state: SlackState,
    faults: FaultQueues,
    stopping: threading.Event,
    http: BaseHTTPRequestHandler,
    url: str,
    body: bytes,
) -> None:
    fault = faults.take("response_url")
    if fault is not None:
        wait_out(fault, stopping)
        if fault.answers:
            answer_fault(
                http,
                fault,
                lambda status, body: state.reject_response(
                    url, status, body.get("error") or fault_name(status), None
                ),
            )
            return
    with state.lock:
        status, answer = _accept_response(state, url, body)
    if isinstance(answer, bytes):
        send(http, status, answer, "text/plain; charset=utf-8")
    else:
        send_json(http, status, answer)


def _accept_response(state: SlackState, url: str, body: bytes) -> tuple[int, bytes | dict]:
    """Record a body posted to a response_url, refusing what Slack refuses."""
    entry = state.response_urls.get(url)
    if entry is None:
        return 404, b"no_service"
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        state.reject_response(url, 400, "invalid_payload", body.decode("utf-8", "replace"))
        return 400, {"ok": False, "error": "invalid_payload"}
    if entry["uses"] >= RESPONSE_URL_USES:
        state.reject_response(url, 404, "used_url", payload)
        return 404, {"ok": False, "error": "used_url"}
    try:
        _check_payload(state, state.teams[entry["team_id"]], payload)
    except SlackError as refusal:
        state.reject_response(url, 400, refusal.error, payload, refusal.messages)
        return 400, refusal.body()
    entry["uses"] += 1
    state.record_response(url, payload)
    return 200, b"ok"


def _check_payload(state: SlackState, team: Team, payload: dict[str, Any]) -> None:
    if payload.get("delete_original"):
        return
    blocks = payload.get("blocks")
    if blocks is not None:
        check_message_blocks(blocks, state.call_exists_in(team))
    if missing(payload.get("text")) and not blocks and not payload.get("attachments"):
        raise SlackError("no_text")
    response_type = payload.get("response_type")
    if response_type is not None and response_type not in ("in_channel", "ephemeral"):
        raise SlackError(
            "invalid_response_type",
            messages=[f"response_type must be in_channel or ephemeral: {response_type!r}"],
        )
