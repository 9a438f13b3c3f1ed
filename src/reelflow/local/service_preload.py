"""Imported once by the worker launcher's fork server: every service and the CLI, so a forked worker needs no import.

Importing is most of what a service costs to start (seconds of CPU each, the same modules six times over). A module
that fails to import here is skipped: the worker forked later imports it again and its log shows the traceback.
"""

import contextlib
import importlib
import warnings

PRELOADED_MODULES = (
    "reelflow.cli.main",
    "reelflow.cli.workers",
    "reelflow.script.app",
    "reelflow.tts.app",
    "reelflow.compose.app",
    "reelflow.storage.app",
    "reelflow.uploader.app",
    "reelflow.gateway.app",
)

# multiprocessing runs the parent's main module again in each forked child, as __mp_main__; when the parent is
# `python -m reelflow.cli.main`, that module is already imported here and runpy warns so, harmlessly, once per child.
warnings.filterwarnings("ignore", message=r"'reelflow\.cli\.main' found in sys\.modules", category=RuntimeWarning)

for _module in PRELOADED_MODULES:
    with contextlib.suppress(Exception):
        importlib.import_module(_module)
