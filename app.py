"""calls-app entry point: `python app.py` checks its settings, database and token, then serves.

Settings come from the environment (see README). A bad one stops the app with one line.
"""

from __future__ import annotations

import sys

from calls_app.config import ConfigError
from calls_app.runtime import (
    StartupError,
    check_slack,
    check_stored_tokens,
    serve,
    start_up,
    startup_failed,
)


def main() -> int:
    try:
        settings, engine = start_up()
        check_stored_tokens(engine, settings)
        engine.dispose()
        check_slack(settings)
        serve(settings)
    except (ConfigError, StartupError) as error:
        return startup_failed(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
