"""Schedules against the real MongoDB-wire server with a controllable clock (no sleeping until a due time): two
schedulers firing each item once, the lease a dead replica leaves behind, a restart that missed many occurrences,
a crash between marking and asking, a schedule waiting for review; then through the real gateway and services:
another workspace's schedule is a 404, 422s name the field, a due item with lesson text goes all the way to a
COMPLETED job, a topic with no LLM configured fails with LLM_FAILED, and (on a stack of its own, with a local fake
YouTube) a scheduled video is uploaded with its release a day after its due time."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pymongo import AsyncMongoClient
from tests.conftest import RunningServices
from tests.fake_youtube import FakeYouTube
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import TINY_LESSON, TINY_RENDER
from tests.gateway_members import member_client
from tests.own_stack import OwnStack, own_stack

from reelflow.contracts import LessonSpec, Script, ScriptOptions
from reelflow.gateway.accounts import Caller, CallerKind, Scope
from reelflow.gateway.event_projector import auto_render_job_id
from reelflow.gateway.outbox import OutboxRelay
from reelflow.gateway.ownership import Access, VideoRegistry
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_checks import RenderChecks
from reelflow.gateway.render_job_commands import RenderJobCommands
from reelflow.gateway.schedule_bodies import ItemStatus, NewItem, NewSchedule, ScheduleChange
from reelflow.gateway.schedule_commands import ScheduleCommands
from reelflow.gateway.schedule_store import ScheduleStore
from reelflow.gateway.scheduler import GatewayWork, Scheduler, SchedulerPass, SchedulerPolicy
from reelflow.gateway.schedules import script_id_of, video_id_of
from reelflow.gateway.script_commands import GenerateScript, ScriptCommands
from reelflow.gateway.store import LedgerStore
from reelflow.local.servers import StackEndpoints
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.failures import BusUnavailableError, TtsError
from reelflow.runtime.voice_catalogue import VoiceCatalogue

pytestmark = pytest.mark.connected
WORKSPACE = "channel-ops"
CALLER = Caller(CallerKind.API_KEY, "k1", WORKSPACE, frozenset(Scope))
START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC).timestamp()
POLICY = SchedulerPolicy(poll_sec=5, lease_sec=30)
ORDER = [status.value for status in ItemStatus if status is not ItemStatus.FAILED]


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class NoBus:
    """NATS is not part of these tests: what the scheduler asks for stays owed in MongoDB (the outbox)."""

    async def publish(self, *args: object, **kwargs: object) -> None:
        raise BusUnavailableError("no bus in this test")


async def voices_not_checked() -> VoiceCatalogue:
    raise TtsError("espeak-ng is not asked in this test")


class CountingWork(GatewayWork):
    """The gateway's own work, counting each script request it is asked for (including repeats it refuses)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.asked: list[str] = []

    async def request_script(
        self, workspace_id: str, video_id: str, title: str, script_id: str, request: GenerateScript
    ) -> None:
        self.asked.append(script_id)
        await super().request_script(workspace_id, video_id, title, script_id, request)


@dataclass
class Gateway:
    """What one gateway replica holds, all on the test's own database."""

    schedules: ScheduleStore
    ledger: LedgerStore
    commands: ScheduleCommands
    scripts: ScriptCommands
    work: CountingWork

    def scheduler(self, clock: FakeClock, holder: str) -> Scheduler:
        return Scheduler(self.schedules, self.ledger, self.work, POLICY, clock=clock, holder=holder)


@pytest.fixture
async def gateway(stack: StackEndpoints, unique_id: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    database = f"schedules-{unique_id}"
    schedules, ledger, registry = (
        ScheduleStore(client, database),
        LedgerStore(client, database),
        VideoRegistry(client, database),
    )
    for store in (schedules, ledger, registry):
        await store.ensure_indexes()
    relay = OutboxRelay(ledger, NoBus())  # type: ignore[arg-type]
    checks = RenderChecks(DirectoryBlobStore(tmp_path), "media", voice_catalogue=voices_not_checked)
    scripts = ScriptCommands(ledger, relay, checks)
    jobs = RenderJobCommands(ledger, relay, checks, scripts)
    commands = ScheduleCommands(schedules, ledger, checks, clock=FakeClock())
    try:
        yield Gateway(schedules, ledger, commands, scripts, CountingWork(Access(registry, ledger), scripts, jobs))
    finally:
        await client.close()


def local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None).isoformat(timespec="minutes")


