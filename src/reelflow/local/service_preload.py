"""Imported once by the worker launcher's fork server: what every service imports, so a forked worker only imports
what is its own.

Importing is most of what a service costs to start. The shared part (FastStream, NATS, pydantic, the contracts, the
runtime, uvicorn and the CLI) is imported here once; each worker then imports its own service (the OpenAI client for
script, FastAPI and pymongo for the gateway …) after the fork, beside the others, so every core does some of it.
Measured on 2 cores, that starts the stack sooner than importing all six services here, and a worker holds only its
own modules. A module that fails to import here is skipped: the worker imports it again and its log has the traceback.
"""

import contextlib
import importlib
import os
import signal
import warnings

from reelflow.local.worker_launcher import ENDS_WITH_PARENT_ENV
from reelflow.runtime.parent_death import end_with_parent

# Asked for by the CLI, which starts the launcher from its main thread: the launcher then stops when the CLI dies, even
# by kill -9, and its workers (which stop with the launcher) drain and stop too. Tests start the launcher from
# whatever thread comes first, so it is not tied to one unless asked.
if os.environ.get(ENDS_WITH_PARENT_ENV) == "1":
    end_with_parent(signal.SIGTERM)

PRELOADED_MODULES = (
    "reelflow.cli.main",
    "reelflow.cli.workers",
    "reelflow.runtime.service",
    # What uvicorn imports as it starts a worker.
    "uvicorn.loops.auto",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.lifespan.on",
)

# multiprocessing runs the parent's main module again in each forked child, as __mp_main__; when the parent is
# `python -m reelflow.cli.main`, that module is already imported here and runpy warns so, harmlessly, once per child.
warnings.filterwarnings("ignore", message=r"'reelflow\.cli\.main' found in sys\.modules", category=RuntimeWarning)

for _module in PRELOADED_MODULES:
    with contextlib.suppress(Exception):
        importlib.import_module(_module)
