"""Faults a test injects with ``FakeSlack.fail_next``: an error, a 429, a 5xx, a dropped
connection, a delay or a hang, for the next requests to one method."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from local_slack.web_api.replies import drop, send, send_json


@dataclass
class Fault:
    error: str | None
    status: int
    retry_after: int | None
    delay: float
    hang: threading.Event | None
    drop_connection: bool
    times: int
    landed: bool = False

    @property
    def answers(self) -> bool:
        """False for a fault that only slows the request down before normal processing."""
        return self.drop_connection or self.status != 200 or self.error is not None


class FaultQueues:
    """Per method, the faults still to happen, in the order they were asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def add(self, method: str, fault: Fault) -> None:
        with self._lock:
            self._queues.setdefault(method, deque()).append(fault)

    def take(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._queues.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.popleft()
            return fault


def wait_out(fault: Fault, stopping: threading.Event) -> None:
    """The fault's delay and hang; a stopping fake releases both."""
    if fault.delay:
        stopping.wait(fault.delay)
    if fault.hang is not None:
        while not fault.hang.wait(0.05) and not stopping.is_set():
            pass


def answer_fault(
    http: BaseHTTPRequestHandler, fault: Fault, record: Callable[[int, dict], None]
) -> None:
    """Answer as the fault says, calling ``record(status, body)`` first (0 = dropped).

    Recording before answering keeps ``requests`` in the order the client saw answers.
    """
    if fault.drop_connection:
        record(0, {})
        drop(http)
    elif fault.status == 429:
        body = {"ok": False, "error": fault.error or "ratelimited"}
        retry_after = 1 if fault.retry_after is None else fault.retry_after
        record(429, body)
        send_json(http, 429, body, headers={"Retry-After": str(retry_after)})
    elif fault.status >= 500:
        record(fault.status, {})
        page = f"<html><body><h1>{fault.status} Server Error</h1></body></html>"
        send(http, fault.status, page.encode(), "text/html; charset=utf-8")
    else:
        body = {"ok": False, "error": fault.error or "request_failed"}
        record(fault.status, body)
        send_json(http, fault.status, body)


def fault_name(status: int) -> str:
    return f"injected HTTP {status}" if status else "dropped connection"
