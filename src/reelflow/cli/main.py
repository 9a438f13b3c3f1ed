"""The ``reelflow`` command: up, render, worker, contracts export.

What takes long to import (the HTTP and terminal libraries, the servers' clients, the services) is imported inside
the command that needs it: ``up`` and ``render`` first set the worker launcher importing what the services share, and
the rest of their imports then run beside that.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from reelflow.cli.admin import add_admin_commands
from reelflow.local import worker_launcher
from reelflow.local.admin_credentials import (
    ADMIN_KEY_FILE,
    StackCredentials,
    api_key_for_running_stack,
    credentials_for,
    throwaway_credentials,
)
from reelflow.local.ports import free_port, port_accepts_connections
from reelflow.local.stack_defaults import (
    DEFAULT_DATA_DIR,
    DEFAULT_GATEWAY_PORT,
    DEFAULT_MONGO_PORT,
    DEFAULT_NATS_MONITOR_PORT,
    DEFAULT_NATS_PORT,
    DEFAULT_S3_PORT,
)
from reelflow.local.supervision import raise_outside_spawns
from reelflow.local.workers import GATEWAY, SERVICE_NAMES, WorkerGroup

if TYPE_CHECKING:
    from rich.console import Console

    from reelflow.local.servers import EmbeddedStack, ServerName, StackEndpoints

EXIT_INTERRUPTED = 130


@cache
def console() -> "Console":
    """Where the command talks to its user (stderr; stdout stays free for output a script may read)."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # long URLs stay on one line in logs


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
        raise_outside_spawns(StopRequestedError(signal.Signals(signum).name))

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _gateway_is_up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _announce_restart(name: str, how: str, delay_sec: float) -> None:
    console().print(f"[yellow]{name} {how}[/]; restarting it in {delay_sec:.0f}s")


def _media_in_a_directory() -> bool:
    """REELFLOW_STORAGE_PROVIDER=local: the services keep media in a directory, so the stack needs no S3 server."""
    return os.environ.get("REELFLOW_STORAGE_PROVIDER", "").strip() == "local"


def _stack_servers() -> tuple["ServerName", ...]:
    from reelflow.local.servers import SERVER_NAMES

    return tuple(name for name in SERVER_NAMES if name != "s3" or not _media_in_a_directory())


def _media_env(data_dir: Path) -> dict[str, str]:
    """Under the local provider with no directory named, the media goes under the stack's data directory."""
    if not _media_in_a_directory() or os.environ.get("REELFLOW_STORAGE_LOCAL_DIR"):
        return {}
    return {"REELFLOW_STORAGE_LOCAL_DIR": str((data_dir / "media").absolute())}


def _start_services(
    endpoints: "StackEndpoints", data_dir: Path, gateway_port: int, credentials: StackCredentials
) -> tuple[WorkerGroup, str]:
    """Start the six services, supervised, against servers that already answer; wait until every one is ready."""
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    env = (
        endpoints.service_env()
        | {"REELFLOW_GATEWAY_HOST": "127.0.0.1", "REELFLOW_GATEWAY_PORT": str(gateway_port)}
        | credentials.gateway_env()
        | _media_env(data_dir)
    )
    workers = WorkerGroup(env, data_dir / "logs")
    workers.start()
    workers.supervise(on_restart=_announce_restart)
    try:
        workers.wait_ready(endpoints.nats_url, gateway_url, timeout_sec=90)
    except Exception:
        workers.stop()
        raise
    return workers, gateway_url


def _start_embedded(
    stack: "EmbeddedStack", data_dir: Path, gateway_port: int, credentials: StackCredentials, *, started: float
) -> tuple["StackEndpoints", WorkerGroup, str]:
    """The servers, then the services, in as little time as the machine allows.

    The caller has set the worker launcher importing (``worker_launcher.warm_up``, at ``started``);
    the servers start meanwhile, and the workers are forked once the servers answer (the gateway needs MongoDB at
    start-up), which then takes a fraction of a second. ``stack.stop()`` is the caller's, also when this raises.
    """
    endpoints = stack.start()
    servers_ready = time.monotonic()
    workers, gateway_url = _start_services(endpoints, data_dir, gateway_port, credentials)
    ready = time.monotonic()
    servers_sec, services_sec = servers_ready - started, ready - servers_ready
    console().print(
        f"started in {ready - started:.1f}s (servers {servers_sec:.1f}s, then services {services_sec:.1f}s)"
    )
    return endpoints, workers, gateway_url


