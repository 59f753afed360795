"""A fake Zoom over HTTP: Server-to-Server OAuth tokens and meeting creation, as Zoom's REST
API answers them (zoom.us/oauth/token, api.zoom.us/v2/users/{userId}/meetings)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class FakeZoomMeeting:
    id: int
    host_email: str
    topic: str
    type: int
    join_url: str
    start_url: str
    encrypted_password: str


@dataclass
class FakeZoom:
    account_id: str = "acct-0001"
    client_id: str = "zoom-client-id"
    client_secret: str = "zoom-client-secret"
    users: set[str] = field(default_factory=set)  # emails of the account's Zoom users
    token_lifetime: int = 3600
    meetings: list[FakeZoomMeeting] = field(default_factory=list)
    token_requests: int = 0
    api_requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: set[str] = set()
        self._next_id = 85_012_345_670
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeZoom:
        fake = self

        class Handler(_Handler):
            zoom = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def root_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """The app's settings pointing at this fake."""
        return {
            "CALLS_JOIN_URL_PROVIDER": "zoom",
            "ZOOM_ACCOUNT_ID": self.account_id,
            "ZOOM_CLIENT_ID": self.client_id,
            "ZOOM_CLIENT_SECRET": self.client_secret,
            "ZOOM_API_URL": f"{self.root_url}/v2/",
            "ZOOM_OAUTH_URL": f"{self.root_url}/oauth/token",
        }

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (as when it expires early)."""
        with self._lock:
            self._tokens.clear()

    # -- requests --------------------------------------------------------------------------

    def token(self, query: dict[str, list[str]], authorization: str) -> tuple[int, dict]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
        if query.get("grant_type") != ["account_credentials"]:
            return 400, {"reason": "unsupported grant type", "error": "unsupported_grant_type"}
        if query.get("account_id") != [self.account_id]:
            return 400, {"reason": "Invalid account_id", "error": "invalid_request"}
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.token_requests += 1
            self._tokens.add(token)
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "scope": "meeting:write:meeting:admin",
        }

    def create_meeting(self, user: str, authorization: str, body: dict) -> tuple[int, dict]:
        token = authorization.removeprefix("Bearer ")
        with self._lock:
            self.api_requests.append(("POST", f"/v2/users/{user}/meetings", token))
            if token not in self._tokens:
                return 401, {"code": 124, "message": "Invalid access token."}
            if user.lower() not in self.users:
                return 404, {"code": 1001, "message": f"User does not exist: {user}."}
            self._next_id += 1
            number = self._next_id
            pwd = secrets.token_urlsafe(16)
            meeting = FakeZoomMeeting(
                id=number,
                host_email=user.lower(),
                topic=str(body.get("topic", "")),
                type=int(body.get("type", 2)),
                join_url=f"https://us02web.zoom.us/j/{number}?pwd={pwd}",
                start_url=f"https://us02web.zoom.us/s/{number}?zak=host-secret-{pwd}",
                encrypted_password=pwd,
            )
            self.meetings.append(meeting)
        return 201, {
            "id": number,
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "host_id": "host-" + user.lower(),
            "topic": meeting.topic,
            "type": meeting.type,
            "join_url": meeting.join_url,
            "start_url": meeting.start_url,
            "password": "123456",
            "encrypted_password": pwd,
        }


class _Handler(BaseHTTPRequestHandler):
    zoom: FakeZoom

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        authorization = self.headers.get("Authorization", "")
        if parts.path == "/oauth/token":
            status, answer = self.zoom.token(parse_qs(parts.query), authorization)
        elif parts.path.startswith("/v2/users/") and parts.path.endswith("/meetings"):
            user = unquote(parts.path.removeprefix("/v2/users/").removesuffix("/meetings"))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                status, answer = (
                    400,
                    {"code": 300, "message": "Request Body should be a valid JSON"},
                )
            else:
                status, answer = self.zoom.create_meeting(user, authorization, body)
        else:
            status, answer = 404, {"code": 404, "message": "no such path"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
