"""The store's own cost per call life, without HTTP, Slack or Bolt: CPU and wall time.

    .venv/bin/python benchmarks/store_bench.py                # SQLite, 1 and 8 threads
    .venv/bin/python benchmarks/store_bench.py --postgres postgresql://postgres@127.0.0.1:5432/test

A call life here is the store calls one `/call start` and one `/call end` make on the common
path, in their order: create_starting, mark_registered, set_message, live_calls_in_channel,
claim_ending, mark_ended. Each thread runs lives back to back on a fresh, migrated database
(the benchmark's own, `benchmarks.harness.Databases`). The CPU is the whole process's, so with
more threads it includes what they cost each other (lock hand-offs, the GIL, SQLite's page
cache being emptied by another connection's writes). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Databases  # noqa: E402
from calls_app.db import make_engine  # noqa: E402
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
        engine.dispose()
        return 0
    finally:
        databases.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
