"""Where people's actions run after Slack has its ack: a bounded queue and a few threads.

A request thread never waits on Slack. It acknowledges and hands the work here; when the
queue is full it says so at once, so the person is told the app is busy instead of the work
happening minutes after they gave up.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from calls_app import metrics

log = logging.getLogger(__name__)

Job = Callable[[], None]


class WorkQueue:
    def __init__(self, *, threads: int, capacity: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="work")
        # "Busy" notices go on a lane of their own: they must get out when the queue is full.
        self._notices = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notice")
        self._capacity = capacity
        self._taken = 0  # running and waiting: what this process has promised and not done
        self._notices_pending = 0
        self._lock = threading.Lock()

    def reserve(self) -> bool:
        """Hold a place for a job to be given with run_reserved(); False when full."""
        with self._lock:
            if self._taken >= self._capacity:
                return False
            self._taken += 1
        metrics.work_queue_jobs.inc()
        return True

    def run_reserved(self, job: Job) -> None:
        # The job's log lines name what its request concerned (calls_app/log_context.py).
        context = contextvars.copy_context()
        self._executor.submit(context.run, self._run, job, time.monotonic())

    def submit(self, job: Job) -> bool:
        """Run `job` soon; False, and nothing queued, when the queue is full."""
        if not self.reserve():
            return False
        self.run_reserved(job)
        return True

    def tell(self, notice: Job) -> None:
        """Send a short notice (the app is busy) off the request thread; dropped if even
        those pile up."""
        with self._lock:
            if self._notices_pending >= self._capacity:
                log.warning("busy notice dropped: too many pending")
                return
            self._notices_pending += 1
        self._notices.submit(contextvars.copy_context().run, self._notify, notice)

    def _run(self, job: Job, queued_at: float) -> None:
        metrics.work_queue_wait_seconds.observe(time.monotonic() - queued_at)
        try:
            job()
        except Exception:
            log.exception("queued work failed")
        finally:
            with self._lock:
                self._taken -= 1
            metrics.work_queue_jobs.dec()

    def _notify(self, notice: Job) -> None:
        try:
            notice()
        except Exception:
            log.warning("busy notice could not be sent", exc_info=True)
        finally:
            with self._lock:
                self._notices_pending -= 1

    def shutdown(self) -> None:
        """Take nothing more; return once the work already taken is done."""
        self._executor.shutdown(wait=True)
        self._notices.shutdown(wait=True)
