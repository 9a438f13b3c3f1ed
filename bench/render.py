"""Render benchmark: the same narrated lesson through reelflow's compose engine and through MoviePy 2.x.

Run ``scripts/bench.sh`` (or ``uv run python -m bench.render --help``). Inputs are prepared once and
cached (untimed); then, per mode, each engine renders the lesson in a fresh process while its whole
process tree is measured (wall time and peak summed RSS). Results go to ``bench/results/`` as JSON and
a PNG chart. See ``bench/README.md`` for what each side does and how to read the numbers.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.lesson_inputs import prepare_lesson
from bench.lesson_manifest import BenchLesson
from bench.machine_facts import load_average, machine_facts
from bench.process_tree import run_measured
from bench.render_results import (
    LATEST_PNG,
    MOVIEPY,
    REELFLOW,
    BenchReport,
    LessonFacts,
    RunResult,
    results_table,
    write_report_json,
)
from bench.results_chart import draw_chart

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
MOVIEPY_PROJECT = BENCH_DIR / "moviepy_side"
MOVIEPY_SCRIPT = MOVIEPY_PROJECT / "render_moviepy.py"
MODES = ("basic", "animated")
SETUP_TIMEOUT_SEC = 600.0
PROBE_TIMEOUT_SEC = 30.0
LOG_TAIL_LINES = 30
PRINT_EXECUTABLE = "import sys; print(sys.executable)"

COMPARISON_NOTES = (
    "reelflow basic: one FFmpeg x264 encode per scene (slide looped, subtitles burned by libass), then a "
    "stream-copy concat with the narration muxed in; scenes change with hard cuts.",
    "reelflow animated: whatever compose_lesson does for visual_style=animated at the time of the run "
    "(see each run's engine_log).",
    "MoviePy: ImageClip + TextClip captions + AudioFileClip per scene, 0.5 s CrossFadeIn between scenes "
    "in both modes, concatenate_videoclips(method='compose'); animated adds resized(lambda t: ...) Ken Burns.",
    "Both encode with libx264 preset veryfast, CRF 20, AAC 160k at 48 kHz, using the same system FFmpeg.",
    "Wall time is process start to exit (interpreter start and imports included); peak RSS is the largest "
    "sum of VmRSS over the process and all its descendants, sampled every 50 ms.",
)


class BenchError(RuntimeError):
    """The bench cannot go on (a tool is missing, an engine failed); the message says what to look at."""


@dataclass(frozen=True)
class BenchOptions:
    modes: tuple[str, ...]
    scenes: int
    scene_seconds: float
    skip_moviepy: bool
    out_dir: Path
    cache_dir: Path
    run_timeout_sec: float


def parse_options(argv: Sequence[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: basic,animated (default both)")
    parser.add_argument("--scenes", type=int, default=12, help="scenes in the lesson (default 12)")
    parser.add_argument("--scene-seconds", type=float, default=15.0, help="narration per scene, about (default 15)")
    parser.add_argument("--skip-moviepy", action="store_true", help="reelflow only: quick, but no ratio")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder (JSON + PNG)")
    parser.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache", help="prepared inputs and run folders")
    parser.add_argument("--run-timeout-min", type=float, default=120.0, help="kill a single run after this long")
    args = parser.parse_args(argv)
    modes = tuple(mode.strip() for mode in args.modes.split(",") if mode.strip())
    unknown = [mode for mode in modes if mode not in MODES]
    if not modes or unknown:
        parser.error(f"--modes takes {' and/or '.join(MODES)}, got {args.modes!r}")
    if args.scenes < 1 or args.scene_seconds <= 0:
        parser.error("--scenes must be at least 1 and --scene-seconds positive")
    return BenchOptions(
        modes=modes,
        scenes=args.scenes,
        scene_seconds=args.scene_seconds,
        skip_moviepy=args.skip_moviepy,
        out_dir=args.out.resolve(),
        cache_dir=args.cache.resolve(),
        run_timeout_sec=args.run_timeout_min * 60,
    )


def run_bench(options: BenchOptions, command: Sequence[str]) -> BenchReport:
    """Prepare, render every (mode, engine) pair, and write the results; returns the report."""
    print(f"preparing {options.scenes} scenes of ~{options.scene_seconds:g} s (cached under {options.cache_dir}) ...")
    lesson, manifest = prepare_lesson(options.cache_dir, options.scenes, options.scene_seconds)
    print(f"lesson: {len(lesson.scenes)} scenes, {lesson.total_sec:.1f} s, {lesson.size} at {lesson.fps} fps")
    moviepy_python = None if options.skip_moviepy else moviepy_interpreter()
    _warm_up(moviepy_python)

    # reelflow's runs go first: they are short, so a broken engine stops the bench before MoviePy's long runs.
    runs = [_measure(REELFLOW, mode, reelflow_command(manifest, mode), options) for mode in options.modes]
    broken = [run for run in runs if not run.succeeded]
    if broken:
        raise BenchError(f"reelflow failed in {broken[0].mode} mode ({broken[0].error})")
    if moviepy_python is not None:
        runs += [
            _measure(MOVIEPY, mode, moviepy_command(moviepy_python, manifest, mode), options) for mode in options.modes
        ]

    moviepy_facts: dict[str, Any] = (
        {"skipped": True, "reason": "--skip-moviepy"}
        if moviepy_python is None
        else {"skipped": False, "version": _moviepy_version(moviepy_python), "python": str(moviepy_python)}
    )
    report = BenchReport(
        created_at=datetime.now(UTC).replace(microsecond=0),
        command=tuple(command),
        machine=machine_facts(),
        lesson=_lesson_facts(lesson, options),
        runs=tuple(runs),
        moviepy=moviepy_facts,
        notes=COMPARISON_NOTES,
    )
    stamped, latest = write_report_json(report, options.out_dir)
    chart = draw_chart(report, options.out_dir / LATEST_PNG)
    print()
    print(results_table(report.runs, report.ratios))
    for run in report.runs:
        for message in run.engine_log:
            print(f"note ({run.mode}, {run.engine}): {message}")
    for run in report.runs:
        if not run.succeeded:
            print(f"FAILED ({run.mode}, {run.engine}): {run.error}")
    if moviepy_python is None:
        print("MoviePy skipped: no ratio")
    print(f"\nresults: {stamped}\n         {latest}\n         {chart}")
    return report


def reelflow_command(manifest: Path, mode: str) -> list[str]:
    """The reelflow side runs on this interpreter, in the root workspace's environment."""
    return [sys.executable, "-m", "bench.reelflow_side", "--manifest", str(manifest), "--mode", mode]


