"""A workspace's pronunciation lexicon: saved once, laid under each lesson render (and narrated ranking short) it
starts, never another's."""

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import RunningServices
from tests.gateway_auth import ADMIN_HEADERS
from tests.gateway_jobs import approved_script, start_lesson_job
from tests.gateway_members import member_client

pytestmark = pytest.mark.connected


@pytest.fixture
async def admin(services: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        yield client


async def test_the_workspace_lexicon_is_under_every_render_and_a_requests_own_entry_wins(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str
) -> None:
    member = await member_client(admin, services, unique_id)
    async with member:
        assert (await member.get("/api/lexicon")).json() == {"entries": {}}
        saved = await member.put("/api/lexicon", json={"entries": {"SQL": "sequel", "119": "일일구"}})
        assert saved.status_code == 200 and saved.json()["entries"] == {"SQL": "sequel", "119": "일일구"}
        assert (await member.get("/api/lexicon")).json()["entries"] == {"SQL": "sequel", "119": "일일구"}

        # A render takes the workspace's entries; the request's own reading of a word wins.
        video_id = f"lexicon-{unique_id}"
        script_id = await approved_script(member, video_id)
        body = {"script_id": script_id, "voice": {"lexicon": {"sql": "S Q L", "MFA": "multi factor"}}}
        started = await member.post(f"/api/videos/{video_id}/render-jobs", json=body)
        assert started.status_code == 201, started.text
        lexicon = started.json()["job"]["spec"]["voice"]["lexicon"]
        assert lexicon == {"119": "일일구", "sql": "S Q L", "MFA": "multi factor"}

        # Another workspace has its own (empty) lexicon and its renders get none of the member's.
        assert (await admin.get("/api/lexicon")).json() == {"entries": {}}
        job_id = await start_lesson_job(admin, f"lexicon-admin-{unique_id}")
        job = (await admin.get(f"/api/render-jobs/{job_id}")).json()
        assert job["spec"]["voice"]["lexicon"] == {}


async def test_a_lexicon_entry_that_cannot_be_said_is_refused_naming_it(admin: httpx.AsyncClient) -> None:
    refused = await admin.put("/api/lexicon", json={"entries": {"SQL": "   "}})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "VALIDATION_FAILED"
    assert "entries" in str(refused.json()["error"]["details"])
    too_many = {f"word{n}": "x" for n in range(501)}
    assert (await admin.put("/api/lexicon", json={"entries": too_many})).status_code == 422


def _tiny_clip(path: Path, tag: str) -> Path:
    """1.5 s of red at 64x64, unique per test (its comment), so its upload is new."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "color=c=red:s=64x64:r=10:d=1.5",
         "-metadata", f"comment={tag}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


async def test_a_narrated_ranking_short_reads_its_labels_with_the_workspace_lexicon(
    admin: httpx.AsyncClient, services: RunningServices, unique_id: str, tmp_path: Path
) -> None:
    clip = _tiny_clip(tmp_path / "clip.mp4", unique_id)
    member = await member_client(admin, services, unique_id)
    async with member:
        assert (await member.put("/api/lexicon", json={"entries": {"SQL": "sequel"}})).status_code == 200
        uploaded = await member.post("/api/uploads", files={"file": ("clip.mp4", clip.read_bytes())})
        assert uploaded.status_code == 201, uploaded.text
        clips = [{"media_key": uploaded.json()["media_key"], "rank": 1, "label": "SQL"}]
        voice = {"lexicon": {"MFA": "multi factor"}}
        body = {"video_id": f"said-{unique_id}", "clips": clips, "voice": voice, "language": "en"}
        started = await member.post("/api/ranking-jobs", json=body)
        assert started.status_code == 201, started.text
        spec = started.json()["job"]["spec"]
        assert spec["voice"]["lexicon"] == {"SQL": "sequel", "MFA": "multi factor"}
        assert spec["language"] == "en"
        await member.post(f"/api/render-jobs/{started.json()['job']['job_id']}/cancel")

        silent = await member.post("/api/ranking-jobs", json={"video_id": f"silent-{unique_id}", "clips": clips})
        assert silent.status_code == 201, silent.text
        assert silent.json()["job"]["spec"]["voice"] is None
        await member.post(f"/api/render-jobs/{silent.json()['job']['job_id']}/cancel")
