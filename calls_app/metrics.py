"""The app's Prometheus metrics: every one is defined here; each call site is one line.

A call's changes of state are counted where the database confirms them (the store's
conditional updates), so racing requests on several processes count each change once.

Under gunicorn every worker writes its counts to files of one directory (prometheus_client's
multiprocess mode, `use_directory`), and a scrape of any worker, or of METRICS_PORT, adds
them all up. Elsewhere (tests, Socket Mode) a process counts in memory.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

log = logging.getLogger(__name__)

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
# What generate_latest writes: Prometheus' text format 0.0.4, read by every Prometheus.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack answers in about 100 ms; a request over a few seconds has timed out somewhere.
SLACK_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)
# Slack gives up on an acknowledgement after 3 s.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)

calls_started: Counter
calls_ended: Counter
calls_failed_to_start: Counter
participant_changes: Counter
slack_requests: Counter
slack_request_seconds: Histogram
ack_seconds: Histogram
work_queue_jobs: Gauge
work_queue_wait_seconds: Histogram
reconciler_actions: Counter
webhook_deliveries: Counter

_defined: CollectorRegistry


def _define() -> None:
    """(Re)define every metric. Their values live in memory, or in the multiprocess directory
    once `use_directory` chose one: prometheus_client decides that as a metric is made."""
    global calls_started, calls_ended, calls_failed_to_start, participant_changes
    global slack_requests, slack_request_seconds, ack_seconds, work_queue_jobs
    global work_queue_wait_seconds, reconciler_actions, webhook_deliveries, _defined
    _defined = registry = CollectorRegistry()
    calls_started = Counter(
        "calls_app_calls_started", "Calls registered with Slack.", registry=registry
    )
    calls_ended = Counter(
        "calls_app_calls_ended", "Calls ended, by why.", ["reason"], registry=registry
    )
    calls_failed_to_start = Counter(
        "calls_app_calls_failed_to_start",
        "Calls that never went live (Slack refused, or their start died).",
        registry=registry,
    )
    participant_changes = Counter(
        "calls_app_participant_changes",
        "People joining and leaving calls, as recorded.",
        ["change"],
        registry=registry,
    )
    slack_requests = Counter(
        "calls_app_slack_requests",
        "Slack Web API requests, by method and outcome "
        "(ok, slack_error, ratelimited, http_5xx, timeout, unreachable).",
        ["method", "outcome"],
        registry=registry,
    )
    slack_request_seconds = Histogram(
        "calls_app_slack_request_seconds",
        "Time a Slack Web API request took, retries included.",
        ["method"],
        buckets=SLACK_BUCKETS,
        registry=registry,
    )
    ack_seconds = Histogram(
        "calls_app_ack_seconds",
        "Time from a Slack request's arrival at /slack/events to the app's answer.",
        buckets=ACK_BUCKETS,
        registry=registry,
    )
    work_queue_jobs = Gauge(
        "calls_app_work_queue_jobs",
        "People's actions taken on and not done yet (waiting or running).",
        multiprocess_mode="livesum",
        registry=registry,
    )
    work_queue_wait_seconds = Histogram(
        "calls_app_work_queue_wait_seconds",
        "Time a person's action waited in the work queue for a thread.",
        buckets=WAIT_BUCKETS,
        registry=registry,
    )
    reconciler_actions = Counter(
        "calls_app_reconciler_actions",
        "What reconciler passes did, by rule.",
        ["rule"],
        registry=registry,
    )
    webhook_deliveries = Counter(
        "calls_app_webhook_deliveries",
        "Requests delivered to the app, by provider and outcome "
        "(accepted, duplicate, bad_signature, bad_request).",
        ["provider", "outcome"],
        registry=registry,
    )


_define()


def slack_outcome(status: int) -> str:
    """A Web API answer that was not ok, by its HTTP status."""
    if status == 429:
        return "ratelimited"
    return "http_5xx" if status >= 500 else "slack_error"


def unanswered_outcome(error: BaseException) -> str:
    """A Web API request that got no answer: it timed out, or Slack could not be reached."""
    reason = getattr(error, "reason", None)  # urllib wraps a timeout in a URLError
    timed_out = isinstance(error, TimeoutError) or isinstance(reason, TimeoutError)
    return "timeout" if timed_out else "unreachable"


def slack_request_done(method: str, outcome: str, seconds: float) -> None:
    slack_requests.labels(method, outcome).inc()
    slack_request_seconds.labels(method).observe(seconds)


def count_reconciler_pass(done: Mapping[str, int]) -> None:
    for rule, count in done.items():
        reconciler_actions.labels(rule).inc(count)


# -- several processes ---------------------------------------------------------------------


def use_directory(path: str | None = None) -> str:
    """Count in files under `path` (else PROMETHEUS_MULTIPROC_DIR, else a new private temp
    directory), emptied first: counts of processes gone before this start are not ours.
    Call before the workers are made; returns the directory."""
    path = path or os.environ.get(MULTIPROC_DIR_ENV) or tempfile.mkdtemp(prefix="calls-metrics-")
    os.makedirs(path, mode=0o700, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))
    os.environ[MULTIPROC_DIR_ENV] = path
    values.ValueClass = values.get_value_class()
    _define()
    return path


def forget_directory(path: str) -> None:
    """At exit, remove a directory `use_directory` made."""
    shutil.rmtree(path, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """A dead worker's gauges no longer count; its counters still do."""
    if _multiprocess():
        mark_process_dead(pid)


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR_ENV))


# -- the page ----------------------------------------------------------------------------------


class DatabaseGauges:
    """Gauges read from the database at scrape time: two counts, cheap. `read` returns
    (calls starting, live or being ended; outbox items not done)."""

    def __init__(self, read: Callable[[], tuple[int, int]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        try:
            live, pending = self._read()
        except Exception:  # a scrape must still answer while the database is down
            log.warning("metrics: the database could not be read", exc_info=True)
            return
        yield GaugeMetricFamily(
            "calls_app_live_calls", "Calls starting, live or being ended.", value=live
        )
        yield GaugeMetricFamily(
            "calls_app_outbox_items", "Outbox items not done yet, due or not.", value=pending
        )


def render(database: DatabaseGauges | None) -> bytes:
    """The metrics page: this process's counts, or every worker's, and the database's gauges."""
    registry = CollectorRegistry()
    if _multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_defined)
    if database is not None:
        registry.register(database)
    return generate_latest(registry)


def metrics_wsgi_app(page: Callable[[], bytes]) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH or environ.get("REQUEST_METHOD") != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        body = page()
        start_response(
            "200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


class _IPv6Server(WSGIServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        pass


def serve_port(host: str, port: int, page: Callable[[], bytes]) -> WSGIServer:
    """Serve GET /metrics on host:port from a daemon thread of this process."""
    server_class = _IPv6Server if ":" in host else WSGIServer
    server = make_server(
        host, port, metrics_wsgi_app(page), server_class=server_class, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics served on %s:%d%s", host, port, METRICS_PATH)
    return server
