"""The benchmark of issue 5: calls-app against a bare Bolt app doing the same Web API calls.

    .venv/bin/python benchmarks/run.py                       # SQLite (make bench)
    .venv/bin/python benchmarks/run.py --postgres postgresql://postgres@127.0.0.1:5432/test

Each run starts a fake Slack Web API in this process (local_slack/web_api.py) and one server as a
user runs it — `python app.py`, or the baseline (benchmarks/baseline_app.py) — on loopback, then
drives N complete call lives (`/call start Bench <i>`, wait for the call message, `/call end`,
wait for calls.end; each life in a channel and by a person of its own) from C concurrent
clients. Runs alternate app, baseline, app, baseline… each on a fresh fake and a fresh database.
With --postgres, throughput is measured too, the app alone with 1 and with 2 workers
(benchmarks/throughput.py). Then Home is timed with 10 and with 10,000 past calls. It prints
numbers and asserts nothing: the targets of issues 5 and 15 are reported as met / not met,
and the exit status is 0 either way unless the benchmark itself broke (1).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (  # noqa: E402
    APP_SCRIPT,
    BASELINE_SCRIPT,
    BenchError,
    Databases,
    ServerProcess,
    Traffic,
    analyze,
    app_settings,
    command_body,
    gunicorn_options_of_app,
    home_opened_body,
    percentile,
    post_signed,
    seed_history,
    start_fake,
)
from benchmarks.throughput import add_arguments as add_throughput_arguments  # noqa: E402
from benchmarks.throughput import run_throughput  # noqa: E402
from local_slack.app_requests import SIGNING_SECRET  # noqa: E402
from tests.app_process import free_port  # noqa: E402

FORM = "application/x-www-form-urlencoded"
HOME_CHANNEL = "CHOME00001"
HOME_USERS = {10: "UHOME00010", 10_000: "UHOME10000"}
HOME_WARMUP = 5

TARGET_WALL_RATIO = 1.25
TARGET_ACK_P99_MS = 100.0
TARGET_START_CALLS = ("calls.add", "chat.postMessage")
TARGET_HOME_RATIO = 1.2
# Issue 15: speed as people feel it, with Slack as far away as the real one.
TARGET_APPEAR_RATIO = 1.05
TARGET_APPEAR_OVER_FLOOR_MS = 25.0
TARGET_MEMORY_RATIO = 1.5


# --------------------------------------------------------------------------- call lives


@dataclass
class Life:
    index: int
    user: str
    channel: str
    start_url: str = ""
    end_url: str = ""
    start_sent: float = math.nan
    start_ack: float = math.nan
    posted_at: float = math.nan
    end_sent: float = math.nan
    end_ack: float = math.nan
    ended_at: float = math.nan
    shown_ended_at: float = math.nan  # the call message updated to say it ended
    start_calls: Counter = field(default_factory=Counter)
    end_calls: Counter = field(default_factory=Counter)


def make_lives(n: int) -> list[Life]:
    return [Life(i, user=f"UB{i:07d}", channel=f"CB{i:07d}") for i in range(n)]


def drive_lives(
    port: int,
    fake: Any,
    traffic: Traffic,
    lives: list[Life],
    *,
    concurrency: int,
    life_timeout: float,
    server: ServerProcess,
) -> None:
    """Every life, C at a time: start, wait for the call message, end, wait for calls.end."""
    todo: queue.SimpleQueue[Life] = queue.SimpleQueue()
    for life in lives:
        todo.put(life)
    abort = threading.Event()
    errors: list[BaseException] = []

    def diagnose(life: Life) -> str:
        replies = [
            reply.get("text", reply)
            for url in (life.start_url, life.end_url)
            if url
            for reply in fake.responses_to(url)
        ]
        return (
            f"life {life.index} ({life.user} in {life.channel}); private replies: {replies}\n"
            f"--- {server.name} log (tail)\n{server.log_tail(3000)}"
        )

    def acknowledged(answer: Any, what: str) -> None:
        if answer.status != 200:
            raise BenchError(
                f"{server.name} answered {what} with HTTP {answer.status}: {answer.body[:300]!r}"
            )

    def live(life: Life) -> None:
        life.start_url = fake.new_response_url()
        body = command_body(
            f"start Bench {life.index}",
            user=life.user,
            channel=life.channel,
            response_url=life.start_url,
        )
        answer = post_signed(port, body, FORM)
        acknowledged(answer, f"/call start (life {life.index})")
        life.start_sent, life.start_ack = answer.sent, answer.latency
        life.posted_at = traffic.wait_for(
            ("chat.postMessage", life.channel),
            timeout=life_timeout,
            abort=abort,
            diagnose=lambda: diagnose(life),
        )
        life.end_url = fake.new_response_url()
        body = command_body("end", user=life.user, channel=life.channel, response_url=life.end_url)
        answer = post_signed(port, body, FORM)
        acknowledged(answer, f"/call end (life {life.index})")
        life.end_sent, life.end_ack = answer.sent, answer.latency
        life.ended_at = traffic.wait_for(
            ("calls.end", life.user),
            timeout=life_timeout,
            abort=abort,
            diagnose=lambda: diagnose(life),
        )
        life.shown_ended_at = traffic.wait_for(
            ("chat.update", life.channel),
            timeout=life_timeout,
            abort=abort,
            diagnose=lambda: diagnose(life),
        )

    def client() -> None:
        while not abort.is_set():
            try:
                life = todo.get_nowait()
            except queue.Empty:
                return
            try:
                live(life)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)
                abort.set()
                return

    threads = [
        threading.Thread(target=client, name=f"client-{k}", daemon=True) for k in range(concurrency)
    ]
    deadline = time.monotonic() + max(120.0, len(lives) * 1.0)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        abort.set()
        for thread in threads:
            thread.join(timeout=life_timeout + 5)
        if not errors:
            raise BenchError(f"the call lives did not finish within {max(120, len(lives))} s")
    if errors:
        first = next((e for e in errors if str(e) != "aborted"), errors[0])
        if isinstance(first, BenchError):
            raise first
        raise BenchError(f"a client failed: {first!r}") from first


def settle(fake: Any, traffic: Traffic, lives: list[Life], timeout: float = 15.0) -> list[str]:
    """Wait (bounded) until every command got its private reply and the Web API traffic has
    stopped (trailing chat.update and the like), so that it is all counted.
    Returns the response_urls that got no reply."""
    deadline = time.monotonic() + timeout
    urls = [url for life in lives for url in (life.start_url, life.end_url)]
    missing = urls
    while time.monotonic() < deadline:
        missing = [url for url in missing if not fake.responses_to(url)]
        if not missing:
            break
        time.sleep(0.05)
    while time.monotonic() < deadline and time.perf_counter() - traffic.last_time() < 0.5:
        time.sleep(0.05)
    return missing


def attribute_api_calls(traffic: Traffic, lives: list[Life]) -> Counter:
    """Give each Web API request (but auth.test) to the life it is for — by channel, by person,
    or by Slack call id — and to its start (sent before the life's `/call end`) or its end.
    Returns the requests no life could claim, by method."""
    by_channel = {life.channel: life for life in lives}
    by_user = {life.user: life for life in lives}
    owners = traffic.call_owner
    unclaimed: Counter = Counter()
    for at, request in traffic.snapshot():
        if request.method == "auth.test":
            continue
        args = request.args
        life = None
        for key in ("channel", "user_id", "user", "created_by"):
            value = args.get(key)
            if isinstance(value, str):
                life = by_channel.get(value) or by_user.get(value)
                if life is not None:
                    break
        if life is None and isinstance(args.get("id"), str):
            life = by_user.get(owners.get(args["id"], ""))
        if life is None:
            unclaimed[request.method] += 1
            continue
        if math.isnan(life.end_sent) or at < life.end_sent:
            life.start_calls[request.method] += 1
        else:
            life.end_calls[request.method] += 1
    return unclaimed


def unexpected_replies(fake: Any, lives: list[Life]) -> list[str]:
    odd = []
    for life in lives:
        for url, expected in ((life.start_url, "Started"), (life.end_url, "You ended")):
            for reply in fake.responses_to(url):
                text = str(reply.get("text", ""))
                if not text.startswith(expected):
                    odd.append(text[:160])
    return odd


def ms(seconds: list[float]) -> dict[str, float]:
    values = [s * 1000 for s in seconds]
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def run_lives(
    target: str,
    round_no: int,
    args: argparse.Namespace,
    databases: Databases,
    workdir: Path,
    baseline_env: dict[str, str],
    *,
    script: Path | None = None,
    on_ready: Callable[[ServerProcess], None] | None = None,
    on_done: Callable[[ServerProcess], None] | None = None,
) -> dict[str, Any]:
    """One run: a fresh fake, a fresh database, one server (``script`` overrides app.py or
    the baseline); ``on_ready`` / ``on_done`` are called around the lives (profile_app.py)."""
    lives = make_lives(args.n)
    fake, traffic = start_fake(
        [life.user for life in lives],
        [life.channel for life in lives],
        latency=args.slack_latency_ms / 1000,
    )
    server: ServerProcess | None = None
    database_url = None
    try:
        env = app_settings(fake, **server_sizing(args))
        if target == "app":
            database_url = databases.new(f"lives-{round_no}")
            env["DATABASE_URL"] = database_url
            script = script or APP_SCRIPT
        else:
            env.update(baseline_env)
            script = script or BASELINE_SCRIPT
        port = free_port()
        server = ServerProcess(f"{target}-{round_no}", script, env, port=port, workdir=workdir)
        server.start().wait_ready()
        if on_ready is not None:
            on_ready(server)
        drive_lives(
            port,
            fake,
            traffic,
            lives,
            concurrency=args.concurrency,
            life_timeout=args.life_timeout,
            server=server,
        )
        missing = settle(fake, traffic, lives)
        if on_done is not None:
            on_done(server)
        memory = server.peak_memory()
        unclaimed = attribute_api_calls(traffic, lives)
        odd = unexpected_replies(fake, lives)
    finally:
        if server is not None:
            server.stop()
        fake.stop()
        if database_url is not None:
            databases.release(database_url)

    first = min(life.start_sent for life in lives)
    last = max(life.ended_at for life in lives)
    wall = last - first
    start_methods: Counter = sum((life.start_calls for life in lives), Counter())
    end_methods: Counter = sum((life.end_calls for life in lives), Counter())
    exact = sum(
        1 for life in lives if +life.start_calls == Counter(dict.fromkeys(TARGET_START_CALLS, 1))
    )
    return {
        "target": target,
        "round": round_no,
        "lives": len(lives),
        "wall_s": wall,
        "lives_per_s": len(lives) / wall,
        "ack_ms": ms([x for life in lives for x in (life.start_ack, life.end_ack)]),
        "ack_start_ms": ms([life.start_ack for life in lives]),
        "ack_end_ms": ms([life.end_ack for life in lives]),
        "appear_ms": ms([life.posted_at - life.start_sent for life in lives]),
        "ended_ms": ms([life.ended_at - life.end_sent for life in lives]),
        "shown_ended_ms": ms([life.shown_ended_at - life.end_sent for life in lives]),
        "api_per_start": sum(start_methods.values()) / len(lives),
        "api_per_end": sum(end_methods.values()) / len(lives),
        "start_methods": {m: c / len(lives) for m, c in sorted(start_methods.items())},
        "end_methods": {m: c / len(lives) for m, c in sorted(end_methods.items())},
        "starts_with_exactly_calls_add_and_post": exact,
        "ends_without_chat_update": sum(1 for life in lives if not life.end_calls["chat.update"]),
        "unclaimed_api_calls": dict(unclaimed),
        "replies_missing": len(missing),
        "unexpected_replies": odd[:5],
        "unexpected_reply_count": len(odd),
        "peak_rss_mib": memory["total_kib"] / 1024,
        "master_peak_rss_mib": memory["master_kib"] / 1024,
        "worker_peak_rss_mib": max(memory["workers_kib"], default=0) / 1024,
        "pss_mib": memory["pss_kib"] / 1024,
        "memory_kib": memory,
    }


def baseline_settings(args: argparse.Namespace) -> tuple[dict, list[str], dict[str, str]]:
    """The gunicorn options the app's own GunicornServer sets (but bind), those it sets that
    can't be passed on, and the baseline's environment serving with the same options."""
    options, unmirrored = gunicorn_options_of_app(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            **server_sizing(args),
        }
    )
    options.pop("bind", None)
    env = {
        "BENCH_GUNICORN_OPTIONS": json.dumps(options),
        "BENCH_LISTENER_THREADS": str(options.get("threads", 16)),
    }
    return options, unmirrored, env


def server_sizing(args: argparse.Namespace) -> dict[str, str]:
    # One worker process, as the app runs by default: the baseline keeps its calls in memory,
    # so it cannot spread over several processes.
    env = {"WEB_CONCURRENCY": "1"}
    if args.threads:
        env["CALLS_THREADS"] = str(args.threads)
    return env


# --------------------------------------------------------------------------- Home


def run_home(args: argparse.Namespace, databases: Databases, workdir: Path) -> dict[str, Any]:
    """Home for a person with 10 and one with 10,000 past calls, in one database and one app,
    opened alternately (so drift hits both): each from the signed app_home_opened until the
    fake has recorded the views.publish."""
    fake, traffic = start_fake(list(HOME_USERS.values()), [HOME_CHANNEL])
    server: ServerProcess | None = None
    database_url = None
    try:
        database_url = databases.new("home")
        seeded_at = time.perf_counter()
        for size, user in HOME_USERS.items():
            seed_history(
                database_url, user=user, channel=HOME_CHANNEL, count=size, first_id=size * 1000
            )
        if not args.home_no_analyze:
            analyze(database_url)  # statistics, as a database that has been running has
        seed_seconds = time.perf_counter() - seeded_at
        env = {
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.base_url,
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            **server_sizing(args),
        }
        port = free_port()
        app = ServerProcess("app-home", APP_SCRIPT, env, port=port, workdir=workdir)
        server = app
        app.start().wait_ready()

        def open_home(user: str) -> float:
            before = traffic.count(("views.publish", user))
            answer = post_signed(port, home_opened_body(user), "application/json")
            if answer.status != 200:
                raise BenchError(
                    f"app answered app_home_opened with HTTP {answer.status}: {answer.body[:300]!r}"
                )
            published = traffic.wait_for(
                ("views.publish", user),
                count=before + 1,
                timeout=args.life_timeout,
                diagnose=lambda: f"--- app log (tail)\n{app.log_tail(3000)}",
            )
            return published - answer.sent

        for _ in range(HOME_WARMUP):
            for user in HOME_USERS.values():
                open_home(user)
        times: dict[int, list[float]] = {size: [] for size in HOME_USERS}
        sizes = list(HOME_USERS)
        for k in range(args.home_requests):
            for size in sizes if k % 2 == 0 else reversed(sizes):
                times[size].append(open_home(HOME_USERS[size]))
        blocks = {
            size: len(fake.home_views[user].get("blocks", [])) for size, user in HOME_USERS.items()
        }
    finally:
        if server is not None:
            server.stop()
        fake.stop()
        if database_url is not None:
            databases.release(database_url)
    result: dict[str, Any] = {
        "seed_seconds": seed_seconds,
        "requests_each": args.home_requests,
        "analyzed": not args.home_no_analyze,
    }
    for size in HOME_USERS:
        result[str(size)] = {**ms(times[size]), "mean": statistics.mean(times[size]) * 1000}
        result[str(size)]["view_blocks"] = blocks[size]
    small, large = result["10"], result["10000"]
    result["ratio_p50"] = large["p50"] / small["p50"]
    result["ratio_p95"] = large["p95"] / small["p95"]
    result["ratio_mean"] = large["mean"] / small["mean"]
    return result


# --------------------------------------------------------------------------- report

FIGURES = [
    # key in a run, sub-key, label, format
    ("wall_s", None, "wall time, first request to last calls.end (s)", "{:.2f}"),
    ("lives_per_s", None, "call lives per second", "{:.1f}"),
    ("ack_ms", "p50", "ack latency p50 (ms)", "{:.1f}"),
    ("ack_ms", "p95", "ack latency p95 (ms)", "{:.1f}"),
    ("ack_ms", "p99", "ack latency p99 (ms)", "{:.1f}"),
    ("appear_ms", "p50", "call appears p50: start → chat.postMessage (ms)", "{:.1f}"),
    ("appear_ms", "p95", "call appears p95 (ms)", "{:.1f}"),
    ("ended_ms", "p50", "call ends p50: end → calls.end (ms)", "{:.1f}"),
    ("ended_ms", "p95", "call ends p95 (ms)", "{:.1f}"),
    ("shown_ended_ms", "p50", "call shows ended p50: end → chat.update (ms)", "{:.1f}"),
    ("shown_ended_ms", "p95", "call shows ended p95 (ms)", "{:.1f}"),
    ("api_per_start", None, "Web API calls per /call start", "{:.2f}"),
    ("api_per_end", None, "Web API calls per /call end", "{:.2f}"),
    ("peak_rss_mib", None, "peak RSS, master + workers (MiB)", "{:.1f}"),
    ("master_peak_rss_mib", None, "  of which the master's peak RSS (MiB)", "{:.1f}"),
    ("worker_peak_rss_mib", None, "  of which the worker's peak RSS (MiB)", "{:.1f}"),
    ("pss_mib", None, "PSS at the end, master + workers (MiB)", "{:.1f}"),
]


def figure(run: dict[str, Any], key: str, sub: str | None) -> float:
    value = run[key]
    return float(value[sub] if sub else value)


def median_of(runs: list[dict[str, Any]], key: str, sub: str | None) -> float:
    return statistics.median(figure(run, key, sub) for run in runs)


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    app = [r for r in runs if r["target"] == "app"]
    base = [r for r in runs if r["target"] == "baseline"]
    summary = {}
    for key, sub, label, _ in FIGURES:
        a, b = median_of(app, key, sub), median_of(base, key, sub)
        summary[label] = {"app": a, "baseline": b, "ratio": a / b if b else math.nan}
    return summary


def print_runs(runs: list[dict[str, Any]]) -> None:
    header = (
        f"{'round':>5} {'target':<9} {'wall s':>7} {'lives/s':>8} {'ack p50':>8} {'p95':>7} "
        f"{'p99':>7} {'appear p50':>10} {'p95':>7} {'API/start':>9} {'API/end':>8} {'RSS MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        print(
            f"{r['round']:>5} {r['target']:<9} {r['wall_s']:>7.2f} {r['lives_per_s']:>8.1f} "
            f"{r['ack_ms']['p50']:>8.1f} {r['ack_ms']['p95']:>7.1f} {r['ack_ms']['p99']:>7.1f} "
            f"{r['appear_ms']['p50']:>10.1f} {r['appear_ms']['p95']:>7.1f} "
            f"{r['api_per_start']:>9.2f} {r['api_per_end']:>8.2f} {r['peak_rss_mib']:>8.1f}"
        )


def print_summary(summary: dict[str, dict[str, float]]) -> None:
    width = max(len(label) for label in summary)
    print(f"{'figure (median of rounds)':<{width}} {'app':>9} {'baseline':>9} {'app/base':>9}")
    print("-" * (width + 30))
    formats = {label: fmt for _, _, label, fmt in FIGURES}
    for label, row in summary.items():
        fmt = formats[label]
        print(
            f"{label:<{width}} {fmt.format(row['app']):>9} {fmt.format(row['baseline']):>9} "
            f"{row['ratio']:>8.2f}×"
        )


def print_calls_detail(runs: list[dict[str, Any]]) -> None:
    for target in ("app", "baseline"):
        mine = [r for r in runs if r["target"] == target]
        starts = Counter()
        ends = Counter()
        for r in mine:
            starts.update(r["start_methods"])
            ends.update(r["end_methods"])
        per_start = ", ".join(f"{m} {c / len(mine):.2f}" for m, c in sorted(starts.items()))
        per_end = ", ".join(f"{m} {c / len(mine):.2f}" for m, c in sorted(ends.items()))
        print(f"  {target:<9} per start: {per_start or '-'}")
        print(f"  {'':<9} per end:   {per_end or '-'}")
        for r in mine:
            notes = []
            if r["unclaimed_api_calls"]:
                notes.append(f"unattributed Web API calls {r['unclaimed_api_calls']}")
            if r["ends_without_chat_update"]:
                notes.append(
                    f"{r['ends_without_chat_update']} of {r['lives']} ends made no chat.update "
                    "(the call message was left showing a live call)"
                )
            if r["replies_missing"]:
                notes.append(f"{r['replies_missing']} command(s) got no private reply")
            if r["unexpected_reply_count"]:
                notes.append(
                    f"{r['unexpected_reply_count']} unexpected private repl(ies), e.g. "
                    f"{r['unexpected_replies'][0]!r}"
                )
            if notes:
                print(f"  {'':<9} round {r['round']}: " + "; ".join(notes))


def print_home(home: dict[str, Any]) -> None:
    print(f"{'past calls':>10} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'blocks':>7}")
    for size in ("10", "10000"):
        row = home[size]
        print(
            f"{int(size):>10,} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['mean']:>8.1f} "
            f"{row['view_blocks']:>7}"
        )
    print(
        f"{'10k / 10':>10} {home['ratio_p50']:>7.2f}× {home['ratio_p95']:>7.2f}× "
        f"{home['ratio_mean']:>7.2f}×"
    )


def headline(summary: dict[str, dict[str, float]], latency_ms: float) -> list[tuple[str, str]]:
    """Issue 15's figures: what a person waits for, against the bare app and the floor (two
    Slack round trips: calls.add, then chat.postMessage)."""
    floor = 2 * latency_ms
    rows = []
    for label in (
        "call appears p50: start → chat.postMessage (ms)",
        "call appears p95 (ms)",
        "call shows ended p50: end → chat.update (ms)",
        "ack latency p99 (ms)",
        "peak RSS, master + workers (MiB)",
        "  of which the worker's peak RSS (MiB)",
        "PSS at the end, master + workers (MiB)",
    ):
        row = summary[label]
        rows.append(
            (label, f"{row['app']:.1f} (bare Bolt {row['baseline']:.1f}, {row['ratio']:.2f}×)")
        )
    appear = summary["call appears p50: start → chat.postMessage (ms)"]["app"]
    rows.append(("floor: two Slack round trips (ms)", f"{floor:.0f}; app +{appear - floor:.1f}"))
    return rows


def latency_targets(
    summary: dict[str, dict[str, float]], latency_ms: float
) -> list[dict[str, Any]]:
    appear = summary["call appears p50: start → chat.postMessage (ms)"]
    memory = summary["peak RSS, master + workers (MiB)"]
    over_floor = appear["app"] - 2 * latency_ms
    return [
        {
            "target": f"call appears p50 within {TARGET_APPEAR_RATIO}× of the bare Bolt app",
            "value": f"{appear['ratio']:.3f}× ({appear['app']:.1f} vs {appear['baseline']:.1f} ms)",
            "met": appear["ratio"] <= TARGET_APPEAR_RATIO,
        },
        {
            "target": f"call appears p50 within {TARGET_APPEAR_OVER_FLOOR_MS:.0f} ms of the floor",
            "value": f"+{over_floor:.1f} ms over {2 * latency_ms:.0f} ms",
            "met": over_floor <= TARGET_APPEAR_OVER_FLOOR_MS,
        },
        {
            "target": f"peak memory ≤ {TARGET_MEMORY_RATIO}× the bare app's",
            "value": f"{memory['ratio']:.2f}× "
            f"({memory['app']:.0f} vs {memory['baseline']:.0f} MiB)",
            "met": memory["ratio"] <= TARGET_MEMORY_RATIO,
        },
    ]


def targets(
    runs: list[dict[str, Any]], summary: dict[str, dict[str, float]], home: dict | None, n: int
) -> list[dict[str, Any]]:
    app = [r for r in runs if r["target"] == "app"]
    wall = summary["wall time, first request to last calls.end (s)"]["ratio"]
    p99 = median_of(app, "ack_ms", "p99")
    worst_p99 = max(r["ack_ms"]["p99"] for r in app)
    exact = sum(r["starts_with_exactly_calls_add_and_post"] for r in app)
    per_start = median_of(app, "api_per_start", None)
    rows = [
        {
            "target": f"wall time ratio app/baseline ≤ {TARGET_WALL_RATIO}",
            "value": f"{wall:.2f}×",
            "met": wall <= TARGET_WALL_RATIO,
        },
        {
            "target": f"ack p99 < {TARGET_ACK_P99_MS:.0f} ms",
            "value": f"{p99:.1f} ms (worst run {worst_p99:.1f} ms)",
            "met": p99 < TARGET_ACK_P99_MS,
        },
        {
            "target": "exactly 2 Web API calls per /call start (calls.add, chat.postMessage)",
            "value": f"{per_start:.2f} per start; {exact} of {n * len(app)} starts exactly those",
            "met": exact == n * len(app),
        },
    ]
    if home is not None:
        rows.append(
            {
                "target": f"Home with 10,000 past calls within {TARGET_HOME_RATIO}× of 10 (p50)",
                "value": f"{home['ratio_p50']:.2f}× (p95 {home['ratio_p95']:.2f}×)",
                "met": home["ratio_p50"] <= TARGET_HOME_RATIO,
            }
        )
    return rows


def print_targets(rows: list[dict[str, Any]]) -> None:
    width = max(len(row["target"]) for row in rows)
    value_width = max(len(row["value"]) for row in rows)
    for row in rows:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[row["met"]]
        print(f"  {row['target']:<{width}}  {row['value']:<{value_width}}  {verdict}")


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="calls-app against a bare Bolt app (issue 5). Prints numbers, asserts nothing."
    )
    parser.add_argument("--n", type=int, default=200, help="call lives per run (default 200)")
    parser.add_argument(
        "--concurrency", "-c", type=int, default=8, help="concurrent clients (default 8)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of app + baseline, alternating (default 2)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="use PostgreSQL (a schema of its own per run), e.g. "
        "postgresql://postgres@127.0.0.1:5432/test; default: SQLite files",
    )
    parser.add_argument(
        "--slack-latency-ms",
        type=float,
        default=100.0,
        help="every fake Slack request served this much later, as the real Slack's "
        "(default 100; Home is timed without it, as issue 5 measured it)",
    )
    parser.add_argument("--skip-home", action="store_true", help="don't time Home")
    parser.add_argument(
        "--skip-throughput",
        action="store_true",
        help="with --postgres, don't measure throughput with 1 and 2 workers",
    )
    add_throughput_arguments(parser)
    parser.add_argument(
        "--home-requests", type=int, default=50, help="Home opens per history size (default 50)"
    )
    parser.add_argument(
        "--home-no-analyze",
        action="store_true",
        help="don't ANALYZE after seeding Home's history (planner statistics left missing)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--threads", type=int, help="CALLS_THREADS for both servers (default: the app's)"
    )
    parser.add_argument(
        "--life-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for any one milestone before giving up (default 30)",
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 1 or args.rounds < 1 or args.home_requests < 1:
        parser.error("--n, --concurrency, --rounds and --home-requests must be at least 1")
    if args.slack_latency_ms < 0:
        parser.error("--slack-latency-ms must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="calls-bench-"))
    databases: Databases | None = None
    began = time.perf_counter()
    try:
        databases = Databases(workdir, args.postgres)
        options, unmirrored, baseline_env = baseline_settings(args)
        about = machine()
        print(
            f"calls-app benchmark: N={args.n} lives, C={args.concurrency} clients, "
            f"{args.rounds} round(s) A B, database {databases.kind}, "
            f"Slack latency {args.slack_latency_ms:.0f} ms"
        )
        print(
            f"machine: {about['nproc']} CPU ({about['cpu']}), {about['memory']}, "
            f"Python {about['python']}"
        )
        print(f"gunicorn options (app's, used by both): {options}")
        if unmirrored:
            print(f"  not passed to the baseline (callables): {unmirrored}")
        print()

        runs = []
        for round_no in range(1, args.rounds + 1):
            for target in ("app", "baseline"):
                run = run_lives(target, round_no, args, databases, workdir, baseline_env)
                run["database"] = databases.kind
                runs.append(run)
                print(
                    f"  round {round_no} {target:<9} wall {run['wall_s']:.2f} s, "
                    f"ack p99 {run['ack_ms']['p99']:.1f} ms, "
                    f"{run['api_per_start']:.2f} Web API calls per start, "
                    f"peak RSS {run['peak_rss_mib']:.1f} MiB",
                    flush=True,
                )
        throughput = None
        if args.postgres and not args.skip_throughput:
            print("  throughput, app only, 1 and 2 workers (WEB_CONCURRENCY):", flush=True)
            throughput = run_throughput(args, databases, workdir)
        home = None
        if not args.skip_home:
            home = run_home(args, databases, workdir)
            print(f"  Home: 10k/10 p50 ratio {home['ratio_p50']:.2f}×", flush=True)

        summary = summarize(runs)
        latency = args.slack_latency_ms
        print()
        print(f"== Headline: as people feel it, every Slack request taking {latency:.0f} ms")
        for label, value in headline(summary, latency):
            print(f"  {label:<48} {value}")
        print()
        print(f"== Call lives ({databases.kind}; N={args.n}, C={args.concurrency}), per run")
        print_runs(runs)
        print()
        print(f"== Call lives ({databases.kind}), app vs baseline")
        print_summary(summary)
        print()
        print("== Web API calls per life, by method (mean over runs)")
        print_calls_detail(runs)
        if home is not None:
            print()
            print(
                f"== Home ({databases.kind}): app_home_opened → views.publish, "
                f"{args.home_requests} opens each, alternating"
            )
            print_home(home)
        rows = targets(runs, summary, home, args.n)
        print()
        print("== Targets of issue 5 (reported, not asserted)")
        print_targets(rows)
        speed = latency_targets(summary, latency)
        print()
        print(f"== Targets of issue 15, at {latency:.0f} ms Slack latency (reported, not asserted)")
        if throughput is not None:
            speed.append(throughput["target"])
        else:
            speed.append(
                {
                    "target": "two workers on PostgreSQL ≥ 1.6× one worker's throughput",
                    "value": "needs --postgres",
                    "met": None,
                }
            )
        print_targets(speed)
        rows += speed
        elapsed = time.perf_counter() - began
        print(f"\n(benchmark took {elapsed:.0f} s)")
        if args.json:
            result = {
                "command": " ".join([Path(sys.executable).name, *sys.argv]),
                "machine": about,
                "settings": {
                    "n": args.n,
                    "concurrency": args.concurrency,
                    "rounds": args.rounds,
                    "database": databases.kind,
                    "home_requests": args.home_requests,
                    "slack_latency_ms": args.slack_latency_ms,
                    "gunicorn_options": options,
                },
                "runs": runs,
                "summary": summary,
                "home": home,
                "throughput": throughput,
                "targets": rows,
                "seconds": elapsed,
            }
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n")
            print(f"results written to {args.json}")
        return 0
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        if any(workdir.glob("*.log")):
            print(f"(servers' logs kept in {workdir})", file=sys.stderr)
            workdir = None  # keep the logs
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 1
    finally:
        if databases is not None:
            databases.close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