def item(title: str, due: float, **changes: object) -> dict[str, object]:
    return {"title": title, "source_text": TINY_LESSON, "due_at": local(due), **changes}


async def make(gateway: Gateway, **body: object) -> str:
    view = await gateway.commands.create(CALLER, NewSchedule.model_validate({"name": "lessons", **body}))
    return view.schedule_id


async def test_two_schedulers_on_one_clock_fire_each_due_item_once(gateway: Gateway) -> None:
    schedule_id = await make(
        gateway,
        items=[item("one", START + 60), item("two", START + 120), item("three", START + 7200)],
        auto_approve=True,
    )
    clock = FakeClock()
    first, second = gateway.scheduler(clock, "replica-a"), gateway.scheduler(clock, "replica-b")
    passes = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(report.held_lease for report in passes) == [False, True], "one replica holds the lease"
    assert all(not report.fired for report in passes), "nothing is due yet"

    clock.now = START + 130
    passes = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(len(report.fired) for report in passes) == 2
    requested = [script_id for report in passes for script_id in report.requested]
    first_two = (await gateway.commands.get(CALLER, schedule_id)).items[:2]
    assert sorted(requested) == sorted(script_id_of(schedule_id, entry.item_id) for entry in first_two)

    # The lease ran out mid-pass (a stalled replica): both fire and follow at once, and the item still fires once.
    clock.now = START + 7300
    racing = [SchedulerPass(held_lease=True), SchedulerPass(held_lease=True)]
    await asyncio.gather(first.fire_due(racing[0]), second.fire_due(racing[1]))
    await asyncio.gather(first.follow_open(racing[0]), second.follow_open(racing[1]))
    assert sum(len(report.fired) for report in racing) == 1
    assert sum(len(report.requested) for report in racing) == 1, "a repeated request records nothing"

    view = await gateway.commands.get(CALLER, schedule_id)
    assert [entry.fired_at for entry in view.items] == [
        datetime.fromtimestamp(at, UTC) for at in (START + 130, START + 130, START + 7300)
    ]
    assert {entry.status for entry in view.items} == {ItemStatus.SCRIPT_PROCESSING}
    for entry in view.items:
        request = await gateway.ledger.script_request(script_id_of(schedule_id, entry.item_id))
        assert request is not None and request.video_id == video_id_of(schedule_id, entry.item_id)
    assert len(set(gateway.work.asked)) == 3


async def test_a_dead_replicas_lease_runs_out_and_another_takes_over(gateway: Gateway) -> None:
    clock = FakeClock()
    first, second = gateway.scheduler(clock, "replica-a"), gateway.scheduler(clock, "replica-b")
    assert (await first.run_once()).held_lease
    clock.now = START + 29
    assert not (await second.run_once()).held_lease, "the lease still runs"
    assert (await first.run_once()).held_lease, "its holder renews it"
    clock.now = START + 29 + 31  # replica-a died after renewing at +29
    assert (await second.run_once()).held_lease
    assert not (await first.run_once()).held_lease, "a holder that comes back waits its turn"
    lease = await gateway.schedules.lease()
    assert lease is not None and lease.holder == "replica-b" and lease.until == clock.now + 30


