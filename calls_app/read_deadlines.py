"""A deadline for reading a request's body, under gunicorn's threaded workers.

A socket timeout bounds each recv(), not a whole body: a client sending a byte a second keeps
a request thread for as long as it likes, and a few dozen such clients hold them all. Here one
watcher thread per process shuts the reading side of each socket whose deadline has passed:
the read blocked on it returns at once, short, and no later read on it can block.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class Watch:
    """One body being read; `expired` once its deadline has cut the reading off."""

    def __init__(self, sock: socket.socket | None, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.expired = False


class ReadDeadlines:
    def __init__(self, seconds: float, *, tick_seconds: float = 0.25) -> None:
        self.seconds = seconds
        self._tick_seconds = tick_seconds
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    @contextmanager
    def watching(self, sock: socket.socket | None) -> Iterator[Watch]:
        """Reads from `sock` inside the block end by the deadline. Without a socket (another
        server than gunicorn) nothing is watched."""
        watch = Watch(sock, time.monotonic() + self.seconds)
        if sock is None:
            yield watch
            return
        with self._lock:
            # Started on first use, so in each worker process, never in gunicorn's master.
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch_forever, name="read-deadlines", daemon=True
                )
                self._watcher.start()
            self._watches.add(watch)
        try:
            yield watch
        finally:
            # Under the lock: once out of the set, the socket is never shut by the watcher.
            with self._lock:
                self._watches.discard(watch)

    def _watch_forever(self) -> None:
        while True:
            time.sleep(self._tick_seconds)
            now = time.monotonic()
            with self._lock:
                for watch in [w for w in self._watches if w.deadline <= now]:
                    self._watches.discard(watch)
                    watch.expired = True
                    with suppress(OSError):  # the client has gone already
                        watch.sock.shutdown(socket.SHUT_RD)  # type: ignore[union-attr]