def moviepy_command(python: Path, manifest: Path, mode: str) -> list[str]:
    return [str(python), str(MOVIEPY_SCRIPT), "--manifest", str(manifest), "--mode", mode]


def moviepy_interpreter() -> Path:
    """The MoviePy project's Python, synced from its own lockfile (untimed).

    The measured runs start this interpreter directly rather than through ``uv run``, so that uv's own
    process, which would wait in the tree for the whole run, is not counted against MoviePy.
    """
    completed = subprocess.run(
        ["uv", "run", "--project", str(MOVIEPY_PROJECT), "--locked", "python", "-c", PRINT_EXECUTABLE],
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_SEC,
        check=False,
        cwd=REPO_ROOT,
        env=_without_virtual_env(),
    )
    if completed.returncode != 0:
        raise BenchError(f"could not set up the MoviePy environment:\n{completed.stderr.strip()}")
    return Path(completed.stdout.strip().splitlines()[-1])


def _warm_up(moviepy_python: Path | None) -> None:
    """Import each side once, untimed, so neither run pays for a cold page cache of its packages."""
    imports = [[sys.executable, "-c", "import reelflow.compose.lesson"]]
    if moviepy_python is not None:
        imports.append([str(moviepy_python), "-c", "import moviepy"])
    for args in imports:
        subprocess.run(args, check=True, timeout=SETUP_TIMEOUT_SEC, capture_output=True, env=_run_env())


