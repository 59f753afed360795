"""The baseline: the least a Bolt app can do for `/call start <title>` and `/call end`.

Same Web API calls as the app on the common path — `calls.add` + `chat.postMessage` (with a
`call` block) to start, `calls.end` (with the duration) + `chat.update` to end, a private reply
on the command's response_url each time — with the state in a dict keyed by channel.

It is served the way the app serves itself: gunicorn, embedded, with the options the benchmark
read from the app's own `GunicornServer` (passed in BENCH_GUNICORN_OPTIONS as JSON), and Bolt's
listener pool as large as the app's (BENCH_LISTENER_THREADS). It imports nothing of calls_app,
so its memory is that of Bolt, slack-sdk and gunicorn alone.

Settings: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL, PORT, LOG_LEVEL.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

POSTED_WAIT_SECONDS = 10.0

_calls: dict[str, dict[str, Any]] = {}  # channel id -> the call running there
_lock = threading.Lock()


def _call_message(user: str, title: str, call_id: str, value: str, join_url: str) -> dict:
    def button(text: str, action_id: str, **extra: str) -> dict:
        return {
            "type": "button",
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "action_id": action_id,
            "value": value,
            **extra,
        }

    return {
        "text": f"<@{user}> started a call: {title}",
        "blocks": [
            {"type": "call", "call_id": call_id},
            {
                "type": "actions",
                "block_id": "call_actions",
                "elements": [
                    button("Join", "call_join", style="primary", url=join_url),
                    button("Leave", "call_leave"),
                    button("Rename", "call_rename"),
                    button("End call", "call_end", style="danger"),
                ],
            },
        ],
    }


def start(client: WebClient, respond: Any, *, user: str, channel: str, title: str) -> None:
    started = int(time.time())
    join_url = "https://meet.jit.si/calls-" + secrets.token_hex(16)
    call = client.calls_add(
        external_unique_id=str(uuid.uuid4()),
        join_url=join_url,
        title=title,
        created_by=user,
        date_start=started,
        users=[{"slack_id": user}],
    )["call"]
    entry = {
        "id": call["id"],
        "user": user,
        "title": title,
        "started": started,
        "ts": None,
        "posted": threading.Event(),
    }
    # Known before the message is out: an End pressed at once finds the call.
    with _lock:
        _calls[channel] = entry
    try:
        posted = client.chat_postMessage(
            channel=channel,
            unfurl_links=False,
            unfurl_media=False,
            **_call_message(user, title, call["id"], call["id"], join_url),
        )
        entry["ts"] = posted["ts"]
    finally:
        entry["posted"].set()
    respond(text=f"Started *{title}*.", response_type="ephemeral", replace_original=False)


def end(client: WebClient, respond: Any, *, user: str, channel: str) -> None:
    with _lock:
        entry = _calls.get(channel)
        if entry is not None and entry["user"] == user:
            del _calls[channel]
    if entry is None:
        respond(text="There's no call in this channel.", response_type="ephemeral")
        return
    if entry["user"] != user:
        respond(text="Only the person who started it can end it.", response_type="ephemeral")
        return
    duration = max(0, int(time.time()) - entry["started"])
    client.calls_end(id=entry["id"], duration=duration)
    summary = f"Ended by <@{user}>. It lasted {duration // 60} min."
    if entry["posted"].wait(POSTED_WAIT_SECONDS) and entry["ts"]:
        client.chat_update(
            channel=channel,
            ts=entry["ts"],
            text=f"Call ended: {entry['title']}. {summary}",
            blocks=[
                {"type": "call", "call_id": entry["id"]},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": summary}]},
            ],
        )
    respond(
        text=f"You ended *{entry['title']}*. {summary}",
        response_type="ephemeral",
        replace_original=False,
    )


def build_app() -> App:
    client = WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL") or "https://slack.com/api/",
    )
    app = App(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(
            max_workers=int(os.environ.get("BENCH_LISTENER_THREADS") or 16)
        ),
    )

    @app.command("/call")
    def call_command(ack: Any, command: dict, client: WebClient, respond: Any) -> None:
        ack()
        verb, _, rest = command.get("text", "").strip().partition(" ")
        user, channel = command["user_id"], command["channel_id"]
        if verb == "start":
            start(client, respond, user=user, channel=channel, title=rest.strip() or "Call")
        elif verb == "end":
            end(client, respond, user=user, channel=channel)
        else:
            respond(text="`/call start <title>` or `/call end`", response_type="ephemeral")

    return app


def build_wsgi_app() -> Any:
    handler = SlackRequestHandler(build_app())

    def wsgi(environ: dict, start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return handler(environ, start_response)

    return wsgi


class BaselineServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        level = os.environ.get("LOG_LEVEL", "WARNING").upper()
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return build_wsgi_app()


def main() -> None:
    options = json.loads(os.environ.get("BENCH_GUNICORN_OPTIONS") or "{}")
    # Loopback only; everything else as the app's own server sets it.
    options["bind"] = f"127.0.0.1:{int(os.environ.get('PORT') or 3000)}"
    BaselineServer(options).run()


if __name__ == "__main__":
    main()
