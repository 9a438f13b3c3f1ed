"""Render benchmark: the same narrated lesson, and the same ranking short, through reelflow's compose engine
and through MoviePy 2.x; and the lesson's text through a running reelflow stack, end to end.

Run ``scripts/bench.sh`` (or ``uv run python -m bench.render --help``). Inputs are prepared once and
cached (untimed); then, per mode, each engine renders in a fresh process while its whole process tree is
measured (wall time and peak summed RSS). The ``e2e`` mode starts the embedded stack (untimed) and times the
lesson from REST to COMPLETED, step by step. Results go to ``bench/results/`` as JSON and a PNG chart. See
``bench/README.md`` for what each side does and how to read the numbers.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.lesson_inputs import prepare_lesson
from bench.lesson_manifest import BenchLesson
from bench.machine_facts import load_average, machine_facts
from bench.process_tree import run_measured
from bench.ranking_inputs import BenchShort, prepare_short
from bench.render_results import (
    LATEST_PNG,
    MOVIEPY,
    REELFLOW,
    BenchReport,
    LessonFacts,
    RunResult,
    ShortFacts,
    results_table,
    write_report_json,
)
from bench.results_chart import draw_chart

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
MOVIEPY_PROJECT = BENCH_DIR / "moviepy_side"
MOVIEPY_SCRIPT = MOVIEPY_PROJECT / "render_moviepy.py"
LESSON_MODES = ("basic", "animated")
RANKING = "ranking"
END_TO_END = "e2e"
MODES = (*LESSON_MODES, RANKING, END_TO_END)
SIDE_BY_SIDE = (*LESSON_MODES, RANKING)
SETUP_TIMEOUT_SEC = 600.0
PROBE_TIMEOUT_SEC = 30.0
LOG_TAIL_LINES = 30
SETTLED_LOAD = 1.0
SETTLE_POLL_SEC = 2.0
PRINT_EXECUTABLE = "import sys; print(sys.executable)"

COMPARISON_NOTES = (
    "reelflow basic: each distinct picture (slide + caption, burned by libass) encoded once by x264 as an IDR "
    "frame and held with skip frames written directly; the narration levelled (ebur128, one gain, a limiter "
    "when needed) and encoded to mono AAC beside it; one copying mux; scenes change with hard cuts.",
    "reelflow animated: Ken Burns parts and 0.5 s crossfades encoded in parallel (x264 veryfast CRF 20), the "
    "soundtrack encoded beside them, a copying concat mux.",
    "reelflow ranking: the picture in one x264 pass (each clip decoded, cropped, scaled and badged once, "
    "xfade where clips overlap) and the soundtrack beside it, a copying mux.",
    "MoviePy lessons: ImageClip + TextClip captions + AudioFileClip per scene, 0.5 s CrossFadeIn between "
    "scenes in both modes, concatenate_videoclips(method='compose'); animated adds resized(lambda t: ...).",
    "MoviePy ranking: VideoFileClip cropped and resized, the badge PNG as an ImageClip with CrossFadeIn, "
    "SlideIn transitions, AudioNormalize on kept sound, the music under it with CompositeAudioClip.",
    "Both encode the picture with libx264 preset veryfast, CRF 20, with the same system FFmpeg. MoviePy writes "
    "AAC 160k stereo; reelflow writes mono AAC 128k (FFmpeg's fast coder) for narration alone and stereo AAC "
    "160k for anything with music or clip sound.",
    "Wall time is process start to exit (interpreter start and imports included; both sides' bytecode is "
    "compiled in the untimed warm-up, as the Docker image compiles it at build time); peak RSS is the "
    "largest sum of VmRSS over the process and all its descendants, sampled every 50 ms.",
    "e2e: the lesson's text through a running embedded stack (start-up not timed), REST to COMPLETED.",
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
    settle_sec: float = 0.0


def parse_options(argv: Sequence[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated: {','.join(MODES)} (default all of them)"
    )
    parser.add_argument("--scenes", type=int, default=12, help="scenes in the lesson (default 12)")
    parser.add_argument("--scene-seconds", type=float, default=15.0, help="narration per scene, about (default 15)")
    parser.add_argument("--skip-moviepy", action="store_true", help="reelflow only: quick, but no ratio")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder (JSON + PNG)")
    parser.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache", help="prepared inputs and run folders")
    parser.add_argument("--run-timeout-min", type=float, default=120.0, help="kill a single run after this long")
    parser.add_argument(
        "--settle-sec",
        type=float,
        default=0.0,
        help=f"before each timed run, wait up to this long for the 1-minute load to fall under {SETTLED_LOAD:g}",
    )
    args = parser.parse_args(argv)
    modes = tuple(mode.strip() for mode in args.modes.split(",") if mode.strip())
    unknown = [mode for mode in modes if mode not in MODES]
    if not modes or unknown:
        parser.error(f"--modes takes some of {', '.join(MODES)}, got {args.modes!r}")
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
        settle_sec=args.settle_sec,
    )


def run_bench(options: BenchOptions, command: Sequence[str]) -> BenchReport:
    """Prepare, render every (mode, engine) pair, run the end-to-end mode, and write the results."""
    print(f"preparing {options.scenes} scenes of ~{options.scene_seconds:g} s (cached under {options.cache_dir}) ...")
    lesson, manifest = prepare_lesson(options.cache_dir, options.scenes, options.scene_seconds)
    print(f"lesson: {len(lesson.scenes)} scenes, {lesson.total_sec:.1f} s, {lesson.size} at {lesson.fps} fps")
    manifests = {mode: manifest for mode in LESSON_MODES}
    short: BenchShort | None = None
    if RANKING in options.modes:
        short, manifests[RANKING] = prepare_short(options.cache_dir)
        print(f"ranking short: {len(short.clips)} clips, {short.size} at {short.fps} fps")
    moviepy_python = None if options.skip_moviepy else moviepy_interpreter()
    _warm_up(moviepy_python)

    # reelflow's runs go first: they are short, so a broken engine stops the bench before MoviePy's long runs.
    side_by_side = [mode for mode in options.modes if mode in SIDE_BY_SIDE]
    runs = [_measure(REELFLOW, mode, reelflow_command(manifests[mode], mode), options) for mode in side_by_side]
    broken = [run for run in runs if not run.succeeded]
    if broken:
        raise BenchError(f"reelflow failed in {broken[0].mode} mode ({broken[0].error})")
    end_to_end = _end_to_end(manifest, options) if END_TO_END in options.modes else None
    if moviepy_python is not None:
        runs += [
            _measure(MOVIEPY, mode, moviepy_command(moviepy_python, manifests[mode], mode), options)
            for mode in side_by_side
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
        short=_short_facts(short) if short is not None else None,
        end_to_end=end_to_end,
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
    if end_to_end is not None:
        print(f"\nend to end (lesson text → COMPLETED through a running stack): {end_to_end['total_sec']:.1f} s")
        print(end_to_end["table"])
    print(f"\nresults: {stamped}\n         {latest}\n         {chart}")
    return report


def _end_to_end(manifest: Path, options: BenchOptions) -> dict[str, Any]:
    """Run ``bench.end_to_end`` in its own process (it starts and stops the embedded stack) and read its result."""
    run_dir = options.cache_dir / "runs" / END_TO_END
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    result_path = run_dir / "result.json"
    print(f"[{END_TO_END}] starting the embedded stack, then timing REST → COMPLETED ... (log: {run_dir / 'run.log'})")
    command = [sys.executable, "-m", "bench.end_to_end", "--manifest", str(manifest), "--result", str(result_path)]
    command += ["--data-dir", str(run_dir / "stack")]
    load_before = load_average()
    with (run_dir / "run.log").open("w", encoding="utf-8") as log:
        completed = subprocess.run(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=_run_env(),
            timeout=options.run_timeout_sec,
        )
    if completed.returncode != 0 or not result_path.is_file():
        raise BenchError(f"the end-to-end run failed (exit {completed.returncode}):\n{_log_tail(run_dir / 'run.log')}")
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    print(f"[{END_TO_END}] reelflow: {result['total_sec']:.1f} s, job {result['status']}", flush=True)
    return {**result, "load_average_before": load_before}


def _short_facts(short: BenchShort) -> ShortFacts:
    return ShortFacts(
        clips=len(short.clips),
        total_sec=round(short.total_sec, 3),
        size=short.size,
        fps=short.fps,
        transition_sec=short.transition_sec,
        clip_sizes=tuple(clip.size for clip in short.clips),
    )


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
    """Import each side once, untimed, so neither run pays for a cold page cache of its packages, nor for
    compiling them: the bytecode written now is what the timed runs load."""
    imports = [[sys.executable, "-c", "import bench.reelflow_side, bench.end_to_end"]]
    if moviepy_python is not None:
        imports.append([str(moviepy_python), "-c", "import moviepy"])
    for args in imports:
        subprocess.run(args, check=True, timeout=SETUP_TIMEOUT_SEC, capture_output=True, env=_run_env())


def settle(limit_sec: float) -> float:
    """Wait until the 1-minute load average is under :data:`SETTLED_LOAD`, at most ``limit_sec``; returns the wait.

    A run started while the previous one's encoders still weighed on this shared machine came out up to a fifth
    slower (the short right after the animated lesson: 13.0 s, against 10.8 and 10.9 s started on a quiet
    machine); both engines get the same wait before every run.
    """
    started = time.monotonic()
    while load_average()[0] >= SETTLED_LOAD and time.monotonic() - started < limit_sec:
        time.sleep(SETTLE_POLL_SEC)
    return time.monotonic() - started


def _measure(engine: str, mode: str, base_command: list[str], options: BenchOptions) -> RunResult:
    run_dir = options.cache_dir / "runs" / f"{mode}-{engine}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    facts_path = run_dir / "facts.json"
    if engine == REELFLOW:
        command = [*base_command, "--workdir", str(run_dir / "work"), "--result", str(facts_path)]
    else:
        command = [*base_command, "--out", str(run_dir / "video.mp4"), "--result", str(facts_path)]
    waited = settle(options.settle_sec) if options.settle_sec > 0 else 0.0
    load_before = load_average()
    settled = f", after {waited:.0f} s for the load to settle" if waited >= 1 else ""
    print(f"[{mode}] {engine}: rendering{settled} ... (log: {run_dir / 'run.log'})", flush=True)
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
        job_sec=facts.get("job_sec"),
    )
    print(
        f"[{mode}] {engine}: {result.wall_sec:.1f} s (the job {result.job_sec or 0:.1f} s), "
        f"peak RSS {result.peak_rss_mib:.1f} MiB, "
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
    """Both sides use the system FFmpeg (MoviePy would otherwise take imageio-ffmpeg's bundled build), and
    may write bytecode: a deployed reelflow runs compiled bytecode (the Docker image compiles it when it is
    built), so neither side should compile its sources in every timed run."""
    env = _without_virtual_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