def command_up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    data_dir = Path(args.data_dir)
    with stop_on_signals():
        worker_launcher.warm_up(ends_with_caller=True)
        from reelflow.local.servers import EmbeddedStack

        stack = EmbeddedStack(
            data_dir,
            nats_port=args.nats_port,
            nats_monitor_port=args.nats_monitor_port,
            mongo_port=args.mongo_port,
            s3_port=args.s3_port,
            servers=_stack_servers(),
            signal_on_parent_death=signal.SIGTERM,
        )
        try:
            try:
                gateway_port = args.port or free_port()
                credentials = credentials_for(data_dir)
                endpoints, workers, gateway_url = _start_embedded(
                    stack, data_dir, gateway_port, credentials, started=started
                )
                try:
                    for name in workers.services:
                        if name != GATEWAY:
                            console().print(f"  {name:<9}/healthz and /readyz at {workers.health_url(name)}")
                    console().print(f"[green]reelflow is up[/]: gateway {gateway_url} (API docs {gateway_url}/docs)")
                    media = (
                        f"media in {os.environ.get('REELFLOW_STORAGE_LOCAL_DIR') or data_dir / 'media'}"
                        if _media_in_a_directory()
                        else f"S3 {endpoints.s3_endpoint}"
                    )
                    console().print(f"NATS {endpoints.nats_url} · MongoDB {endpoints.mongo_url} · {media}")
                    console().print(f"web studio {gateway_url}/studio/ · admin API key in {data_dir / ADMIN_KEY_FILE}")
                    if credentials.password:
                        console().print(
                            f"[bold]first admin[/]: {credentials.email} / {credentials.password} "
                            "(shown this once; add people with `reelflow admin create-user`)"
                        )
                    console().print(f"logs in {data_dir / 'logs'}; Ctrl-C or SIGTERM stops everything")
                    threading.Event().wait()
                finally:
                    console().print("stopping: services first, then the servers…")
                    workers.stop()
            finally:
                stack.stop()
        except StopRequestedError:
            console().print("stopped")
    return 0


def command_render(args: argparse.Namespace) -> int:
    started = time.monotonic()
    source = Path(args.lesson)
    if not source.is_file():
        console().print(f"[red]error[/]: lesson file {source} does not exist")
        return 2
    gateway_url = args.gateway or f"http://127.0.0.1:{DEFAULT_GATEWAY_PORT}"
    # Nothing listening on the default port means no stack: set the launcher's imports going before anything else.
    embedded = args.embedded or (args.gateway is None and not port_accepts_connections(DEFAULT_GATEWAY_PORT))
    if embedded:
        worker_launcher.warm_up(ends_with_caller=True)
    from reelflow.cli.render_client import detect_language

    text = source.read_text(encoding="utf-8")
    language = args.lang or detect_language(text)
    output = Path(args.output) if args.output else source.with_suffix(".mp4")
    if not embedded and _gateway_is_up(gateway_url):
        api_key = api_key_for_running_stack(args.api_key, Path(DEFAULT_DATA_DIR))
        return _render_with(gateway_url, api_key, text, output, language, args)
    if args.gateway:
        console().print(f"[red]error[/]: no reelflow gateway answers at {args.gateway}")
        return 2
    reason = "as asked" if args.embedded else "no running stack found"
    console().print(f"{reason}: starting an embedded stack (nats-server, nx-27017, nanio, six services)…")
    with stop_on_signals():
        worker_launcher.warm_up(ends_with_caller=True)
        from reelflow.local.servers import EmbeddedStack

        try:
            with tempfile.TemporaryDirectory(prefix="reelflow-render-") as tmp:
                data_dir = Path(tmp)
                stack = EmbeddedStack(data_dir, servers=_stack_servers(), signal_on_parent_death=signal.SIGTERM)
                credentials = throwaway_credentials()
                try:
                    _, workers, url = _start_embedded(stack, data_dir, free_port(), credentials, started=started)
                    try:
                        return _render_with(url, credentials.api_key, text, output, language, args)
                    finally:
                        workers.stop()
                finally:
                    stack.stop()
        except StopRequestedError as stop:
            console().print(f"[yellow]stopped by {stop}[/]: the embedded stack is down, nothing is left running")
            return EXIT_INTERRUPTED


