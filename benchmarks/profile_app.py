"""Where the app's time goes during the benchmark's call lives: py-spy on the gunicorn worker.

    .venv/bin/pip install py-spy        # a tool for this, not a dependency of the app
    .venv/bin/python benchmarks/profile_app.py                 # SQLite, 400 lives
    .venv/bin/python benchmarks/profile_app.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/profile_app.py --target baseline

One run as in benchmarks/run.py (fresh fake, fresh database, `python app.py`), with py-spy
sampling the worker — by default only the thread holding the GIL (`--gil`), i.e. where the
worker's Python time goes, since one worker's throughput is bounded by its GIL. Prints the
worker's CPU per call life, the samples per life by layer, and per calls_app function; the raw
stacks (py-spy's collapsed format, for a flame graph) are kept in --out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import BenchError, Databases, ServerProcess  # noqa: E402
from benchmarks.run import baseline_settings, parse_args, run_lives  # noqa: E402

RATE = 200  # samples per second

# Layers: a stack goes to the first layer any of its frames is in; a stack in none of them
# goes by its innermost frame: calls_app's own code, Bolt's, or other (threads, stdlib).
LAYERS = [
    ("database: SQLAlchemy + driver", ("sqlalchemy/", "psycopg", "sqlite3")),
    ("response_url replies (slack_sdk webhook)", ("WebhookClient",)),
    ("Web API calls (slack_sdk WebClient)", ("slack_sdk/web",)),
    ("request handling (web.py, Bolt dispatch)", ("SlackWsgiApp", "App.dispatch")),
    ("gunicorn (accept, parse, write)", ("gunicorn/",)),
]
LEAF_LAYERS = [
    ("calls_app's own code", "(calls_app/"),
    ("Bolt listener runner", "(slack_bolt/"),
]


def layer_of(frames: list[str]) -> str:
    joined = ";".join(frames)
    for name, marks in LAYERS:
        if any(mark in joined for mark in marks):
            return name
    leaf = frames[-1] if frames else ""
    return next((name for name, mark in LEAF_LAYERS if mark in leaf), "other (threads, stdlib)")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def frame_name(frame: str) -> str:
    return re.sub(r" \(([^:]+):\d+\)", r" (\1)", frame)


def summarize(raw: Path, lives: int) -> None:
    total = 0
    layers: Counter = Counter()
    own: Counter = Counter()  # deepest calls_app function on the stack
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")[1:]  # the first is the thread
        total += n
        layers[layer_of(frames)] += n
        mine = [frame_name(f) for f in frames if "(calls_app/" in f]
        if mine:
            own[mine[-1]] += n
    if not total:
        print("no samples (did py-spy attach? it needs ptrace: root or CAP_SYS_PTRACE)")
        return
    per_life = 1000 / RATE / lives
    print(f"\n{total} samples = {total * per_life:.2f} ms per call life")
    print("\nby layer (ms per life, share):")
    for name, n in layers.most_common():
        print(f"  {n * per_life:6.2f}  {100 * n / total:5.1f}%  {name}")
    print("\nby calls_app function, deepest on the stack (ms per life, share), top 25:")
    for name, n in own.most_common(25):
        print(f"  {n * per_life:6.2f}  {100 * n / total:5.1f}%  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="call lives (default 400)")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL instead of SQLite")
    parser.add_argument("--target", choices=("app", "baseline"), default="app")
    parser.add_argument(
        "--all-threads",
        action="store_true",
        help="sample every running thread, not only the one holding the GIL",
    )
    parser.add_argument(
        "--out", default="benchmarks/results/profile.txt", help="py-spy's raw stacks"
    )
    ours = parser.parse_args()
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 1
    run_args = parse_args(
        ["--n", str(ours.n), *(["--postgres", ours.postgres] if ours.postgres else [])]
    )
    out = Path(ours.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="calls-profile-"))
    databases = Databases(workdir, ours.postgres)
    state: dict = {}

    def on_ready(server: ServerProcess) -> None:
        worker = server.process_tree()[1]  # one worker (benchmarks/run.py sets it)
        argv = [spy, "record", "--pid", str(worker), "--threads", "--format", "raw"]
        argv += ["--rate", str(RATE), "--nonblocking", "-o", str(out)]
        if not ours.all_threads:
            argv.append("--gil")
        state["spy"] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # attached before the first request
        if state["spy"].poll() is not None:
            raise BenchError(f"py-spy failed: {state['spy'].stderr.read().decode()[-500:]}")
        state["worker"] = worker
        state["cpu"] = cpu_seconds(worker)

    def on_done(server: ServerProcess) -> None:
        state["cpu"] = cpu_seconds(state["worker"]) - state["cpu"]

    try:
        _, _, baseline_env = baseline_settings(run_args)
        result = run_lives(
            ours.target,
            1,
            run_args,
            databases,
            workdir,
            baseline_env,
            on_ready=on_ready,
            on_done=on_done,
        )
        with contextlib.suppress(subprocess.TimeoutExpired):
            state["spy"].wait(timeout=30)  # py-spy writes its file once the worker is gone
        print(
            f"{ours.target} on {databases.kind}: {ours.n} call lives in {result['wall_s']:.2f} s; "
            f"worker CPU {state['cpu']:.2f} s = {1000 * state['cpu'] / ours.n:.1f} ms per life"
        )
        summarize(out, ours.n)
        print(f"\nraw stacks: {out}")
        return 0
    except BenchError as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return 1
    finally:
        spy_process = state.get("spy")
        if spy_process is not None and spy_process.poll() is None:
            spy_process.terminate()
        databases.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
