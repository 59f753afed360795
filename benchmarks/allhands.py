"""The all-hands load of issue 11: one call, a crowd pressing Join, Slack's rate limits enforced.

    .venv/bin/python benchmarks/allhands.py                    # 100 people, then 1,000
    .venv/bin/python benchmarks/allhands.py --people 100 --kill
    .venv/bin/python benchmarks/allhands.py --postgres postgresql://postgres@127.0.0.1:5432/test

`python app.py` is started as a user starts it, against the fake Slack Web API
(local_slack/web_api.py) enforcing Slack's per-minute tiers per workspace and method, answering
429 with Retry-After. A call is started; a share of the crowd opens Home; then the crowd
presses Join on the call message from many clients at once, and halfway through someone starts
a call in another channel. With --kill the app is killed (SIGKILL, the whole process group)
once half the presses were acknowledged and started again on the same database; presses sent
while it was down are pressed again once it is back, as people would.

It prints numbers and the targets as met / not met; the exit status is 0 unless the benchmark
itself broke.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    APP_SCRIPT,
    Answer,
    BenchError,
    Databases,
    ServerProcess,
    app_settings,
    command_body,
    home_opened_body,
    percentile,
    post_signed,
    start_fake,
)
from local_slack.app_requests import button_click_payload  # noqa: E402
from tests.app_process import free_port  # noqa: E402

FORM = "application/x-www-form-urlencoded"
STARTER, OTHER_STARTER = "USTARTER01", "USTARTER02"
GENERAL, OTHER = "CALLHANDS1", "COTHER0001"
TEAM_ID = "T0001"
# Targets (issue 11): every press acked 200 within 3 s; Slack shows everyone within 90 s; at most
# 2 views.publish per join; another channel's start acked within 3 s and shown within 10 s.
ACK_LIMIT_S, SHOWN_LIMIT_S, PUBLISH_PER_JOIN, OTHER_SHOWN_LIMIT_S = 3.0, 90.0, 2.0, 10.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, action="append", help="crowd size (100 and 1000)")
    parser.add_argument("--clients", type=int, default=50, help="presses in flight at once")
    parser.add_argument("--home-share", type=float, default=0.4, help="share who opened Home")
    parser.add_argument("--kill", action="store_true", help="kill -9 the app mid-crowd")
    parser.add_argument("--postgres", help="PostgreSQL URL (a schema of its own per run)")
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    parser.add_argument(
        "--slack-latency-ms",
        type=float,
        default=100.0,
        help="every fake Slack request served this much later, as the real Slack's (100; "
        "issue 11's figures were measured at 0)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    return parser.parse_args(argv)


class App:
    """`python app.py` on one port; killed and started again on the same one with --kill."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self._env, self._workdir, self._runs = env, workdir, 0
        self.server = self._start()

    def _start(self) -> ServerProcess:
        self._runs += 1
        server = ServerProcess(
            f"app-{self._runs}", APP_SCRIPT, self._env, port=self.port, workdir=self._workdir
        )
        return server.start().wait_ready(timeout=60)

    def kill_and_restart(self) -> float:
        """SIGKILL the whole process group, start again; seconds until it serves again."""
        assert self.server.proc is not None
        began = time.perf_counter()
        os.killpg(self.server.proc.pid, signal.SIGKILL)
        self.server.proc.wait(timeout=10)
        self.server = self._start()
        return time.perf_counter() - began

    def stop(self) -> None:
        self.server.stop()


def press_join(port: int, fake, call_id: int, message_ts: str, person: str) -> Answer:
    payload = button_click_payload(
        "call_join",
        str(call_id),
        user=person,
        response_url=fake.new_response_url(),
        channel=GENERAL,
        message_ts=message_ts,
    )
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return post_signed(port, body, FORM)


