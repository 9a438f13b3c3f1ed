"""Step metrics are recorded once, in the delivery middleware: a real runtime on FastStream's in-memory broker
runs two steps, and each outcome (done, retried, given up, unreadable, redelivered) shows in the registry."""

from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from reelflow.contracts import RenderRequested
from reelflow.runtime.metrics import template_of
from tests.observability.probe_service import (
    COMPOSE,
    FINAL_PREFIX,
    NARRATE,
    RETRYABLE_PREFIX,
    ProbeService,
    build_probe_service,
    render_requested,
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ProbeService:
    return build_probe_service(tmp_path_factory.mktemp("probe-blobs"))


@pytest.fixture
def probe_bus(probe: ProbeService) -> Iterator[ProbeService]:
    probe.recorder.messages.clear()
    yield probe
    probe.recorder.messages.clear()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def finished(step: str, template: str, outcome: str) -> float:
    return sample("reelflow_step_duration_seconds_count", step=step, template=template, outcome=outcome)


async def test_a_step_that_succeeds_is_timed_as_acked_by_template_and_counted_in_flight_while_it_runs(
    probe_bus: ProbeService, unique_id: str
) -> None:
    narrate_before = finished(NARRATE.durable, "lesson", "acked")
    compose_before = finished(COMPOSE.durable, "lesson", "acked")
    failures_before = sample("reelflow_step_failures_total", step=NARRATE.durable, code="RENDER_FAILED")

    await probe_bus.publish_event(render_requested(unique_id))

    assert finished(NARRATE.durable, "lesson", "acked") == narrate_before + 1
    assert finished(COMPOSE.durable, "lesson", "acked") == compose_before + 1, "the second step is timed too"
    assert probe_bus.in_flight_seen[unique_id] == 1.0
    assert sample("reelflow_messages_in_flight", step=NARRATE.durable) == 0.0
    assert sample("reelflow_step_failures_total", step=NARRATE.durable, code="RENDER_FAILED") == failures_before


async def test_a_retryable_failure_counts_its_code_and_the_message_is_nacked(
    probe_bus: ProbeService, unique_id: str
) -> None:
    body = render_requested(f"{RETRYABLE_PREFIX}{unique_id}").model_dump(mode="json")
    failures_before = sample("reelflow_step_failures_total", step=NARRATE.durable, code="RENDER_FAILED")
    nacked_before = finished(NARRATE.durable, "lesson", "nacked")
    letters_before = sample("reelflow_dead_letters_total", step=NARRATE.durable, code="RENDER_FAILED")

    await probe_bus.publish(body, RenderRequested.subject, delivered=1)

    assert sample("reelflow_step_failures_total", step=NARRATE.durable, code="RENDER_FAILED") == failures_before + 1
    assert finished(NARRATE.durable, "lesson", "nacked") == nacked_before + 1
    assert sample("reelflow_dead_letters_total", step=NARRATE.durable, code="RENDER_FAILED") == letters_before


async def test_the_last_delivery_of_a_retryable_failure_is_a_redelivery_and_a_dead_letter(
    probe_bus: ProbeService, unique_id: str
) -> None:
    body = render_requested(f"{RETRYABLE_PREFIX}{unique_id}").model_dump(mode="json")
    redeliveries_before = sample("reelflow_redeliveries_total", step=NARRATE.durable)
    letters_before = sample("reelflow_dead_letters_total", step=NARRATE.durable, code="RENDER_FAILED")
    rejected_before = finished(NARRATE.durable, "lesson", "rejected")

    await probe_bus.publish(body, RenderRequested.subject, delivered=NARRATE.max_deliver)

    assert sample("reelflow_redeliveries_total", step=NARRATE.durable) == redeliveries_before + 1
    assert sample("reelflow_dead_letters_total", step=NARRATE.durable, code="RENDER_FAILED") == letters_before + 1
    assert finished(NARRATE.durable, "lesson", "rejected") == rejected_before + 1
    assert len(probe_bus.recorder.on("rf.dlq.probe")) == 1, "the counter matches what was published"


async def test_a_non_retryable_failure_is_dead_lettered_at_once(probe_bus: ProbeService, unique_id: str) -> None:
    body = render_requested(f"{FINAL_PREFIX}{unique_id}").model_dump(mode="json")
    letters_before = sample("reelflow_dead_letters_total", step=NARRATE.durable, code="RENDER_FAILED")
    redeliveries_before = sample("reelflow_redeliveries_total", step=NARRATE.durable)

    await probe_bus.publish(body, RenderRequested.subject, delivered=1)

    assert sample("reelflow_dead_letters_total", step=NARRATE.durable, code="RENDER_FAILED") == letters_before + 1
    assert sample("reelflow_redeliveries_total", step=NARRATE.durable) == redeliveries_before


async def test_an_unreadable_message_is_dead_lettered_as_the_users_script_with_no_template(
    probe_bus: ProbeService,
) -> None:
    letters_before = sample("reelflow_dead_letters_total", step=NARRATE.durable, code="INVALID_SCRIPT")
    rejected_before = finished(NARRATE.durable, "none", "rejected")

    await probe_bus.publish(b"{not json", RenderRequested.subject)

    assert sample("reelflow_dead_letters_total", step=NARRATE.durable, code="INVALID_SCRIPT") == letters_before + 1
    assert finished(NARRATE.durable, "none", "rejected") == rejected_before + 1


@pytest.mark.parametrize(
    ("body", "template"),
    [
        ({"spec": {"template": "lesson"}}, "lesson"),
        ({"spec": {"template": "ranking"}}, "ranking"),
        ({"spec": {"template": "a-new-one-per-request"}}, "none"),  # labels stay a small, known set
        ({"spec": "lesson"}, "none"),
        ({"script_id": "s1", "video_id": "v1"}, "script"),
        ({"script": {"script_id": "s1"}}, "script"),
        ({"job_id": "j1", "assets": []}, "none"),
    ],
)
def test_the_template_label_comes_from_the_spec_and_is_bounded(body: dict[str, object], template: str) -> None:
    assert template_of(body) == template
