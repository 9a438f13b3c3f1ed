"""How long the embedded stack takes to start: ``reelflow up`` from launch until it says every service is ready.

This is the wait `reelflow render` adds when no stack is running. Each run launches ``reelflow up`` as a fresh
process on free ports with an empty data folder, times launch → "reelflow is up" (all three servers answering,
every worker's ``/readyz`` 200, each durable consumer on the stream, the gateway's ``/readyz`` 200), then stops it
with SIGTERM and checks that it exited 0.

    uv run python -m bench.stack_startup              # median of 5 runs
    uv run python -m bench.stack_startup --runs 3 --json startup.json

Python compiles every module it imports unless a bytecode cache exists; with ``PYTHONDONTWRITEBYTECODE`` set and no
cache (``uv sync`` does not compile by default) each start pays that again. The report says which case it measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.machine_facts import load_average, machine_facts
from reelflow.local.ports import free_port

UP_BANNER = "reelflow is up"
# What `reelflow up` prints about its own phases, e.g. "started in 3.1s (servers 0.9s, then services 2.2s)".
_PHASES = re.compile(r"started in ([\d.]+)s \(servers ([\d.]+)s, then services ([\d.]+)s\)")
_POLL_SEC = 0.02
STOP_TIMEOUT_SEC = 60.0


@dataclass(frozen=True)
class StartupRun:
    """One launch: seconds from launch to "up", and the command's own account of its phases (None if absent)."""

    seconds: float
    reported_total_sec: float | None
    servers_sec: float | None
    services_sec: float | None
    stopped_with: int


def up_command(data_dir: Path, ports: dict[str, int]) -> list[str]:
    """``reelflow up`` with this interpreter, its data in ``data_dir`` and every port given."""
    command = [sys.executable, "-m", "reelflow.cli.main", "up", "--data-dir", str(data_dir)]
    for flag, port in ports.items():
        command += [f"--{flag}", str(port)]
    return command


def parse_phases(output: str) -> tuple[float | None, float | None, float | None]:
    """(total, servers, services) seconds as ``reelflow up`` reported them, or Nones."""
    match = _PHASES.search(output)
    if match is None:
        return None, None, None
    total, servers, services = (float(value) for value in match.groups())
    return total, servers, services


def time_one_start(work_dir: Path, timeout_sec: float) -> StartupRun:
    """Launch ``reelflow up`` once, wait for its banner, stop it with SIGTERM; raise if any of that fails."""
    ports = {flag: free_port() for flag in ("port", "nats-port", "nats-monitor-port", "mongo-port", "s3-port")}
    log_path = work_dir / "up.log"
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            up_command(work_dir / "data", ports), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while UP_BANNER not in (output := log_path.read_text(errors="replace")):
            if process.poll() is not None:
                raise RuntimeError(f"reelflow up exited with {process.returncode} before it was up:\n{output[-3000:]}")
            if time.monotonic() - started > timeout_sec:
                raise TimeoutError(f"reelflow up was not up within {timeout_sec:g}s:\n{output[-3000:]}")
            time.sleep(_POLL_SEC)
        seconds = time.monotonic() - started
        process.send_signal(signal.SIGTERM)
        stopped_with = process.wait(timeout=STOP_TIMEOUT_SEC)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    total, servers, services = parse_phases(log_path.read_text(errors="replace"))
    return StartupRun(seconds, total, servers, services, stopped_with)


def bytecode_cache_state() -> str:
    """Whether imports load cached bytecode or compile source, judged by one large dependency (openai)."""
    spec = importlib.util.find_spec("openai")
    if spec is None or spec.origin is None:
        return "unknown"
    cached = Path(importlib.util.cache_from_source(spec.origin))
    if cached.is_file():
        return "cached"
    if sys.flags.dont_write_bytecode:
        return "missing: every start compiles from source (PYTHONDONTWRITEBYTECODE is set and nothing is cached)"
    return "missing before this run (written by the first start)"


def report(runs: list[StartupRun]) -> dict[str, Any]:
    seconds = [run.seconds for run in runs]
    return {
        "median_sec": round(statistics.median(seconds), 2),
        "min_sec": round(min(seconds), 2),
        "max_sec": round(max(seconds), 2),
        "runs": [asdict(run) for run in runs],
        "bytecode_cache": bytecode_cache_state(),
        "load_average_after": load_average(),
        "machine": machine_facts(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="launches to time (default 5); the median is reported")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one launch may take (default 120)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    print(f"bytecode cache: {bytecode_cache_state()}; load average {load_average()}")
    runs = []
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="reelflow-bench-startup-") as work:
            run = time_one_start(Path(work), args.timeout)
        runs.append(run)
        phases = (
            f" (it reports servers {run.servers_sec}s, then services {run.services_sec}s)"
            if run.servers_sec is not None
            else ""
        )
        print(f"run {number}: up in {run.seconds:.2f}s{phases}; stopped with exit code {run.stopped_with}")
    result = report(runs)
    print(
        f"embedded stack start → all ready: median {result['median_sec']:.2f}s "
        f"(min {result['min_sec']:.2f}s, max {result['max_sec']:.2f}s, {len(runs)} runs, "
        f"{result['machine']['cpu_count']} CPUs, load {result['load_average_after']})"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(run.stopped_with == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
