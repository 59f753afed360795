"""gunicorn settings for running gunicorn yourself: `gunicorn -c python:calls_app.gunicorn_hooks`
(with PROMETHEUS_MULTIPROC_DIR set to an empty directory; see README, Metrics). `python app.py`
sets up the same itself."""

from __future__ import annotations

from typing import Any

from calls_app import metrics
from calls_app.config import load_settings
from calls_app.runtime import metrics_page_of_a_master, serve_metrics_port


def when_ready(_server: Any) -> None:
    """METRICS_PORT, if set, is served by the master: it sees every worker's counts."""
    settings = load_settings()
    serve_metrics_port(settings, metrics_page_of_a_master(settings))


def child_exit(_server: Any, worker: Any) -> None:
    """A dead worker's gauges no longer count; its counters still do."""
    metrics.worker_exited(worker.pid)