def run(people: int, args: argparse.Namespace, databases: Databases, workdir: Path) -> dict:
    crowd = [f"UCROWD{n:04d}" for n in range(people)]
    fake, traffic = start_fake(
        [STARTER, OTHER_STARTER, *crowd], [GENERAL, OTHER], latency=args.slack_latency_ms / 1000
    )
    fake.set_rate_limits(True)
    database_url = databases.new(f"allhands-{people}")
    env = app_settings(
        fake, DATABASE_URL=database_url, CALLS_JITSI_BASE_URL="https://meet.example.org/"
    )
    app = App(env, workdir)
    try:
        return drive(app, fake, traffic, crowd, database_url, args)
    finally:
        app.stop()
        fake.stop()
        databases.release(database_url)


def drive(app: App, fake, traffic, crowd: list[str], database_url: str, args) -> dict:
    post_signed(
        app.port,
        command_body(
            "start All hands", user=STARTER, channel=GENERAL, response_url=fake.new_response_url()
        ),
        FORM,
    )
    traffic.wait_for(("chat.postMessage", GENERAL), timeout=30)
    engine = create_engine(database_url)
    call_id, message_ts, slack_call_id = _the_call(engine)
    watchers = crowd[: int(len(crowd) * args.home_share)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(
            pool.map(
                lambda u: post_signed(app.port, home_opened_body(u), "application/json"), watchers
            )
        )
    publishes_before = _accepted(fake, "views.publish")

    answers: dict[str, Answer] = {}
    refused: list[str] = []  # presses that found the app down: pressed again once it is back
    lock = threading.Lock()
    halfway = threading.Event()
    killed: dict[str, float] = {}
    other: dict[str, float] = {}

    def press(person: str) -> None:
        try:
            answer = press_join(app.port, fake, call_id, message_ts, person)
        except BenchError:
            with lock:
                refused.append(person)
            return
        with lock:
            answers[person] = answer
            if len(answers) >= len(crowd) // 2:
                halfway.set()

    def start_elsewhere() -> None:
        halfway.wait()
        sent = time.perf_counter()
        answer = post_signed(
            app.port,
            command_body(
                "start Elsewhere",
                user=OTHER_STARTER,
                channel=OTHER,
                response_url=fake.new_response_url(),
            ),
            FORM,
        )
        other["ack_s"] = answer.latency
        other["status"] = answer.status
        other["shown_s"] = traffic.wait_for(("chat.postMessage", OTHER), timeout=60) - sent

    def kill_halfway() -> None:
        halfway.wait()
        killed["restart_s"] = app.kill_and_restart()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        side = [pool.submit(kill_halfway if args.kill else start_elsewhere)]
        presses = [pool.submit(press, person) for person in crowd]
        for future in [*presses, *side]:
            future.result()
    if refused:  # as people would: press again now that the app answers
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(press, list(refused)))
    crowd_s = time.perf_counter() - began

    everyone = len(crowd) + 1
    shown = _wait_until(
        lambda: len(fake.calls[slack_call_id].users) >= everyone, args.settle_timeout
    )
    shown_after = None if shown is None else time.perf_counter() - began  # since the first press
    settled = _wait_until(lambda: _pending(engine) == 0, args.settle_timeout) is not None
    latencies = [a.latency for a in answers.values()]
    statuses = Counter(a.status for a in answers.values())
    in_db = _present(engine, call_id)
    in_slack = {u.get("slack_id") for u in fake.calls[slack_call_id].users}
    publishes = _accepted(fake, "views.publish") - publishes_before
    figures = {
        "people": len(crowd),
        "home_watchers": len(watchers),
        "killed": bool(args.kill),
        "restart_s": killed.get("restart_s"),
        "presses_acked": statuses.get(200, 0),
        "presses_other_status": {str(k): v for k, v in statuses.items() if k != 200},
        "pressed_again_after_restart": len(refused),
        "ack_p50_ms": percentile(latencies, 50) * 1000,
        "ack_p99_ms": percentile(latencies, 99) * 1000,
        "ack_max_ms": max(latencies) * 1000,
        "crowd_s": crowd_s,
        "slack_shows_everyone_after_s": shown_after,
        "outbox_settled": settled,
        "in_database": len(in_db & set(crowd)),
        "in_slack": len(in_slack & set(crowd)),
        "participants_add_requests": _accepted(fake, "calls.participants.add"),
        "views_publish_after_crowd": publishes,
        "views_publish_per_join": publishes / len(crowd),
        "rate_limited_429s": fake.rate_limited(),
        "other_start": other,
    }
    engine.dispose()
    return figures


