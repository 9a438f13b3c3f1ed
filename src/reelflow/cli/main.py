"""The ``reelflow`` command: up, render, worker, contracts export."""

import argparse
import json
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console

from reelflow.cli.render_client import GatewayClient, RenderFailedError, detect_language
from reelflow.cli.workers import SERVICES, run_worker
from reelflow.local.ports import free_port
from reelflow.local.servers import (
    DEFAULT_DATA_DIR,
    DEFAULT_MONGO_PORT,
    DEFAULT_NATS_MONITOR_PORT,
    DEFAULT_NATS_PORT,
    DEFAULT_S3_PORT,
    EmbeddedStack,
    StackEndpoints,
)
from reelflow.local.workers import WorkerGroup

DEFAULT_GATEWAY_PORT = 8000
EXIT_INTERRUPTED = 130
console = Console(stderr=True)


class StopRequestedError(Exception):
    """SIGTERM or SIGINT reached the command: stop everything it started, in order, and leave."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`StopRequestedError` in the main thread, so ``finally`` blocks stop the
    workers and then the servers; a second signal during that stop is ignored rather than cutting it short."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        raise StopRequestedError(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _gateway_is_up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _announce_restart(name: str, how: str, delay_sec: float) -> None:
    console.print(f"[yellow]{name} {how}[/]; restarting it in {delay_sec:.0f}s")


def _start_services(endpoints: StackEndpoints, data_dir: Path, gateway_port: int) -> tuple[WorkerGroup, str]:
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = endpoints.service_env() | {
        "REELFLOW_GATEWAY_HOST": "127.0.0.1",
        "REELFLOW_GATEWAY_PORT": str(gateway_port),
    }
    workers = WorkerGroup(env, data_dir / "logs")
    workers.start()
    workers.supervise(on_restart=_announce_restart)
    try:
        workers.wait_ready(endpoints.nats_url, gateway_url, timeout_sec=90)
    except Exception:
        workers.stop()
        raise
    return workers, gateway_url


def command_up(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    stack = EmbeddedStack(
        data_dir,
        nats_port=args.nats_port,
        nats_monitor_port=args.nats_monitor_port,
        mongo_port=args.mongo_port,
        s3_port=args.s3_port,
    )
    with stop_on_signals():
        try:
            with stack as endpoints:
                workers, gateway_url = _start_services(endpoints, data_dir, args.port)
                try:
                    console.print(f"[green]reelflow is up[/]: gateway {gateway_url} (API docs {gateway_url}/docs)")
                    console.print(
                        f"NATS {endpoints.nats_url} · MongoDB {endpoints.mongo_url} · S3 {endpoints.s3_endpoint}"
                    )
                    console.print(f"logs in {data_dir / 'logs'}; Ctrl-C or SIGTERM stops everything")
                    threading.Event().wait()
                finally:
                    console.print("stopping: services first, then the servers…")
                    workers.stop()
        except StopRequestedError:
            console.print("stopped")
    return 0


def command_render(args: argparse.Namespace) -> int:
    source = Path(args.lesson)
    if not source.is_file():
        console.print(f"[red]error[/]: lesson file {source} does not exist")
        return 2
    text = source.read_text(encoding="utf-8")
    language = args.lang or detect_language(text)
    output = Path(args.output) if args.output else source.with_suffix(".mp4")
    gateway_url = args.gateway or f"http://127.0.0.1:{DEFAULT_GATEWAY_PORT}"
    if _gateway_is_up(gateway_url):
        return _render_with(gateway_url, text, output, language, args)
    if args.gateway:
        console.print(f"[red]error[/]: no reelflow gateway answers at {args.gateway}")
        return 2
    console.print("no running stack found; starting an embedded one (nats-server, nx-27017, nanio, six services)…")
    with stop_on_signals():
        try:
            with tempfile.TemporaryDirectory(prefix="reelflow-render-") as tmp:
                data_dir = Path(tmp)
                with EmbeddedStack(data_dir) as endpoints:
                    workers, url = _start_services(endpoints, data_dir, free_port())
                    try:
                        return _render_with(url, text, output, language, args)
                    finally:
                        workers.stop()
        except StopRequestedError as stop:
            console.print(f"[yellow]stopped by {stop}[/]: the embedded stack is down, nothing is left running")
            return EXIT_INTERRUPTED


def _render_with(gateway_url: str, text: str, output: Path, language: str, args: argparse.Namespace) -> int:
    client = GatewayClient(gateway_url, console)
    started = time.monotonic()
    try:
        files = client.render_lesson(
            text, output, language=language, title=args.title or "", size=args.size, visual_style=args.style
        )
    except RenderFailedError as error:
        console.print(f"[red]render failed[/] {error.code}: {error}")
        return 1
    finally:
        client.close()
    elapsed = time.monotonic() - started
    duration = files.job.get("duration_sec") or 0
    console.print(f"[green]done[/] in {elapsed:.0f}s: {files.video} ({duration:.1f}s of video)")
    for extra in (files.subtitles, files.thumbnail):
        if extra is not None:
            console.print(f"      {extra}")
    return 0


def command_worker(args: argparse.Namespace) -> int:
    run_worker(args.name)
    return 0


def command_contracts_export(args: argparse.Namespace) -> int:
    from reelflow.contracts.schema_export import asyncapi_document, event_json_schemas

    target = Path(args.directory)
    target.mkdir(parents=True, exist_ok=True)
    schemas = event_json_schemas()
    for stem, schema in schemas.items():
        (target / f"{stem}.schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    (target / "asyncapi.json").write_text(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote {len(schemas)} event schemas and asyncapi.json to {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reelflow", description="Lesson text to narrated, subtitled video.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the embedded stack and all six services; gateway on :8000")
    up.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    up.add_argument("--port", type=int, default=DEFAULT_GATEWAY_PORT, help="gateway port (default 8000)")
    for server, default in (
        ("nats", DEFAULT_NATS_PORT),
        ("nats-monitor", DEFAULT_NATS_MONITOR_PORT),
        ("mongo", DEFAULT_MONGO_PORT),
        ("s3", DEFAULT_S3_PORT),
    ):
        up.add_argument(f"--{server}-port", type=int, default=default, help=f"default {default}; 0 picks a free port")
    up.set_defaults(run=command_up)

    render = commands.add_parser("render", help="render a lesson (Markdown or text) to an MP4")
    render.add_argument("lesson", help="the lesson file, Markdown or plain text, Korean or English")
    render.add_argument("-o", "--output", help="the MP4 to write (default: beside the lesson)")
    render.add_argument("--lang", choices=("ko", "en"), help="narration language (default: detected)")
    render.add_argument("--title", help="video title (default: the first heading)")
    render.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (default 1280x720)")
    render.add_argument(
        "--style", choices=("basic", "animated"), default="basic", help="animated: Ken Burns motion and crossfades"
    )
    render.add_argument("--gateway", help="gateway URL of a running stack (default: :8000, else embedded)")
    render.set_defaults(run=command_render)

    worker = commands.add_parser("worker", help="run one service in the foreground")
    worker.add_argument("name", choices=SERVICES)
    worker.set_defaults(run=command_worker)

    contracts = commands.add_parser("contracts", help="contract tooling")
    contracts_commands = contracts.add_subparsers(dest="contracts_command", required=True)
    export = contracts_commands.add_parser("export", help="write JSON Schemas and an AsyncAPI document")
    export.add_argument("directory")
    export.set_defaults(run=command_contracts_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    exit_code: int = args.run(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
