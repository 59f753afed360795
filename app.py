"""calls-app entry point: `python app.py` checks its settings, database and token, then serves.

Settings come from the environment (see README). A bad one stops the app with one line.
"""

from __future__ import annotations

import os
import sys

from calls_app.config import ConfigError, load_settings
from calls_app.db import make_engine
from calls_app.logging_setup import configure_logging, startup_error_line
from calls_app.runtime import (
    StartupError,
    check_schema,
    check_slack,
    check_stored_tokens,
    serve,
)


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.secrets, settings.log_format)
        engine = make_engine(settings.database_url)
        check_schema(engine)
        check_stored_tokens(engine, settings)
        engine.dispose()
        check_slack(settings)
        serve(settings)
    except (ConfigError, StartupError) as error:
        # LOG_FORMAT is read as it is: the error may be that settings could not be read.
        log_format = os.environ.get("LOG_FORMAT", "").strip().lower()
        print(startup_error_line(str(error), log_format), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
