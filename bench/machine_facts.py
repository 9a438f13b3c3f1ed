"""What machine and tools a benchmark ran on, so a result can be read (and distrusted) later."""

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

VERSION_TIMEOUT_SEC = 10.0


def machine_facts() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_total_mib": _memory_total_mib(),
        "platform": platform.platform(),
        "python_version": sys.version.split()[0],
        "ffmpeg_version": first_line(["ffmpeg", "-hide_banner", "-version"]),
        "espeak_ng_version": first_line(["espeak-ng", "--version"]),
    }


def load_average() -> tuple[float, float, float]:
    """The 1/5/15-minute load: on a shared machine this says how much else was running during a run."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def first_line(args: list[str]) -> str:
    """The first line a version command prints, or ``"unavailable"``."""
    try:
        completed = subprocess.run(args, capture_output=True, text=True, timeout=VERSION_TIMEOUT_SEC, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    lines = completed.stdout.strip().splitlines()
    return lines[0] if lines else "unavailable"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def _memory_total_mib() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return None
