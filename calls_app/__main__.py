"""`python -m calls_app reconcile`: one reconciler pass, for cron-style deployments."""

from __future__ import annotations

import argparse
import sys

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import ConfigError, load_settings
from calls_app.db import make_engine
from calls_app.logging_setup import configure_logging
from calls_app.runtime import StartupError, check_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calls_app")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reconcile", help="run one reconciler pass and print what it did")
    parser.parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.secrets)
        engine = make_engine(settings.database_url)
        check_schema(engine)
    except (ConfigError, StartupError) as error:
        print(f"calls-app: {error}", file=sys.stderr)
        return 2
    done = build_reconciler(build_parts(settings, engine)).run_once()
    for what, count in sorted(done.items()):
        print(f"{what}: {count}")
    if not done:
        print("nothing to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