def _render_with(
    gateway_url: str, api_key: str | None, text: str, output: Path, language: str, args: argparse.Namespace
) -> int:
    from reelflow.cli.render_client import GatewayClient, RenderFailedError

    client = GatewayClient(gateway_url, console(), api_key=api_key)
    started = time.monotonic()
    try:
        files = client.render_lesson(
            text,
            output,
            language=language,
            title=args.title or "",
            size=args.size,
            visual_style=args.style,
            title_card=not args.no_title_card,
        )
    except RenderFailedError as error:
        console().print(f"[red]render failed[/] {error.code}: {error}")
        if error.code in ("UNAUTHENTICATED", "FORBIDDEN"):
            console().print(
                "the running stack wants an API key with the scripts and render scopes: pass --api-key or set "
                "REELFLOW_API_KEY (make one in the studio's Account page or with `reelflow admin create-key`)"
            )
        return 1
    finally:
        client.close()
    elapsed = time.monotonic() - started
    duration = files.job.get("duration_sec") or 0
    console().print(f"[green]done[/] in {elapsed:.0f}s: {files.video} ({duration:.1f}s of video)")
    for extra in (files.subtitles, files.thumbnail):
        if extra is not None:
            console().print(f"      {extra}")
    return 0


def command_worker(args: argparse.Namespace) -> int:
    # Imported here: uvicorn and the service itself are the worker's, not `reelflow up`'s or `render`'s.
    from reelflow.cli.workers import run_worker

    run_worker(args.name)
    return 0


def command_contracts_export(args: argparse.Namespace) -> int:
    from reelflow.contracts.schema_export import asyncapi_document, codegen_schema, event_json_schemas

    target = Path(args.directory)
    target.mkdir(parents=True, exist_ok=True)
    schemas = event_json_schemas()
    for stem, schema in schemas.items():
        (target / f"{stem}.schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    (target / "asyncapi.json").write_text(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False) + "\n")
    (target / "codegen.schema.json").write_text(json.dumps(codegen_schema(), indent=2, ensure_ascii=False) + "\n")
    console().print(f"wrote {len(schemas)} event schemas, asyncapi.json and codegen.schema.json to {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reelflow", description="Lesson text to narrated, subtitled video.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the embedded stack and all six services; gateway on :8000")
    up.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    up.add_argument(
        "--port", type=int, default=DEFAULT_GATEWAY_PORT, help="gateway port (default 8000; 0 picks a free port)"
    )
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
        "--no-title-card", action="store_true", help="start with the first scene, without the 3-second title card"
    )
    render.add_argument(
        "--style", choices=("basic", "animated"), default="basic", help="animated: Ken Burns motion and crossfades"
    )
    stack = render.add_mutually_exclusive_group()
    stack.add_argument("--gateway", help="gateway URL of a running stack (default: :8000, else embedded)")
    stack.add_argument("--embedded", action="store_true", help="start a stack of its own even if one answers on :8000")
    render.add_argument(
        "--api-key",
        help="API key for a running stack (default: $REELFLOW_API_KEY, else the one `reelflow up` saved in .reelflow/)",
    )
    render.set_defaults(run=command_render)

    worker = commands.add_parser("worker", help="run one service in the foreground")
    worker.add_argument("name", choices=SERVICE_NAMES)
    worker.set_defaults(run=command_worker)

    add_admin_commands(commands)

    contracts = commands.add_parser("contracts", help="contract tooling")
    contracts_commands = contracts.add_subparsers(dest="contracts_command", required=True)
    export = contracts_commands.add_parser(
        "export", help="write JSON Schemas, a code-generation bundle and an AsyncAPI document"
    )
    export.add_argument("directory")
    export.set_defaults(run=command_contracts_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    exit_code: int = args.run(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
