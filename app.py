"""calls-app entry point: `python app.py` checks its settings, database and token, then serves.

Settings come from the environment (see README). A bad one stops the app with one line.
"""

from __future__ import annotations

import sys

from calls_app.config import ConfigError, StartupError
from calls_app.http_server import exec_server
from calls_app.logging_setup import startup_failed
from calls_app.runtime import check_slack, check_stored_tokens, serve_socket_mode, start_up


def main() -> int:
    try:
        settings, engine = start_up()
        check_stored_tokens(engine, settings)
        engine.dispose()
        check_slack(settings)
        if settings.app_token:
            serve_socket_mode(settings, settings.app_token)
        else:
            exec_server()  # HTTP from a fresh process: nothing of the checks stays in memory
    except (ConfigError, StartupError) as error:
        return startup_failed(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
