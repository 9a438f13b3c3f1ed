"""Liveness and readiness verdicts, the pull watcher's backoff, and the router's refusal of undeclared delivery."""

import asyncio
import os
import signal
import time
from typing import Any

import nats.errors
import pytest
from faststream.nats import NatsBroker, NatsRouter

from reelflow.runtime.bus import Delivery, StepRouter
from reelflow.runtime.liveness import ERROR_BACKOFF_CAP_SEC, STALL_AFTER_SEC, ConsumeLoop, WorkerHealth, watch_fetches
from reelflow.runtime.service import ResilientNatsBroker, ServiceSetupError, build_runtime
from reelflow.runtime.settings import ServiceSettings


class FakeConnection:
    def __init__(self, *, connected: bool = True, closed: bool = False) -> None:
        self.is_connected = connected
        self.is_closed = closed


def health_with(connection: FakeConnection, **loops: ConsumeLoop) -> WorkerHealth:
    health = WorkerHealth()
    health.connection = connection  # type: ignore[assignment]
    health.loops.update(loops)
    health.started = True
    return health


def test_a_reconnecting_worker_is_alive_but_not_ready() -> None:
    health = health_with(FakeConnection(connected=False), tts=ConsumeLoop("tts"))
    assert health.liveness().ok
    ready = health.readiness()
    assert not ready.ok and ready.checks["nats"] == "reconnecting"


def test_a_closed_connection_is_not_alive() -> None:
    verdict = health_with(FakeConnection(connected=False, closed=True)).liveness()
    assert not verdict.ok and verdict.checks["nats"] == "closed"


def test_a_loop_silent_past_the_stall_limit_is_dead_unless_it_is_busy() -> None:
    stalled = ConsumeLoop("compose", last_cycle_at=time.monotonic() - STALL_AFTER_SEC - 1, last_error="APIError: gone")
    health = health_with(FakeConnection(), compose=stalled)
    verdict = health.liveness()
    assert not verdict.ok
    assert "APIError: gone" in verdict.checks["consumer compose"]
    stalled.in_flight = 1  # a long render holds the loop: that is work, not a stall
    assert health.liveness().ok


def test_not_ready_before_start_up_finished() -> None:
    health = health_with(FakeConnection())
    health.started = False
    assert health.liveness().ok
    assert health.readiness().checks["startup"] == "not finished"


def test_handling_a_message_counts_as_a_completed_cycle() -> None:
    health = health_with(FakeConnection())
    loop = health.loop("storage")
    loop.last_cycle_at = 0.0
    with health.handling("storage"):
        assert loop.in_flight == 1
    assert loop.in_flight == 0 and time.monotonic() - loop.last_cycle_at < 1


class FlakySubscription:
    def __init__(self, outcomes: list[BaseException | str]) -> None:
        self.outcomes = outcomes

    async def fetch(self, *args: Any, **kwargs: Any) -> str:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


async def test_a_failing_pull_backs_off_instead_of_spinning(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record_sleep)
    outcomes: list[BaseException | str] = [RuntimeError("consumer deleted")] * 6
    subscription = FlakySubscription([*outcomes, TimeoutError(), "message"])
    loop = ConsumeLoop("tts")
    watch_fetches(subscription, loop)
    for _ in range(6):
        with pytest.raises(RuntimeError):
            await subscription.fetch(batch=1)
    assert slept == [0.5, 1.0, 2.0, 4.0, ERROR_BACKOFF_CAP_SEC, ERROR_BACKOFF_CAP_SEC]
    assert loop.consecutive_errors == 6
    with pytest.raises(TimeoutError):
        await subscription.fetch(batch=1)  # an idle pull is a healthy cycle
    assert loop.consecutive_errors == 0 and loop.last_error == ""
    assert await subscription.fetch(batch=1) == "message"
    assert len(slept) == 6


def test_a_subscriber_registered_without_a_delivery_policy_stops_start_up() -> None:
    router = StepRouter()

    @router.step("rf.render.requested", Delivery(durable="tts"))
    async def declared(body: dict[str, Any]) -> None: ...

    @NatsRouter.subscriber(router, "rf.render.narrated")
    async def sneaked_in(body: dict[str, Any]) -> None: ...

    with pytest.raises(ServiceSetupError, match=r"rf\.render\.narrated.*router\.step"):
        build_runtime("tts", ServiceSettings(), router)


def test_one_subject_gets_one_step_subscriber() -> None:
    router = StepRouter()
    router.step("rf.render.requested", Delivery(durable="tts"))
    with pytest.raises(ValueError, match="already has a step subscriber"):
        router.step("rf.render.requested", Delivery(durable="tts-2"))


async def test_a_broker_whose_subscriptions_cannot_be_made_stops_its_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FastStream reports the app started before the broker subscribes; a failure there must not leave a process
    that answers its probes but never consumes (seen when a JetStream cluster was electing its leader)."""
    broker = ResilientNatsBroker("nats://127.0.0.1:1")
    stops: list[str] = []
    broker.on_start_failure = lambda: stops.append("stop")

    async def unanswered(self: NatsBroker) -> None:
        raise nats.errors.TimeoutError

    monkeypatch.setattr(NatsBroker, "start", unanswered)
    with pytest.raises(nats.errors.TimeoutError):
        await broker.start()
    assert stops == ["stop"]


def test_stopping_this_process_is_a_sigterm_to_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    ResilientNatsBroker.on_start_failure()
    assert sent == [(os.getpid(), signal.SIGTERM)]
