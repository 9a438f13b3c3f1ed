"""The Grafana dashboard asks only for metrics and labels the services export: each query's metric names and label
names are looked up in the registry of a process with the runtime's metrics and the gateway's HTTP metrics."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.registry import Collector

import reelflow.runtime.metrics  # noqa: F401 - registers the step metrics
from reelflow.gateway.http_observability import instrument_http

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "reelflow.json"
METRIC_NAME = re.compile(r"\b((?:reelflow|process)_[a-z0-9_]+)\b")
SELECTOR = re.compile(r"\{([^}]*)\}")
SELECTOR_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\bby\s*\(([^)]*)\)")
# Labels Prometheus adds at scrape time, and the bucket bound every histogram has.
SCRAPE_LABELS = frozenset({"instance", "job", "le"})
SUFFIXES_BY_TYPE = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("", "_count", "_sum"),
}


def exported_metrics() -> dict[str, frozenset[str]]:
    """Every sample name this process would export, with its label names."""
    app = FastAPI()
    instrument_http(app)
    app.build_middleware_stack()  # the HTTP metrics are created with the middleware
    collectors: dict[str, Collector] = dict(REGISTRY._names_to_collectors)  # no public way to read label names
    exported: dict[str, frozenset[str]] = {}
    for family in REGISTRY.collect():
        labels = frozenset(getattr(collectors.get(family.name), "_labelnames", ()))
        for sample in family.samples:
            labels |= sample.labels.keys()
        for suffix in SUFFIXES_BY_TYPE.get(family.type, ("",)):
            exported[family.name + suffix] = labels
    return exported


def queries() -> list[tuple[str, str]]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    found = [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert found, "the dashboard has no queries"
    return found


def test_the_dashboard_is_grafana_json_with_a_prometheus_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    [variable] = dashboard["templating"]["list"]
    assert (variable["name"], variable["type"], variable["query"]) == ("datasource", "datasource", "prometheus")
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


@pytest.mark.parametrize(("title", "expr"), queries())
def test_every_query_names_metrics_and_labels_that_exist(title: str, expr: str) -> None:
    exported = exported_metrics()
    names = METRIC_NAME.findall(expr)
    assert names, f"{title}: no reelflow or process metric in {expr!r}"
    for name in names:
        assert name in exported, f"{title}: {name} is not exported; known: {sorted(exported)}"
    known_labels = frozenset().union(*(exported[name] for name in names)) | SCRAPE_LABELS
    used = {label for selector in SELECTOR.findall(expr) for label in SELECTOR_LABEL.findall(selector)}
    used |= {label.strip() for grouping in GROUPING.findall(expr) for label in grouping.split(",") if label.strip()}
    assert used <= known_labels, f"{title}: labels {sorted(used - known_labels)} are not on {names}"


def test_a_misspelt_metric_would_be_caught() -> None:
    assert "reelflow_step_duration_seconds_bucket" in exported_metrics()
    assert "reelflow_step_durations_seconds_bucket" not in exported_metrics()