async def test_a_restart_after_many_missed_occurrences_fires_once(gateway: Gateway) -> None:
    queue = [{"title": f"episode {n}", "source_text": TINY_LESSON} for n in range(3)]
    schedule_id = await make(gateway, cron="*/10 * * * *", timezone="Asia/Seoul", queue=queue)
    clock = FakeClock()
    assert not (await gateway.scheduler(clock, "before-restart").run_once()).fired

    clock.now = START + 3 * 3600 + 5  # 18 occurrences passed while no gateway ran
    restarted = gateway.scheduler(clock, "after-restart")
    report = await restarted.run_once()
    assert report.held_lease, "the dead replica's lease ran out long ago"
    assert report.fired == [f"{schedule_id}/r{int(START + 600)}"]
    assert (await restarted.run_once()).fired == []
    view = await gateway.commands.get(CALLER, schedule_id)
    assert [entry.title for entry in view.items] == ["episode 0"]
    assert [title.title for title in view.queue] == ["episode 1", "episode 2"]
    assert view.next_due_at == datetime.fromtimestamp(START + 3 * 3600 + 600, UTC)
    assert view.items[0].due_local == "2026-12-01T09:10"

    clock.now = START + 3 * 3600 + 600
    assert [entry.split("/")[1] for entry in (await restarted.run_once()).fired] == [f"r{int(clock.now)}"]


async def test_an_item_marked_fired_before_a_crash_is_asked_for_by_the_next_pass_once(gateway: Gateway) -> None:
    schedule_id = await make(gateway, items=[item("one", START)])
    clock = FakeClock(START + 1)
    crashed = gateway.scheduler(clock, "crashed")
    marked = SchedulerPass(held_lease=True)
    await crashed.fire_due(marked)  # ... and died before asking for the script
    assert len(marked.fired) == 1 and gateway.work.asked == []

    clock.now = START + 60
    report = await gateway.scheduler(clock, "next").run_once()
    assert report.fired == [] and len(report.requested) == 1
    assert (await gateway.scheduler(clock, "next").run_once()).requested == []
    [entry] = (await gateway.commands.get(CALLER, schedule_id)).items
    assert entry.status == ItemStatus.SCRIPT_PROCESSING and entry.script_id == report.requested[0]


async def test_without_auto_approve_an_item_waits_for_review_and_renders_once_approved(gateway: Gateway) -> None:
    schedule_id = await make(gateway, items=[item("one", START)], render=TINY_RENDER, options={"language": "en"})
    clock = FakeClock(START + 1)
    scheduler = gateway.scheduler(clock, "only")
    await scheduler.run_once()
    [entry] = (await gateway.commands.get(CALLER, schedule_id)).items
    assert entry.script_id is not None and entry.video_id is not None
    script_id = entry.script_id
    written = Script.model_validate(
        {
            "script_id": entry.script_id,
            "video_id": entry.video_id,
            "title": "one",
            "options": ScriptOptions(language="en"),
            "script": {
                "chapters": [{"chapter_id": "c", "title": "t", "scenes": [{"scene_id": "s", "narration": "Lift."}]}]
            },
            "created_at": datetime.now(UTC),
        }
    )
    await gateway.ledger.save_script(written)  # as the ledger does on rf.script.generated
    clock.now += 5
    assert (await scheduler.run_once()).renders_started == []
    [entry] = (await gateway.commands.get(CALLER, schedule_id)).items
    assert entry.status == ItemStatus.WAITING_REVIEW

    await gateway.scripts.approve_script(script_id)
    clock.now += 5
    assert (await scheduler.run_once()).renders_started == [auto_render_job_id(script_id)]
    assert (await scheduler.run_once()).renders_started == [], "the item is closed once its job exists"
    [entry] = (await gateway.commands.get(CALLER, schedule_id)).items
    assert (entry.status, entry.job_id) == (ItemStatus.IMAGE_PROCESSING, auto_render_job_id(script_id))
    job = await gateway.ledger.get_job(auto_render_job_id(script_id))
    assert job is not None and isinstance(job.spec, LessonSpec)
    assert (job.spec.size, job.spec.fps, job.spec.publish) == ("320x180", 15, None)


