"""HTTP under gunicorn, from a master that imports only what gunicorn needs.

`python app.py` checks the database and the token, then replaces itself with this module
(`exec`, same pid): the master keeps nothing of the checks (Alembic, the app's modules) and
each worker loads the app after it is forked, so neither carries more than it uses.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from calls_app import metrics
from calls_app.config import ConfigError, Settings, StartupError, load_settings
from calls_app.logging_setup import configure_logging, gunicorn_logger_class, startup_failed


class GunicornServer(BaseApplication):
    """gunicorn, embedded: threaded workers, graceful stop on SIGTERM."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"0.0.0.0:{self._settings.port}",
            "workers": self._settings.workers,
            "worker_class": "gthread",
            "threads": self._settings.threads,
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "loglevel": self._settings.log_level.lower(),
            # gunicorn's control socket is one per host by default: instances would share it.
            "control_socket_disable": True,
            "logger_class": gunicorn_logger_class(
                self._settings.secrets, self._settings.log_format
            ),
            # A dead worker's gauges (work in its queue) no longer count.
            "child_exit": lambda _server, worker: metrics.worker_exited(worker.pid),
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from calls_app.runtime import production_wsgi_app  # in the worker, after the fork

        return production_wsgi_app(self._settings)


def exec_server() -> None:
    """Become the HTTP server: this process image is replaced (pid, stdio and environment kept)."""
    # calls_app from where this process found it, whatever the working directory holds
    root = str(Path(__file__).resolve().parent.parent)
    code = f"import sys; sys.path.insert(0, {root!r}); import {__name__} as s; sys.exit(s.main())"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-c", code])


def serve(settings: Settings) -> None:
    # Before any worker is made: every worker counts in files of this directory, so a
    # scrape adds them all up, and a worker gunicorn replaces keeps its counts.
    made_here = metrics.MULTIPROC_DIR_ENV not in os.environ
    directory, master = metrics.use_directory(), os.getpid()
    try:
        if settings.metrics_bind is not None:
            from calls_app.runtime import metrics_page_of_a_master, serve_metrics_port

            serve_metrics_port(settings, metrics_page_of_a_master(settings))
        GunicornServer(settings).run()
    finally:
        if made_here and os.getpid() == master:  # a worker leaves through here too
            metrics.forget_directory(directory)


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.secrets, settings.log_format)
        serve(settings)
    except (ConfigError, StartupError) as error:
        return startup_failed(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
