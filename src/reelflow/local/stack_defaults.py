"""Where `reelflow up` keeps its data and which ports it listens on, without importing the stack itself."""

from pathlib import Path

DEFAULT_DATA_DIR = Path(".reelflow")
# Each server's customary port, so clients with default settings find the stack.
DEFAULT_NATS_PORT = 4222
DEFAULT_NATS_MONITOR_PORT = 8222
DEFAULT_MONGO_PORT = 27017
DEFAULT_S3_PORT = 9000
DEFAULT_GATEWAY_PORT = 8000