async def test_a_paused_schedule_fires_nothing_and_once_enabled_its_missed_item_fires_once(gateway: Gateway) -> None:
    schedule_id = await make(gateway, items=[item("one", START + 60)])
    await gateway.commands.change(CALLER, schedule_id, ScheduleChange(enabled=False))
    clock = FakeClock(START + 3600)
    scheduler = gateway.scheduler(clock, "only")
    assert (await scheduler.run_once()).fired == []

    view = await gateway.commands.change(
        CALLER, schedule_id, ScheduleChange(enabled=True, add_items=[NewItem.model_validate(item("two", START + 7200))])
    )
    assert [entry.status for entry in view.items] == [ItemStatus.SCHEDULED, ItemStatus.SCHEDULED]
    first, second = (entry.item_id for entry in view.items)
    assert [entry.split("/")[1] for entry in (await scheduler.run_once()).fired] == [first]
    assert (await scheduler.run_once()).fired == []
    with pytest.raises(InvalidRequestError) as refused:
        await gateway.commands.change(CALLER, schedule_id, ScheduleChange(remove_items=[first]))
    assert refused.value.details["problems"][0]["field"] == "remove_items"
    view = await gateway.commands.change(CALLER, schedule_id, ScheduleChange(remove_items=[second]))
    assert [entry.item_id for entry in view.items] == [first] and view.next_due_at is None
    clock.now = START + 8000
    assert (await scheduler.run_once()).fired == [], "a removed item never fires"


