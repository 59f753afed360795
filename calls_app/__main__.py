"""`python -m calls_app reconcile`: one reconciler pass, for cron-style deployments.
`python -m calls_app encrypt-tokens`: every stored token under the newest encryption key."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from sqlalchemy import Engine

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import ConfigError, Settings, StartupError
from calls_app.installations import UNREADABLE_INSTALLS, TokenCipher, encrypt_stored_tokens
from calls_app.logging_setup import startup_failed
from calls_app.runtime import start_up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calls_app")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reconcile", help="run one reconciler pass and print what it did")
    commands.add_parser(
        "encrypt-tokens",
        help="encrypt every stored token with the first key of CALLS_ENCRYPTION_KEY, "
        "delete superseded install rows, and print what it did",
    )
    command = parser.parse_args(argv).command
    try:
        settings, engine = start_up()
        if command == "encrypt-tokens":
            done = encrypt_tokens(settings, engine)
        else:
            done = build_reconciler(build_parts(settings, engine)).run_once()
    except (ConfigError, StartupError) as error:
        return startup_failed(error)
    for what, count in sorted(done.items()):
        print(f"{what}: {count}")
    if not done:
        print("nothing to do")
    return 1 if done[UNREADABLE_INSTALLS] else 0


def encrypt_tokens(settings: Settings, engine: Engine) -> Counter[str]:
    if settings.oauth is None:
        raise ConfigError(
            "SLACK_CLIENT_ID", "is not set: tokens are stored only with OAuth installs"
        )
    if not settings.oauth.encryption_keys:
        raise ConfigError("CALLS_ENCRYPTION_KEY", "is not set: there is no key to encrypt with")
    return encrypt_stored_tokens(engine, TokenCipher(settings.oauth.encryption_keys))


if __name__ == "__main__":
    sys.exit(main())
