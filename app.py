"""calls-app entry point: `python app.py` checks its settings, database and token, then serves.

Settings come from the environment (see README). A bad one stops the app with one line.
"""

from __future__ import annotations

import sys

from calls_app.config import ConfigError, StartupError, load_settings
from calls_app.db import make_engine
from calls_app.http_server import exec_server, settings_log_format
from calls_app.logging_setup import configure_logging, startup_error_line
from calls_app.runtime import check_schema, check_slack, check_stored_tokens, serve_socket_mode


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.secrets, settings.log_format)
        engine = make_engine(settings.database_url)
        check_schema(engine)
        check_stored_tokens(engine, settings)
        engine.dispose()
        check_slack(settings)
        if settings.app_token:
            serve_socket_mode(settings, settings.app_token)
        else:
            exec_server()  # HTTP from a fresh process: nothing of the checks stays in memory
    except (ConfigError, StartupError) as error:
        print(startup_error_line(str(error), settings_log_format()), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