# ---- through the real gateway and services ---------------------------------------------------------------------------
@pytest.fixture
async def admin(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


def due_now() -> str:
    return (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None).isoformat(timespec="minutes")


async def wait_for_item(
    client: httpx.AsyncClient, schedule_id: str, until: set[str], timeout_sec: float = 180
) -> tuple[dict[str, Any], list[str]]:
    """Poll the schedule until its first item's status is in ``until``; returns it and the statuses seen."""
    deadline = time.monotonic() + timeout_sec
    seen: list[str] = []
    entry: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await client.get(f"/api/schedules/{schedule_id}")
        assert response.status_code == 200, response.text
        entry = response.json()["items"][0]
        if not seen or seen[-1] != entry["status"]:
            seen.append(entry["status"])
        if entry["status"] in until:
            return entry, seen
        await asyncio.sleep(0.25)
    raise AssertionError(f"the item did not reach {sorted(until)} within {timeout_sec:g}s; seen {seen}: {entry}")


async def test_another_workspaces_schedule_is_a_404_and_422s_name_the_field(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).replace(tzinfo=None).isoformat(timespec="minutes")
    body = {"name": "later", "items": [{"title": "Lifting", "source_text": TINY_LESSON, "due_at": later}]}
    created = await admin.post("/api/schedules", json=body)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    assert created.json()["items"][0]["status"] == "scheduled"

    async with await member_client(admin, services, unique_id) as member:
        assert (await member.get(f"/api/schedules/{schedule_id}")).status_code == 404
        assert (await member.patch(f"/api/schedules/{schedule_id}", json={"enabled": False})).status_code == 404
        assert (await member.delete(f"/api/schedules/{schedule_id}")).status_code == 404
        listed = await member.get("/api/schedules")
        assert listed.status_code == 200 and schedule_id not in {view["schedule_id"] for view in listed.json()}
        publishing = await member.post("/api/schedules", json={**body, "publish": {"privacy": "public"}})
        assert publishing.status_code == 403, "publishing needs the publish scope"
    assert (await admin.get(f"/api/schedules/{schedule_id}")).json()["enabled"] is True

    bad_zone = await admin.post(
        "/api/schedules",
        json={**body, "items": [{**body["items"][0], "timezone": "Asia/Sooul"}]},  # type: ignore[dict-item]
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["error"]["details"]["problems"][0]["field"] == "items.0.timezone"
    bad_cron = await admin.post("/api/schedules", json={"name": "c", "cron": "0 9 * *", "queue": []})
    assert bad_cron.status_code == 422
    assert bad_cron.json()["error"]["details"]["problems"][0]["field"] == "cron"
    no_youtube = await admin.post("/api/schedules", json={**body, "publish": {"privacy": "public"}})
    assert no_youtube.status_code == 422, "this install has no YouTube client id"
    assert no_youtube.json()["error"]["details"]["problems"][0]["field"] == "publish"

    assert (await admin.delete(f"/api/schedules/{schedule_id}")).status_code == 204
    assert (await admin.get(f"/api/schedules/{schedule_id}")).status_code == 404


@pytest.mark.e2e
async def test_a_due_item_with_lesson_text_and_auto_approve_ends_completed_with_its_job(
    admin: httpx.AsyncClient,
) -> None:
    body = {
        "name": "now",
        "auto_approve": True,
        "options": {"language": "en"},
        "render": TINY_RENDER,
        "items": [{"title": "Safe lifting", "source_text": TINY_LESSON, "due_at": due_now(), "timezone": "UTC"}],
    }
    created = await admin.post("/api/schedules", json=body)
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    entry, seen = await wait_for_item(admin, schedule_id, {"completed", "failed"})
    assert entry["status"] == "completed", entry
    assert [ORDER.index(status) for status in seen] == sorted(ORDER.index(status) for status in seen), seen
    assert "waiting_review" not in seen and "youtube_processing" not in seen
    job = (await admin.get(f"/api/render-jobs/{entry['job_id']}")).json()
    assert job["status"] == "COMPLETED" and job["video_id"] == entry["video_id"]
    assert job["spec"]["size"] == "320x180" and job["spec"]["publish"] is None
    library = await admin.get(f"/api/videos/{entry['video_id']}/scripts")
    assert library.status_code == 200 and library.json()[0]["status"] == "APPROVED"


async def test_a_topic_with_no_llm_configured_fails_with_llm_failed(admin: httpx.AsyncClient) -> None:
    body = {
        "name": "topics",
        "auto_approve": True,
        "items": [{"title": "Phishing", "topic": "spotting phishing e-mails", "due_at": due_now()}],
    }
    created = await admin.post("/api/schedules", json=body)
    assert created.status_code == 201, created.text
    entry, _ = await wait_for_item(admin, created.json()["schedule_id"], {"failed", "completed"}, timeout_sec=60)
    assert entry["status"] == "failed" and entry["error"]["code"] == "LLM_FAILED", entry
    assert "REELFLOW_LLM_MODEL" in entry["error"]["message"]


@pytest.fixture
def youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube() as running:
        # Two refused session starts keep the upload going for a few seconds, so its status is seen.
        running.fail("initiate", 503, times=2)
        yield running


@pytest.fixture
def publishing_stack(youtube: FakeYouTube, tmp_path: Path) -> Iterator[OwnStack]:
    """Servers and workers of this test alone, with the uploader (and the gateway) pointed at the fake YouTube."""
    with own_stack(tmp_path, env=youtube.settings_env() | {"REELFLOW_SCHEDULE_POLL_SEC": "0.5"}) as stack:
        yield stack


@pytest.mark.e2e
async def test_a_scheduled_video_is_uploaded_to_youtube_with_its_release_after_the_due_time(
    youtube: FakeYouTube, publishing_stack: OwnStack
) -> None:
    due = datetime.now(UTC) - timedelta(minutes=1)
    body = {
        "name": "channel",
        "auto_approve": True,
        "options": {"language": "en"},
        "render": TINY_RENDER,
        "publish": {"privacy": "public", "release_after_minutes": 24 * 60, "tags": ["safety"]},
        "items": [
            {
                "title": "Safe lifting",
                "source_text": TINY_LESSON,
                "due_at": due.astimezone(ZoneInfo("Asia/Seoul")).replace(tzinfo=None).isoformat(),
                "timezone": "Asia/Seoul",
            }
        ],
    }
    async with httpx.AsyncClient(base_url=publishing_stack.gateway_url, headers=ADMIN_HEADERS, timeout=30) as admin:
        created = await admin.post("/api/schedules", json=body)
        assert created.status_code == 201, created.text
        entry, seen = await wait_for_item(admin, created.json()["schedule_id"], {"completed", "failed"})
    assert entry["status"] == "completed", entry
    assert "youtube_processing" in seen, seen
    assert [ORDER.index(status) for status in seen] == sorted(ORDER.index(status) for status in seen), seen
    [(video_id, video)] = youtube.videos.items()
    assert entry["published_url"] and video_id in entry["published_url"]
    assert video["snippet"]["title"] == "Safe lifting" and video["snippet"]["tags"] == ["safety"]
    release = datetime.fromisoformat(video["status"]["publishAt"].replace("Z", "+00:00"))
    assert abs((release - (due + timedelta(days=1))).total_seconds()) < 60, "released a day after the due time"
    assert video["status"]["privacyStatus"] == "private", "a scheduled release stays private until then"