def _the_call(engine) -> tuple[int, str, str]:
    with engine.connect() as db:
        row = db.execute(text("SELECT id, message_ts, slack_call_id FROM calls")).one()
    return row.id, row.message_ts, row.slack_call_id


def _present(engine, call_id: int) -> set[str]:
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT slack_user_id FROM participants WHERE call_id = :c AND left_at IS NULL"),
            {"c": call_id},
        )
        return {row[0] for row in rows}


def _pending(engine) -> int:
    with engine.connect() as db:
        return db.scalar(text("SELECT count(*) FROM outbox WHERE generation > done_generation"))


def _accepted(fake, method: str) -> int:
    return len(fake.calls_to(method))


def _wait_until(predicate, timeout: float) -> float | None:
    """Seconds until predicate() held, polling; None if it never did."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if predicate():
            return time.perf_counter() - began
        time.sleep(0.1)
    return None


def verdicts(f: dict) -> list[tuple[str, bool, str]]:
    people = f["people"]
    shown = f["slack_shows_everyone_after_s"]
    lines = [
        (
            f"every press acked 200 within {ACK_LIMIT_S:.0f} s",
            f["presses_acked"] == people and f["ack_max_ms"] < ACK_LIMIT_S * 1000,
            f"{f['presses_acked']}/{people} acked, max {f['ack_max_ms']:.0f} ms, "
            f"p99 {f['ack_p99_ms']:.0f} ms",
        ),
        (
            f"Slack shows all {people} within {SHOWN_LIMIT_S:.0f} s of the first press",
            shown is not None and shown <= SHOWN_LIMIT_S,
            "never" if shown is None else f"{shown:.1f} s",
        ),
        (
            f"at most {PUBLISH_PER_JOIN:.0f} views.publish per join",
            f["views_publish_per_join"] <= PUBLISH_PER_JOIN,
            f"{f['views_publish_after_crowd']} for {people} joins "
            f"({f['views_publish_per_join']:.2f} per join)",
        ),
        (
            "nothing lost: every press in the database and in Slack",
            f["in_database"] == people and f["in_slack"] == people,
            f"database {f['in_database']}/{people}, Slack {f['in_slack']}/{people}",
        ),
    ]
    other = f["other_start"]
    if other:
        lines.append(
            (
                f"another channel's start acked < 3 s and shown < {OTHER_SHOWN_LIMIT_S:.0f} s",
                other["status"] == 200 and other["ack_s"] < 3 and other["shown_s"] < 10,
                f"acked in {other['ack_s'] * 1000:.0f} ms, shown after {other['shown_s']:.1f} s",
            )
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = args.people or [100, 1000]
    workdir = Path(tempfile.mkdtemp(prefix="calls-allhands-"))
    databases = Databases(workdir, args.postgres)
    results = []
    try:
        for people in sizes:
            figures = run(people, args, databases, workdir)
            results.append(figures)
            kill = ", app killed -9 halfway and started again" if args.kill else ""
            print(
                f"all-hands: {people} people pressing Join ({args.clients} at once), "
                f"{figures['home_watchers']} with Home open, database {databases.kind}{kill}"
            )
            print(
                f"  crowd sent in {figures['crowd_s']:.1f} s; "
                f"{figures['participants_add_requests']} calls.participants.add; "
                f"{figures['rate_limited_429s']} answers 429 from Slack"
            )
            if figures["killed"]:
                print(
                    f"  restart took {figures['restart_s']:.1f} s; "
                    f"{figures['pressed_again_after_restart']} presses found it down "
                    "and were pressed again"
                )
            for what, met, detail in verdicts(figures):
                print(f"  [{'met' if met else 'NOT MET'}] {what}: {detail}")
            print()
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        databases.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
