"""The render benchmark's results: per-run metrics, MoviePy/reelflow ratios, the printed table and the JSON files."""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
REELFLOW = "reelflow"
MOVIEPY = "moviepy"
RESULTS_SCHEMA = "reelflow-render-bench/1"
LATEST_JSON = "latest.json"
LATEST_PNG = "latest.png"


@dataclass(frozen=True)
class RunResult:
    """One engine rendering the lesson in one mode, measured from process start to exit."""

    mode: str
    engine: str
    wall_sec: float
    peak_rss_bytes: int
    peak_process_count: int
    largest_process_rss_bytes: int
    rss_samples: int
    output_duration_sec: float | None  # None when the run failed
    output_bytes: int
    load_average_before: tuple[float, float, float]
    engine_log: tuple[str, ...] = ()
    error: str = ""  # why the run failed (exit code and log tail, or timeout); empty when it succeeded
    # The render call alone, timed inside the engine's process: without the interpreter's start, the imports and
    # (for the short) putting the inputs in the blob store, none of which a running worker pays per job.
    job_sec: float | None = None

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_bytes / MIB

    @property
    def succeeded(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class Ratio:
    """How many times MoviePy's cost is reelflow's in one mode (above 1: reelflow is cheaper)."""

    mode: str
    wall_time: float
    peak_rss: float


@dataclass(frozen=True)
class LessonFacts:
    scenes: int
    total_sec: float
    size: str
    fps: int
    language: str
    scene_seconds_target: float
    crossfade_sec: float
    ken_burns_zoom: float


@dataclass(frozen=True)
class ShortFacts:
    """The ranking short both engines make (``--modes ranking``)."""

    clips: int
    total_sec: float
    size: str
    fps: int
    transition_sec: float
    clip_sizes: tuple[str, ...]


@dataclass(frozen=True)
class BenchReport:
    created_at: datetime
    command: tuple[str, ...]
    machine: dict[str, Any]
    lesson: LessonFacts
    runs: tuple[RunResult, ...]
    moviepy: dict[str, Any]
    notes: tuple[str, ...] = field(default=())
    short: ShortFacts | None = None
    end_to_end: dict[str, Any] | None = None  # bench.end_to_end's result, when that mode ran

    @property
    def ratios(self) -> list[Ratio]:
        return ratios(self.runs)


def ratios(runs: Sequence[RunResult]) -> list[Ratio]:
    """One ratio per mode that has both engines' runs, in the order the modes were run."""
    found: list[Ratio] = []
    modes = dict.fromkeys(run.mode for run in runs)
    for mode in modes:
        ours = _run(runs, mode, REELFLOW)
        theirs = _run(runs, mode, MOVIEPY)
        if ours is None or theirs is None or not (ours.succeeded and theirs.succeeded):
            continue
        if ours.wall_sec <= 0 or ours.peak_rss_bytes <= 0:
            continue
        wall_time = theirs.wall_sec / ours.wall_sec
        found.append(Ratio(mode=mode, wall_time=wall_time, peak_rss=theirs.peak_rss_bytes / ours.peak_rss_bytes))
    return found


def results_table(runs: Sequence[RunResult], mode_ratios: Sequence[Ratio]) -> str:
    """The plain-text table printed at the end of a run (also pasted into bench/README.md)."""
    header = f"{'mode':<10}{'engine':<10}{'wall s':>9}{'job s':>8}{'peak RSS MiB':>15}{'video s':>10}"
    lines = [header, "-" * len(header)]
    by_mode = {ratio.mode: ratio for ratio in mode_ratios}
    for mode in dict.fromkeys(run.mode for run in runs):
        for run in (run for run in runs if run.mode == mode):
            video = "failed" if run.output_duration_sec is None else f"{run.output_duration_sec:.1f}"
            job = "" if run.job_sec is None else f"{run.job_sec:.1f}"
            lines.append(
                f"{run.mode:<10}{run.engine:<10}{run.wall_sec:>9.1f}{job:>8}{run.peak_rss_mib:>15.1f}{video:>10}"
            )
        ratio = by_mode.get(mode)
        if ratio is not None:
            lines.append(f"{mode:<10}{'ratio':<10}{ratio.wall_time:>8.1f}x{'':>8}{ratio.peak_rss:>14.1f}x")
    return "\n".join(lines)


def report_json(report: BenchReport) -> dict[str, Any]:
    return {
        "schema": RESULTS_SCHEMA,
        "created_at": report.created_at.isoformat().replace("+00:00", "Z"),
        "command": list(report.command),
        "machine": report.machine,
        "inputs": asdict(report.lesson),
        "ranking_inputs": asdict(report.short) if report.short is not None else None,
        "moviepy": report.moviepy,
        "runs": [{**asdict(run), "peak_rss_mib": round(run.peak_rss_mib, 1)} for run in report.runs],
        "ratios_moviepy_over_reelflow": [asdict(ratio) for ratio in report.ratios],
        "end_to_end": report.end_to_end,
        "notes": list(report.notes),
    }


def write_report_json(report: BenchReport, out_dir: Path) -> tuple[Path, Path]:
    """``render-<UTC timestamp>.json`` plus the same document as ``latest.json``; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    stamped = out_dir / f"render-{report.created_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    latest = out_dir / LATEST_JSON
    for path in (stamped, latest):
        partial = path.with_name(path.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return stamped, latest


def _run(runs: Sequence[RunResult], mode: str, engine: str) -> RunResult | None:
    return next((run for run in runs if run.mode == mode and run.engine == engine), None)
