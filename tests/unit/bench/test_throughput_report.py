"""The throughput bench's arithmetic and report: options, the side-by-side ratio, the table and the JSON files.

The runs themselves need the whole stack and minutes of rendering; ``python -m bench.throughput`` is run by hand
(docs/operations.md §6 has the figures)."""

import json
from pathlib import Path

import pytest

from bench.throughput import (
    LATEST_JSON,
    RESULTS_SCHEMA,
    ThroughputRun,
    parse_options,
    results_table,
    throughput_ratios,
    write_report,
)


def run(replicas: int, jobs_per_minute: float) -> ThroughputRun:
    return ThroughputRun(
        compose_replicas=replicas,
        jobs=6,
        wall_sec=round(6 / jobs_per_minute * 60, 2),
        jobs_per_minute=jobs_per_minute,
        job_latency_mean_sec=40.0,
        job_latency_max_sec=70.0,
        video_sec_per_job=63.3,
        load_average_before=(1.0, 1.0, 1.0),
        load_average_after=(2.0, 1.5, 1.0),
    )


def test_the_defaults_compare_one_and_two_compose_replicas_on_six_lessons() -> None:
    options = parse_options([])
    assert options.compose_replicas == (1, 2)
    assert options.jobs == 6
    assert (options.size, options.fps) == ("1280x720", 30)


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--replicas", "0,2"], ["--replicas", ","]])
def test_nonsense_counts_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_options(argv)


def test_each_configuration_is_compared_with_the_first() -> None:
    assert throughput_ratios([run(1, 2.0), run(2, 2.1), run(4, 3.0)]) == {"2/1": 1.05, "4/1": 1.5}
    assert throughput_ratios([run(1, 2.0)]) == {}


def test_the_table_has_one_row_per_configuration_with_jobs_per_hour() -> None:
    lines = results_table([run(1, 2.0), run(2, 2.5)]).splitlines()
    assert len(lines) == 4
    assert lines[2].split("|")[0].strip() == "1" and "120.0" in lines[2]
    assert lines[3].split("|")[0].strip() == "2" and "150.0" in lines[3]


def test_the_report_is_written_stamped_and_as_latest(tmp_path: Path) -> None:
    options = parse_options(["--out", str(tmp_path)])
    stamped = write_report(options, [run(1, 2.0), run(2, 2.2)], ["python", "-m", "bench.throughput"])
    latest = json.loads((tmp_path / LATEST_JSON).read_text(encoding="utf-8"))
    assert json.loads(stamped.read_text(encoding="utf-8")) == latest
    assert latest["schema"] == RESULTS_SCHEMA
    assert latest["ratios_jobs_per_minute"] == {"2/1": 1.1}
    assert [entry["compose_replicas"] for entry in latest["runs"]] == [1, 2]
    assert latest["machine"]["cpu_count"] >= 1
