"""Throughput on PostgreSQL with WEB_CONCURRENCY 1 and 2 (issue 15): Join and Leave presses
acknowledged per second by `python app.py`, as deployed (gunicorn, gthread workers).

    .venv/bin/python benchmarks/throughput.py --postgres postgresql://postgres@127.0.0.1:5432/test

Each run: a fresh schema and fake Slack (no latency), the app with 1 or 2 workers, CALLS lives
started in channels of their own, then presses: each person alternately joins and leaves
their call (a press is recorded before its ack, as in the all-hands), CLIENTS in flight. The
figure is presses answered 200 per second, first press sent to last answered, after a warm-up.
Runs alternate 1, 2, 1, 2 workers; the summary is the median per worker count.

The app shares the machine with this process (the clients and the fake) and PostgreSQL. To
starve it as little as possible, every press body is built before the clock starts (clients
only sign, send and read), and a press costs the fake only its private reply (a response_url
post) and its share of the outbox's batched calls.participants.add/remove. The CPU seconds
of the app's processes and of this process during the timed presses are printed, so a
starved app shows. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    APP_SCRIPT,
    BenchError,
    Databases,
    ServerProcess,
    app_settings,
    command_body,
    post_signed,
    start_fake,
)
from local_slack.app_requests import button_click_payload  # noqa: E402
from tests.app_process import free_port  # noqa: E402

FORM = "application/x-www-form-urlencoded"
TARGET_TWO_WORKER_RATIO = 1.6
WORKER_COUNTS = (1, 2)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_idle_seconds() -> float:
    """Idle CPU seconds of the whole machine so far, all cores (/proc/stat: idle + iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return (int(fields[4]) + int(fields[5])) / CLOCK_TICKS


def press_bodies(
    fake: Any, calls: list[tuple[int, str, str]], people: int, presses: int
) -> list[list[bytes]]:
    """For each person, their presses in order: Join, Leave, Join… on their call's message."""
    per_person = max(1, presses // people)
    bodies = []
    for n in range(people):
        call_id, channel, ts = calls[n % len(calls)]
        user = f"UTP{n:06d}"
        mine = []
        for k in range(per_person):
            payload = button_click_payload(
                "call_join" if k % 2 == 0 else "call_leave",
                str(call_id),
                user=user,
                response_url=fake.new_response_url(),
                channel=channel,
                message_ts=ts,
            )
            mine.append(urlencode({"payload": json.dumps(payload)}).encode())
        bodies.append(mine)
    return bodies


def send_presses(port: int, bodies: list[list[bytes]], clients: int) -> tuple[int, int, float]:
    """Every person's presses in order, `clients` people at a time: (acked 200, other, s)."""
    people: queue.SimpleQueue[list[bytes]] = queue.SimpleQueue()
    for mine in bodies:
        people.put(mine)
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()

    def client() -> None:
        while True:
            try:
                mine = people.get_nowait()
            except queue.Empty:
                return
            for body in mine:
                status = post_signed(port, body, FORM).status
                with lock:
                    counts["ok" if status == 200 else "other"] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["ok"], counts["other"], time.perf_counter() - began


def one_run(
    workers: int, round_no: int, args: argparse.Namespace, databases: Databases, workdir: Path
) -> dict[str, Any]:
    channels = [f"CTP{n:05d}" for n in range(args.calls)]
    starters = [f"USTART{n:04d}" for n in range(args.calls)]
    people = [f"UTP{n:06d}" for n in range(args.people)]
    fake, traffic = start_fake([*starters, *people], channels)
    database_url = databases.new(f"throughput-{workers}-{round_no}")
    server = None
    try:
        env = app_settings(fake, DATABASE_URL=database_url, WEB_CONCURRENCY=str(workers))
        port = free_port()
        server = ServerProcess(
            f"throughput-{workers}w-{round_no}", APP_SCRIPT, env, port=port, workdir=workdir
        )
        server.start().wait_ready(timeout=60)
        for channel, starter in zip(channels, starters, strict=True):
            body = command_body(
                "start Throughput",
                user=starter,
                channel=channel,
                response_url=fake.new_response_url(),
            )
            if post_signed(port, body, FORM).status != 200:
                raise BenchError(f"/call start in {channel} was not acknowledged")
            traffic.wait_for(("chat.postMessage", channel), timeout=args.life_timeout)
        engine = create_engine(Databases._sqlalchemy_url(database_url))
        try:
            with engine.connect() as db:
                calls = [
                    (row.id, row.channel_id, row.message_ts)
                    for row in db.execute(text("SELECT id, channel_id, message_ts FROM calls"))
                ]
        finally:
            engine.dispose()
        warm = press_bodies(fake, calls, len(calls) * 4, 200)
        send_presses(port, warm, args.clients)
        bodies = press_bodies(fake, calls, args.people, args.presses)
        pids = server.process_tree()
        app_cpu, own_cpu, idle = cpu_seconds(pids), time.process_time(), machine_idle_seconds()
        ok, other, seconds = send_presses(port, bodies, args.clients)
        app_cpu, own_cpu = cpu_seconds(pids) - app_cpu, time.process_time() - own_cpu
        idle = machine_idle_seconds() - idle
    finally:
        if server is not None:
            server.stop()
        fake.stop()
        databases.release(database_url)
    return {
        "workers": workers,
        "round": round_no,
        "presses": ok + other,
        "not_200": other,
        "seconds": seconds,
        "requests_per_s": ok / seconds,
        "app_cpu_s": app_cpu,
        "bench_cpu_s": own_cpu,
        "machine_idle_share": idle / (seconds * (os.cpu_count() or 1)),
    }


def run_throughput(args: argparse.Namespace, databases: Databases, workdir: Path) -> dict[str, Any]:
    """Alternating runs with 1 and 2 workers; medians and the 2-worker ratio."""
    runs = []
    for round_no in range(1, args.rounds + 1):
        for workers in WORKER_COUNTS:
            run = one_run(workers, round_no, args, databases, workdir)
            runs.append(run)
            print(
                f"  round {round_no}, {workers} worker(s): {run['requests_per_s']:.0f} presses/s "
                f"({run['presses']} in {run['seconds']:.1f} s; app CPU {run['app_cpu_s']:.1f} s, "
                f"clients + fake CPU {run['bench_cpu_s']:.1f} s, "
                f"machine idle {100 * run['machine_idle_share']:.0f} %)",
                flush=True,
            )
    medians = {
        workers: statistics.median(r["requests_per_s"] for r in runs if r["workers"] == workers)
        for workers in WORKER_COUNTS
    }
    ratio = medians[2] / medians[1]
    return {
        "runs": runs,
        "requests_per_s": {str(w): v for w, v in medians.items()},
        "ratio": ratio,
        "target": {
            "target": f"two workers on PostgreSQL ≥ {TARGET_TWO_WORKER_RATIO}× one worker's "
            "throughput",
            "value": f"{ratio:.2f}× ({medians[2]:.0f} vs {medians[1]:.0f} presses/s)",
            "met": ratio >= TARGET_TWO_WORKER_RATIO,
        },
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tp-presses",
        dest="presses",
        type=int,
        default=3000,
        help="timed presses per throughput run (3000)",
    )
    parser.add_argument(
        "--tp-clients",
        dest="clients",
        type=int,
        default=16,
        help="presses in flight in the throughput runs (16)",
    )
    parser.add_argument(
        "--tp-calls",
        dest="calls",
        type=int,
        default=10,
        help="calls the throughput runs press on (10)",
    )
    parser.add_argument(
        "--tp-people",
        dest="people",
        type=int,
        default=300,
        help="people pressing in the throughput runs (300)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", required=True)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 1 and 2 workers (2)")
    parser.add_argument("--life-timeout", type=float, default=30.0)
    parser.add_argument("--json", metavar="PATH")
    add_arguments(parser)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="calls-throughput-"))
    databases = Databases(workdir, args.postgres)
    try:
        print(
            f"throughput on PostgreSQL, {os.cpu_count()} CPUs: Join/Leave presses, "
            f"{args.clients} in flight, {args.presses} per run"
        )
        result = run_throughput(args, databases, workdir)
        target = result["target"]
        print(f"  {target['target']}: {target['value']}  {'met' if target['met'] else 'NOT MET'}")
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        return 0
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        databases.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
