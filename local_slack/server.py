"""The local Slack's page over HTTP (WSGI): GET / and /state, the static files, and a POST for
each thing a person does. A POST from the page's script is answered 204; one from a plain form
(no script) is redirected back to the page."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs

from local_slack.interactions import Interactions
from local_slack.meeting import Meeting
from local_slack.page import APP, Pages, Screen, screen_from
from local_slack.workspace import Workspace

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
MAX_FORM_BYTES = 64 * 1024
SCRIPT_HEADER = "HTTP_X_LOCAL_SLACK"  # sent by page.js with every POST

StartResponse = Callable[[str, list[tuple[str, str]]], object]


class PageApp:
    """The WSGI application."""

    def __init__(
        self,
        pages: Pages,
        interactions: Interactions,
        workspace: Workspace,
        meeting: Meeting | None = None,
    ) -> None:
        self._pages = pages
        self._do = interactions
        self._workspace = workspace
        self._meeting = meeting

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        try:
            if method == "GET":
                return self._get(path, environ, start_response)
            if method == "POST":
                return self._post(path, environ, start_response)
            return _send(start_response, "405 Method Not Allowed", b"", "text/plain")
        except Exception:
            log.exception("the local Slack failed on %s %s", method, path)
            return _send(start_response, "500 Internal Server Error", b"error", "text/plain")

    def _get(self, path: str, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        query = _single(parse_qs(environ.get("QUERY_STRING", "")))
        if path == "/":
            screen = screen_from(query, self._workspace)
            if screen.at == APP and screen.tab == "home":
                # Slack sends app_home_opened each time the tab is opened; not on the poll
                threading.Thread(target=self._do.open_home, args=(screen.viewer,)).start()
            page = self._pages.full(screen).encode()
            return _send(start_response, "200 OK", page, "text/html; charset=utf-8")
        if path == "/state":
            state = self._pages.state(screen_from(query, self._workspace))
            body = json.dumps(state).encode()
            return _send(start_response, "200 OK", body, "application/json")
        if path.startswith("/static/"):
            file = STATIC_DIR / path.removeprefix("/static/")
            if file.parent == STATIC_DIR and file.suffix in STATIC_TYPES and file.is_file():
                return _send(start_response, "200 OK", file.read_bytes(), STATIC_TYPES[file.suffix])
        return _send(start_response, "404 Not Found", b"not found", "text/plain")

    def _post(self, path: str, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_FORM_BYTES:
            return _send(start_response, "413 Payload Too Large", b"", "text/plain")
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
        fields = _single(form)
        screen = screen_from(fields, self._workspace)
        action = {
            "/message": lambda: self._do.send_message(
                screen.viewer, screen.conversation, fields.get("text", "")
            ),
            "/press": lambda: self._do.press(
                screen.viewer, fields.get("container", ""), fields.get("element", "")
            ),
            "/submit": lambda: self._do.submit(screen.viewer, fields.get("view", ""), form),
            "/close": lambda: self._do.close(screen.viewer, fields.get("view", "")),
            "/meeting": lambda: self._meeting_act(screen.viewer, fields),
        }.get(path)
        if action is None:
            return _send(start_response, "404 Not Found", b"not found", "text/plain")
        action()
        return _back(start_response, screen, by_script=SCRIPT_HEADER in environ)

    def _meeting_act(self, viewer: str, fields: dict[str, str]) -> None:
        if self._meeting is not None:
            call = self._pages.call(fields.get("call", ""))
            self._meeting.act(viewer, call, fields.get("do", ""), fields.get("guest", ""))


def _single(form: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in form.items() if values}


def _back(start_response: StartResponse, screen: Screen, *, by_script: bool) -> Iterable[bytes]:
    if by_script:
        start_response("204 No Content", [])
        return [b""]
    start_response("303 See Other", [("Location", screen.url()), ("Content-Length", "0")])
    return [b""]


def _send(
    start_response: StartResponse, status: str, body: bytes, content_type: str
) -> Iterable[bytes]:
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
