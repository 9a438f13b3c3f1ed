"""Webhooks without servers: the retry schedule on an injected clock, when a subscription is disabled, the SSRF
rules (save time and send time, with the resolver injected), signatures the standardwebhooks library verifies, and
the event bodies."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook
from tests.gateway_auth import ADMIN_CALLER

from reelflow.contracts import (
    Asset,
    AssetKind,
    ErrorCode,
    ErrorInfo,
    JobStatus,
    Publication,
    RenderJob,
    Script,
    ScriptStatus,
    VideoScript,
    move_job,
)
from reelflow.gateway.api.errors import failure_of
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_checks import CallbackChecks
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.webhook_dispatcher import AttemptResult, attempt_changes, delivery_document, subscription_after
from reelflow.gateway.webhook_events import WebhookEvent, WebhookEventType, job_event, published_event, script_event
from reelflow.gateway.webhook_schedule import (
    STANDARD_RETRY_DELAYS_SEC,
    AttemptOutcome,
    DeliveryState,
    disabled_reason,
    next_attempt_at,
    outcome_of_status,
)
from reelflow.gateway.webhook_signing import is_webhook_secret, new_webhook_secret, signed_headers
from reelflow.gateway.webhook_store import SubscriptionRecord
from reelflow.gateway.webhook_subscriptions import NewSubscription, WebhookSubscriptions
from reelflow.gateway.webhook_targets import (
    Resolver,
    TargetRefusedError,
    TargetUnresolvedError,
    checked_target,
    target_problem,
)

ONE_CHAPTER = {"chapters": [{"chapter_id": "c1", "title": "Intro", "scenes": [{"scene_id": "s1", "narration": "Hi."}]}]}
T0 = 1_800_000_000.0
DAY = 24 * 3600.0
AT = datetime.fromtimestamp(T0, UTC)


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- the schedule ---------------------------------------------------------------------------------------------
def test_the_schedule_is_standard_webhooks() -> None:
    assert STANDARD_RETRY_DELAYS_SEC == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


def test_a_failing_delivery_follows_the_schedule_then_fails_for_good() -> None:
    clock = FakeClock()
    delivery = delivery_document(job_completed(), workspace_id="w", url="https://example.com/h", at=clock())
    assert delivery["next_attempt_at"] == T0 and delivery["state"] == "pending"
    due_times = []
    for _ in STANDARD_RETRY_DELAYS_SEC:
        assert delivery["state"] == "pending"
        clock.now = delivery["next_attempt_at"] + 0.5  # the sender runs a little after the due time
        delivery |= attempt_changes(
            delivery, AttemptResult(AttemptOutcome.RETRY, status_code=500), at=clock(), delays=STANDARD_RETRY_DELAYS_SEC
        )
        due_times.append(delivery["next_attempt_at"] and delivery["next_attempt_at"] - clock())
    assert due_times == [5, 300, 1800, 7200, 18000, 36000, 36000, None]
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 8
    assert [attempt["number"] for attempt in delivery["attempts"]] == list(range(1, 9))
    assert delivery["attempts"][0]["status_code"] == 500


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (AttemptOutcome.DELIVERED, DeliveryState.DELIVERED),
        (AttemptOutcome.GONE, DeliveryState.FAILED),
        (AttemptOutcome.REFUSED, DeliveryState.FAILED),
        (AttemptOutcome.RETRY, DeliveryState.PENDING),
    ],
)
def test_only_a_retry_keeps_a_delivery_pending(outcome: AttemptOutcome, state: DeliveryState) -> None:
    delivery = delivery_document(job_completed(), workspace_id="w", url="https://example.com/h", at=T0)
    changes = attempt_changes(delivery, AttemptResult(outcome), at=T0, delays=STANDARD_RETRY_DELAYS_SEC)
    assert changes["state"] == state.value
    assert (changes["next_attempt_at"] is not None) == (state is DeliveryState.PENDING)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, AttemptOutcome.DELIVERED),
        (204, AttemptOutcome.DELIVERED),
        (301, AttemptOutcome.RETRY),
        (404, AttemptOutcome.RETRY),
        (410, AttemptOutcome.GONE),
        (429, AttemptOutcome.RETRY),
        (500, AttemptOutcome.RETRY),
    ],
)
def test_statuses_map_to_outcomes(status: int, outcome: AttemptOutcome) -> None:
    assert outcome_of_status(status) is outcome


def test_next_attempt_after_the_last_is_none() -> None:
    assert next_attempt_at(1, T0, (0, 5)) == T0 + 5
    assert next_attempt_at(2, T0, (0, 5)) is None


def subscription(**changes: object) -> SubscriptionRecord:
    record = SubscriptionRecord(
        subscription_id="wh_" + "0" * 24,
        workspace_id="w",
        url="https://example.com/h",
        event_types=(WebhookEventType.JOB_COMPLETED,),
        secret=new_webhook_secret(),
        description="",
        created_at=T0,
    )
    return SubscriptionRecord(**{**record.__dict__, **changes})


def test_a_410_disables_the_subscription_at_once() -> None:
    after = subscription_after(subscription(), AttemptOutcome.GONE, at=T0, disable_after_sec=5 * DAY)
    assert after is not None and not after.enabled and after.disabled_reason == "the endpoint answered 410 Gone"


def test_a_subscription_failing_for_n_days_is_disabled_and_a_success_resets_the_count() -> None:
    clock = FakeClock()
    record = subscription()
    for _ in range(3):  # failures across two days: still enabled, failing since the first
        record = subscription_after(record, AttemptOutcome.RETRY, at=clock(), disable_after_sec=5 * DAY) or record
        clock.now += DAY
    assert record.enabled and record.failing_since == T0
    reset = subscription_after(record, AttemptOutcome.DELIVERED, at=clock(), disable_after_sec=5 * DAY)
    assert reset is not None and reset.failing_since is None and reset.enabled
    record = reset
    start = clock.now
    while record.enabled:  # a failure every 6 hours from now on
        record = subscription_after(record, AttemptOutcome.RETRY, at=clock(), disable_after_sec=5 * DAY) or record
        clock.now += 6 * 3600
    assert record.disabled_reason == "every delivery failed for 5 days"
    assert clock.now - 6 * 3600 - start == 5 * DAY  # disabled by the first failure 5 days after the first one
    assert disabled_reason(start, AttemptOutcome.RETRY, start + 5 * DAY - 1, disable_after_sec=5 * DAY) is None


# ---- SSRF -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[::1]/hook",
        "http://[fc00::1]/hook",
        "http://[fd12:3456::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::]/hook",
        "http://[ff02::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://0x7f.1/hook",
    ],
)
def test_private_targets_are_refused_when_saved(url: str) -> None:
    problem = target_problem(url, allow_private=False)
    assert problem is not None and "public addresses only" in problem
    assert target_problem(url, allow_private=True) is None


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://93.184.216.34:8080/x", "https://[2606:4700::1]/"])
def test_public_targets_may_be_saved(url: str) -> None:
    assert target_problem(url, allow_private=False) is None


def test_only_http_and_https_are_targets() -> None:
    assert target_problem("ftp://example.com/x", allow_private=True) is not None
    assert target_problem("file:///etc/passwd", allow_private=True) is not None


def resolving_to(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_a_name_resolving_to_a_private_address_is_refused_at_send_time() -> None:
    for address in ("10.0.0.5", "127.0.0.1", "169.254.169.254", "::1", "fd00::1"):
        with pytest.raises(TargetRefusedError, match=f"resolves to {address}") as refused:
            await checked_target("https://hooks.example.com/x", allow_private=False, resolver=resolving_to(address))
        assert not refused.value.retryable
    # one bad address among good ones is enough to refuse (the connection could go to any of them)
    with pytest.raises(TargetRefusedError):
        await checked_target(
            "https://hooks.example.com/x",
            allow_private=False,
            resolver=resolving_to("93.184.216.34", "10.0.0.5"),
        )


async def test_a_public_name_is_pinned_to_the_address_that_was_checked() -> None:
    target = await checked_target(
        "https://hooks.example.com:8443/x?y=1",
        allow_private=False,
        resolver=resolving_to("93.184.216.34"),
    )
    assert target.url == "https://93.184.216.34:8443/x?y=1"
    assert target.headers == {"Host": "hooks.example.com:8443"}
    assert target.extensions == {"sni_hostname": "hooks.example.com"}
    v6 = await checked_target(
        "http://hooks.example.com/x",
        allow_private=False,
        resolver=resolving_to("2606:4700::1"),
    )
    assert v6.url == "http://[2606:4700::1]/x" and v6.extensions == {}


async def test_a_name_that_does_not_resolve_is_retried() -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetUnresolvedError) as unresolved:
        await checked_target("https://nowhere.example/x", allow_private=False, resolver=failing)
    assert unresolved.value.retryable


async def test_allowing_private_targets_skips_the_checks() -> None:
    async def never(host: str, port: int) -> list[str]:
        raise AssertionError("not resolved when private targets are allowed")

    target = await checked_target("http://127.0.0.1:9/x", allow_private=True, resolver=never)
    assert target.url == "http://127.0.0.1:9/x"


def test_a_callback_url_is_checked_at_submit() -> None:
    checks = CallbackChecks(signed=True, allow_private_targets=False)
    assert checks.problems(None) == []
    assert checks.problems("https://example.com/hook") == []
    [problem] = checks.problems("http://10.0.0.1/hook", within="render_defaults")
    assert problem["field"] == "render_defaults.callback_url" and "private" in problem["problem"]
    [unsigned] = CallbackChecks(signed=False).problems("https://example.com/hook")
    assert unsigned["field"] == "callback_url" and "REELFLOW_WEBHOOK_SECRET" in unsigned["problem"]


# ---- signing and bodies ---------------------------------------------------------------------------------------
def test_signed_headers_verify_with_the_standardwebhooks_library() -> None:
    secret = new_webhook_secret()
    assert is_webhook_secret(secret)
    body = json.dumps({"type": "job.completed", "data": {"job_id": "j"}})
    now = datetime.now(UTC).timestamp()
    headers = signed_headers(secret, "msg_1", body, at=now)
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(Exception, match="signature"):
        Webhook(new_webhook_secret()).verify(body, headers)


@pytest.mark.parametrize("secret", ["", "whsec_", "secret", "whsec_" + "a" * 8, "whsec_not base64!"])
def test_only_standard_secrets_are_settings(secret: str) -> None:
    assert not is_webhook_secret(secret)


def test_the_settings_refuse_a_malformed_webhook_secret() -> None:
    with pytest.raises(ValueError, match="REELFLOW_WEBHOOK_SECRET"):
        GatewaySettings(webhook_secret=SecretStr("not-a-secret"))
    secret = new_webhook_secret()
    assert GatewaySettings(webhook_secret=SecretStr(secret)).webhook_secret.get_secret_value() == secret


def finished_job(status: JobStatus) -> RenderJob:
    job = RenderJob(job_id="job-1", video_id="video-1", script_id="s-1", spec=None, created_at=AT, updated_at=AT)
    job = move_job(job, JobStatus.PROCESSING, at=AT)
    asset = Asset(
        kind=AssetKind.VIDEO,
        bucket="media",
        key="k/video.mp4",
        size_bytes=10,
        content_type="video/mp4",
        sha256="0" * 64,
    )
    job = job.model_copy(update={"assets": [asset], "duration_sec": 12.5})
    error = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg died", step="COMPOSE_VIDEO")
    return move_job(job, status, at=AT, error=error if status == JobStatus.FAILED else None)


def job_completed() -> WebhookEvent:
    event = job_event(finished_job(JobStatus.COMPLETED), AT)
    assert event is not None
    return event


def test_job_events_carry_the_job_and_its_download_paths() -> None:
    event = job_event(finished_job(JobStatus.COMPLETED), AT)
    assert event is not None and event.event_type is WebhookEventType.JOB_COMPLETED
    body = json.loads(event.body)
    assert body["type"] == "job.completed" and datetime.fromisoformat(body["timestamp"]) == AT
    data = body["data"]
    assert (data["job_id"], data["video_id"], data["status"], data["duration_sec"]) == (
        "job-1",
        "video-1",
        "COMPLETED",
        12.5,
    )
    assert data["assets"][0]["download_path"] == "/api/assets/job-1/video"
    failed = job_event(finished_job(JobStatus.FAILED), AT)
    assert failed is not None and failed.event_type is WebhookEventType.JOB_FAILED
    assert json.loads(failed.body)["data"]["error"] == {
        "code": "RENDER_FAILED",
        "message": "ffmpeg died",
        "step": "COMPOSE_VIDEO",
    }
    assert failed.message_id != event.message_id and failed.message_id.startswith("msg_")


def test_script_and_publication_events() -> None:
    script = Script(
        script_id="s-1",
        video_id="v-1",
        version=2,
        status=ScriptStatus.DRAFT,
        title="Lifting",
        script=VideoScript.model_validate(ONE_CHAPTER),
        created_at=AT,
    )
    data = json.loads(script_event(script, AT).body)["data"]
    assert (data["script_id"], data["video_id"], data["version"], data["title"]) == ("s-1", "v-1", 2, "Lifting")
    publication = Publication(platform="youtube", external_id="abc", url="https://youtu.be/abc")
    published = json.loads(published_event(finished_job(JobStatus.COMPLETED), publication, AT).body)
    assert published["type"] == "video.published"
    assert (published["data"]["platform"], published["data"]["url"]) == ("youtube", "https://youtu.be/abc")


class NoStore:
    """A store no refused subscription may reach."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the store was used ({name}) for a refused subscription")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://169.254.169.254/x", "http://[fd00::1]/x"])
async def test_a_subscription_to_a_private_target_is_refused_with_422_naming_url(url: str) -> None:
    subscriptions = WebhookSubscriptions(NoStore(), allow_private_targets=False)  # type: ignore[arg-type]
    body = NewSubscription(url=url, event_types=[WebhookEventType.JOB_COMPLETED])
    with pytest.raises(InvalidRequestError) as refused:
        await subscriptions.create(ADMIN_CALLER, body)
    failure = failure_of(refused.value, trace_id="t")
    assert failure.status == 422 and failure.details["problems"][0]["field"] == "url"
    assert "public addresses only" in failure.details["problems"][0]["problem"]
