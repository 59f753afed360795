"""Writing an answer on the wire, or on purpose none at all."""

from __future__ import annotations

import contextlib
import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any


def send(
    http: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    try:
        http.send_response(status)
        http.send_header("Content-Type", content_type)
        http.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        http.close_connection = True


def send_json(http: BaseHTTPRequestHandler, status: int, body: dict, **kwargs: Any) -> None:
    send(http, status, json.dumps(body).encode("utf-8"), **kwargs)


def drop(http: BaseHTTPRequestHandler) -> None:
    """Close the socket without any HTTP response: the client sees a connection error."""
    http.close_connection = True
    with contextlib.suppress(OSError):
        http.connection.shutdown(socket.SHUT_RDWR)
