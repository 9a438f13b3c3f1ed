"""The render benchmark in its quick mode (reelflow only, two tiny scenes), and the process-tree memory sampler.

Nothing here asserts on speed: the numbers depend on the machine. It checks that a run really rendered the
lesson, measured it and wrote a readable JSON document and chart.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from bench.process_tree import TreeWatch, run_measured
from bench.render import main
from bench.render_results import MOVIEPY, REELFLOW, RunResult, ratios, results_table
from bench.results_chart import CANVAS

MIB = 1024 * 1024
RUN_TIMEOUT_SEC = 60.0


@pytest.fixture(scope="module", autouse=True)
def media_tools() -> None:
    missing = [tool for tool in ("ffmpeg", "ffprobe", "espeak-ng") if shutil.which(tool) is None]
    assert not missing, f"the bench needs {missing} (apt-get install ffmpeg espeak-ng)"


def test_quick_run_writes_json_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    args = ["--skip-moviepy", "--scenes", "2", "--scene-seconds", "2", "--modes", "basic"]
    assert main([*args, "--out", str(out), "--cache", str(tmp_path / "cache")]) == 0

    latest = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    stamped = list(out.glob("render-*.json"))
    assert len(stamped) == 1
    assert json.loads(stamped[0].read_text(encoding="utf-8")) == latest

    assert latest["schema"] == "reelflow-render-bench/1"
    assert latest["moviepy"] == {"skipped": True, "reason": "--skip-moviepy"}
    assert latest["ratios_moviepy_over_reelflow"] == []
    assert latest["machine"]["cpu_count"] >= 1
    assert latest["machine"]["ffmpeg_version"].startswith("ffmpeg version")
    inputs = latest["inputs"]
    assert inputs["scenes"] == 2
    assert inputs["size"] == "1280x720"
    assert inputs["total_sec"] > 0

    [run] = latest["runs"]
    assert (run["mode"], run["engine"]) == ("basic", REELFLOW)
    assert run["wall_sec"] > 0
    assert run["peak_rss_bytes"] > 10 * MIB  # a Python process alone is bigger than that
    assert run["peak_process_count"] >= 1
    assert run["rss_samples"] >= 1
    # The video really holds the whole lesson, not a stub.
    assert run["output_duration_sec"] == pytest.approx(inputs["total_sec"], abs=0.2)
    assert run["output_bytes"] > 0

    with Image.open(out / "latest.png") as chart:
        assert chart.format == "PNG"
        assert chart.size == CANVAS
        chart.verify()

    printed = capsys.readouterr().out
    assert "MoviePy skipped: no ratio" in printed
    assert "reelflow" in printed


def test_peak_rss_sums_the_whole_process_tree(tmp_path: Path) -> None:
    """A parent and a child each holding ~120 MiB at once: the tree peak must count both.

    The child says when its memory is held, and only then does the parent take its own, so the two overlap for
    a whole second however slowly a loaded machine starts the child.
    """
    ready = tmp_path / "child-holds"
    (tmp_path / "child.py").write_text(
        "import pathlib, time\n"
        "data = b'x' * (120 * 1024 * 1024)\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(3)\n"
    )
    (tmp_path / "parent.py").write_text(
        "import pathlib, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, {str(tmp_path / 'child.py')!r}])\n"
        f"while not pathlib.Path({str(ready)!r}).exists():\n"
        "    time.sleep(0.02)\n"
        "data = b'x' * (120 * 1024 * 1024)\n"
        "time.sleep(1.0)\n"
        "child.wait()\n"
    )
    parent = str(tmp_path / "parent.py")
    usage = run_measured(
        [sys.executable, parent], cwd=tmp_path, log_path=tmp_path / "run.log", timeout_sec=RUN_TIMEOUT_SEC
    )
    assert usage.exit_code == 0
    assert usage.peak_process_count >= 2
    assert usage.largest_process_rss_bytes >= 120 * MIB
    # The tree's peak was sampled while both processes lived, and it holds both buffers. The kernel's
    # high-water mark is no upper bound to compare with: wait4's ru_maxrss folds in the waited-for
    # grandchild and transient allocations (CI once saw 339 MiB for this parent).
    assert usage.peak_process_count >= 2
    assert usage.peak_rss_bytes >= 240 * MIB


def test_the_tree_watch_finds_children_born_later_and_forgets_ended_ones(tmp_path: Path) -> None:
    go = tmp_path / "go"
    # The parent starts one child at once and a grandchild-bearing shell only when told to.
    parent = (
        "import pathlib, subprocess, time; first = subprocess.Popen(['sleep', '30'])\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.02)\n"
        "first.kill(); first.wait(); later = subprocess.Popen(['sh', '-c', 'sleep 30 & wait'])\n"
        "time.sleep(30)"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    try:
        watch = TreeWatch(process.pid)
        deadline = time.monotonic() + RUN_TIMEOUT_SEC
        while len(before := watch.tree()) < 2:
            assert time.monotonic() < deadline, "the first child was never seen"
            time.sleep(0.02)
        go.touch()
        while len(after := watch.tree()) < 3 or before - {process.pid} <= after:
            assert time.monotonic() < deadline, f"the later shell and its sleep were not seen: {after}"
            time.sleep(0.02)
        assert process.pid in after and not (before - {process.pid}) & after  # the killed child is forgotten
        assert after == TreeWatch(process.pid).tree()  # a new watch reads every process afresh
    finally:
        process.kill()
        process.wait()


def test_a_run_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    parent = (
        "import pathlib, subprocess, time; child = subprocess.Popen(['sleep', '30']); "
        f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid)); time.sleep(30)"
    )
    usage = run_measured([sys.executable, "-c", parent], cwd=tmp_path, log_path=tmp_path / "run.log", timeout_sec=1.0)
    assert usage.timed_out
    assert usage.exit_code != 0
    assert usage.wall_sec < 20
    child = Path("/proc") / pid_file.read_text()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the grandchild outlived the killed run"


def _alive(proc_dir: Path) -> bool:
    """A process that exists and is not a zombie waiting to be reaped."""
    try:
        stat = (proc_dir / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def test_ratio_is_moviepy_over_reelflow_per_mode() -> None:
    def run(mode: str, engine: str, wall: float, rss_mib: int) -> RunResult:
        return RunResult(
            mode=mode,
            engine=engine,
            wall_sec=wall,
            peak_rss_bytes=rss_mib * MIB,
            peak_process_count=1,
            largest_process_rss_bytes=rss_mib * MIB,
            rss_samples=1,
            output_duration_sec=180.0,
            output_bytes=1,
            load_average_before=(0.0, 0.0, 0.0),
        )

    runs = [run("basic", REELFLOW, 10.0, 200), run("animated", REELFLOW, 20.0, 300), run("basic", MOVIEPY, 150.0, 100)]
    [basic] = ratios(runs)  # animated has no MoviePy run, so no ratio
    assert basic.mode == "basic"
    assert basic.wall_time == pytest.approx(15.0)
    assert basic.peak_rss == pytest.approx(0.5)
    table = results_table(runs, [basic])
    assert "15.0x" in table
    assert "0.5x" in table
