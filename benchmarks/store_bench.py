"""The store's own cost per call life, without HTTP, Slack or Bolt: CPU and wall time.

    .venv/bin/python benchmarks/store_bench.py                # SQLite, 1 and 8 threads
    .venv/bin/python benchmarks/store_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test

A call life here is the store calls one `/call start` and one `/call end` make on the common
path, in their order: create_starting, mark_registered, set_message, live_calls_in_channel,
claim_ending, mark_ended. Each thread runs lives back to back on a fresh, migrated database
(the benchmark's own, `benchmarks.harness.Databases`). The CPU is the whole process's, so with
more threads it includes what they cost each other (lock hand-offs, the GIL, SQLite's page
cache being emptied by another connection's writes). Then, on one thread, the database work
a `/call start` waits for before its message can be posted (issue 15: the least our durable
steps add to "call appears"): the delivery recorded, the running calls counted, the call
written, its Slack id recorded. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Databases  # noqa: E402
from calls_app.db import make_engine  # noqa: E402
from calls_app.deliveries import Deliveries  # noqa: E402
from calls_app.models import EndReason  # noqa: E402
from calls_app.records import NewCall  # noqa: E402
from calls_app.store.calls import CallStore  # noqa: E402
from calls_app.store.ending import EndingStore  # noqa: E402

LEASE = timedelta(seconds=30)


def call_life(store: CallStore, ending: EndingStore, n: int) -> None:
    now = datetime.now(UTC)
    channel = f"CBENCH{n}"
    call = store.create_starting(
        NewCall("TBENCH", None, channel, "Bench", f"https://meet.example.org/{n}", "UBENCH", now),
        lease_until=now + LEASE,
    )
    store.mark_registered(
        call.id, slack_call_id=f"RBENCH{n}", lease=now + LEASE, renewed=now + 2 * LEASE
    )
    store.set_message(call.id, channel_id=channel, ts=f"{n}.000100")
    (live,) = store.live_calls_in_channel(team_id="TBENCH", channel_id=channel)
    claimed = ending.claim_ending(
        live.id, by="UBENCH", reason=EndReason.PERSON, now=datetime.now(UTC), lease=LEASE
    )
    assert claimed is not None
    ending.mark_ended(claimed)


def run(
    store: CallStore, ending: EndingStore, numbers: itertools.count, *, lives: int, threads: int
) -> str:
    def worker(count: int) -> None:
        for _ in range(count):
            call_life(store, ending, next(numbers))

    pool = [threading.Thread(target=worker, args=(lives // threads,)) for _ in range(threads)]
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = lives // threads * threads
    return (
        f"{threads:3d} thread(s): {1000 * cpu / done:6.3f} ms CPU, "
        f"{1000 * wall / done:6.3f} ms wall per call life ({done} lives)"
    )


def start_path(store: CallStore, deliveries: Deliveries, numbers: itertools.count) -> str:
    """Wall time of each database step before calls.add and before chat.postMessage, one
    thread, 400 starts: what the app cannot skip without a call a crash could lose."""
    steps: dict[str, list[float]] = {}

    def timed(name: str, step: Any) -> Any:
        began = time.perf_counter()
        result = step()
        steps.setdefault(name, []).append(1000 * (time.perf_counter() - began))
        return result

    for _ in range(400):
        n, now = next(numbers), datetime.now(UTC)
        timed("delivery recorded", lambda n=n: deliveries.first(f"bench:{n}"))
        timed(
            "running calls counted",
            lambda n=n: store.running_call_counts(
                team_id="TBENCH", channel_id=f"CSTART{n}", user_id="UBENCH"
            ),
        )
        call = timed(
            "call written (before calls.add)",
            lambda n=n, now=now: store.create_starting(
                NewCall("TBENCH", None, f"CSTART{n}", "Bench", "https://x.example/", "U", now),
                lease_until=now + LEASE,
            ),
        )
        timed(
            "Slack id written (before the post)",
            lambda n=n, now=now, call=call: store.mark_registered(
                call.id, slack_call_id=f"RSTART{n}", lease=now + LEASE, renewed=now + 2 * LEASE
            ),
        )
    lines = [f"  {name:<36} p50 {statistics.median(v):6.3f} ms" for name, v in steps.items()]
    total = statistics.median(map(sum, zip(*steps.values(), strict=True)))
    return "\n".join([*lines, f"  {'all of them':<36} p50 {total:6.3f} ms"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL instead of SQLite")
    parser.add_argument("--lives", type=int, default=2400, help="call lives per run (2400)")
    parser.add_argument("--threads", default="1,8", help="thread counts to run (1,8)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="calls-store-bench-"))
    databases = Databases(workdir, args.postgres)
    try:
        engine = make_engine(Databases._sqlalchemy_url(databases.new("store")))
        store, ending = CallStore(engine), EndingStore(engine)
        numbers = itertools.count()
        run(store, ending, numbers, lives=200, threads=1)  # warm-up: pools, statement caches
        print(f"store on {databases.kind}:")
        for threads in (int(t) for t in args.threads.split(",")):
            print(" ", run(store, ending, numbers, lives=args.lives, threads=threads), flush=True)
        print(f"a start's database steps before its post ({databases.kind}, 1 thread):")
        print(start_path(store, Deliveries(engine), numbers))
        engine.dispose()
        return 0
    finally:
        databases.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