def _measure(engine: str, mode: str, base_command: list[str], options: BenchOptions) -> RunResult:
    run_dir = options.cache_dir / "runs" / f"{mode}-{engine}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    facts_path = run_dir / "facts.json"
    if engine == REELFLOW:
        command = [*base_command, "--workdir", str(run_dir / "work"), "--result", str(facts_path)]
    else:
        command = [*base_command, "--out", str(run_dir / "video.mp4"), "--result", str(facts_path)]
    load_before = load_average()
    print(f"[{mode}] {engine}: rendering ... (log: {run_dir / 'run.log'})", flush=True)
    usage = run_measured(
        command,
        cwd=REPO_ROOT if engine == REELFLOW else run_dir,
        log_path=run_dir / "run.log",
        timeout_sec=options.run_timeout_sec,
        env=_run_env(),
    )
    measured = RunResult(
        mode=mode,
        engine=engine,
        wall_sec=round(usage.wall_sec, 3),
        peak_rss_bytes=usage.peak_rss_bytes,
        peak_process_count=usage.peak_process_count,
        largest_process_rss_bytes=usage.largest_process_rss_bytes,
        rss_samples=usage.samples,
        output_duration_sec=None,
        output_bytes=0,
        load_average_before=load_before,
    )
    if usage.timed_out or usage.exit_code != 0:
        why = f"killed after {options.run_timeout_sec / 60:g} min" if usage.timed_out else f"exit {usage.exit_code}"
        error = f"{why}:\n{_log_tail(run_dir / 'run.log')}"
        print(f"[{mode}] {engine}: FAILED ({why}); see {run_dir / 'run.log'}", flush=True)
        return replace(measured, error=error)
    facts: dict[str, Any] = json.loads(facts_path.read_text(encoding="utf-8"))
    video = Path(facts["video"])
    result = replace(
        measured,
        output_duration_sec=probe_duration_sec(video),
        output_bytes=video.stat().st_size,
        engine_log=tuple(facts.get("engine_log", ())),
    )
    print(
        f"[{mode}] {engine}: {result.wall_sec:.1f} s, peak RSS {result.peak_rss_mib:.1f} MiB, "
        f"video {result.output_duration_sec:.1f} s",
        flush=True,
    )
    return result


def probe_duration_sec(video: Path) -> float:
    """The container's duration as ffprobe reads it, to show each engine really made the whole lesson."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", str(video)],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_SEC,
        check=True,
    )
    return round(float(completed.stdout.strip()), 3)


def _lesson_facts(lesson: BenchLesson, options: BenchOptions) -> LessonFacts:
    return LessonFacts(
        scenes=len(lesson.scenes),
        total_sec=round(lesson.total_sec, 3),
        size=lesson.size,
        fps=lesson.fps,
        language=lesson.language,
        scene_seconds_target=options.scene_seconds,
        crossfade_sec=lesson.crossfade_sec,
        ken_burns_zoom=lesson.ken_burns_zoom,
    )


def _moviepy_version(python: Path) -> str:
    completed = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('moviepy'))"],
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_SEC,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


def _without_virtual_env() -> dict[str, str]:
    """This process may run inside the root workspace's venv; the MoviePy project must not inherit it."""
    return {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}


def _run_env() -> dict[str, str]:
    """Both sides use the system FFmpeg (MoviePy would otherwise take imageio-ffmpeg's bundled build)."""
    env = _without_virtual_env()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise BenchError("ffmpeg is not installed; install it with `apt-get install ffmpeg`")
    env["FFMPEG_BINARY"] = ffmpeg
    return env


def _log_tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:])
    except OSError:
        return "(no log)"


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        report = run_bench(options, ["python", "-m", "bench.render", *(argv if argv is not None else sys.argv[1:])])
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    return 0 if all(run.succeeded for run in report.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
