"""A contact sheet of what reelflow's videos look like: frames of each template at each frame shape, rendered
through a running stack's REST API exactly as a user's jobs are, tiled into one PNG (docs/contact-sheet.png).

Run `uv run reelflow up` in another terminal, then `uv run python scripts/contact_sheet.py` (a few minutes on
two cores). Renders:
- the Korean sample lesson at 16:9 (dark theme, one key phrase per slide, an uploaded picture beside one scene's
  text and an uploaded video filling another's frame), 9:16 (light theme, key points building up, a full-frame
  picture moving under one scene's text) and 1:1 (brand colours, an uploaded logo and font), each with its title
  card and an outro card;
- a ranking short (9:16) opening with its title card, of three generated clips framed `fit`, `letterbox` and
  `fill` and an uploaded picture, its labels narrated.
"""

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw, ImageFont

from reelflow.local.admin_credentials import api_key_for_running_stack
from reelflow.local.stack_defaults import DEFAULT_DATA_DIR, DEFAULT_GATEWAY_PORT

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "services/script/src/reelflow/script/samples/lesson_ko.md"
FONT = Path("/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf")
LABEL_FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf")
TILE_HEIGHT = 300
JOB_TIMEOUT_SEC = 600
TERMINAL = {"COMPLETED", "FAILED", "CANCELED"}
# Where frames are taken, as shares of each video (0: the title card, 1.5 s in).
LESSON_MOMENTS = [0.0, 0.2, 0.45, 0.7, 0.99]
SHORT_MOMENTS = [0.03, 0.2, 0.42, 0.62, 0.8, 0.96]
SHORT_CAPTION = "ranking short 9:16 · title card · fit, letterbox, a picture, fill · labels narrated"
CARD_SEC = 3.0  # a lesson's title and outro cards, for placing frames on a scene


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


def make_inputs(folder: Path) -> dict[str, Path]:
    """A picture for a scene, a logo, and three clips of different shapes, made with FFmpeg."""
    ffmpeg("-f", "lavfi", "-i", "gradients=size=960x640:seed=7", "-frames:v", "1", str(folder / "picture.png"))
    ffmpeg("-f", "lavfi", "-i", "cellauto=size=960x640:rule=18:seed=3", "-frames:v", "1", str(folder / "photo.png"))
    logo = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 0, 359, 119), radius=28, fill=(194, 65, 12, 255))
    draw.text((180, 60), "SAFE·CO", font=ImageFont.truetype(str(LABEL_FONT), 54), fill="white", anchor="mm")
    logo.save(folder / "logo.png")
    for name, size, pattern in [
        ("wide", "1280x720", "testsrc2"),
        ("tall", "720x1280", "smptehdbars"),
        ("square", "720x720", "mandelbrot"),
    ]:
        ffmpeg(
            "-f", "lavfi", "-i", f"{pattern}=size={size}:rate=30", "-f", "lavfi", "-i", "sine=f=330", "-t", "4",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            str(folder / f"{name}.mp4"),
        )  # fmt: skip
    files = {"picture": folder / "picture.png", "photo": folder / "photo.png", "logo": folder / "logo.png"}
    return files | {"font": FONT} | {name: folder / f"{name}.mp4" for name in ("wide", "tall", "square")}


async def upload(client: httpx.AsyncClient, path: Path) -> str:
    data = await asyncio.to_thread(path.read_bytes)
    answer = await client.post("/api/uploads", files={"file": (path.name, data)}, timeout=120)
    answer.raise_for_status()
    key: str = answer.json()["media_key"]
    return key


async def wait_for(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_SEC
    while time.monotonic() < deadline:
        job: dict[str, Any] = (await client.get(f"/api/render-jobs/{job_id}")).json()
        if job["status"] in TERMINAL:
            if job["status"] != "COMPLETED":
                raise RuntimeError(f"job {job_id} ended {job['status']}: {job.get('error')}")
            return job
        await asyncio.sleep(1)
    raise TimeoutError(f"job {job_id} did not finish within {JOB_TIMEOUT_SEC} s")


def scene_share(script: dict[str, Any], index: int, total_sec: float) -> float:
    """Roughly where the middle of scene ``index`` (in script order) falls in the video, by its narration's length
    among all of it, after the title card (narration is read at an even pace, so characters stand in for time)."""
    lengths = [len(scene["narration"]) for chapter in script["chapters"] for scene in chapter["scenes"]]
    spoken_sec = total_sec - 2 * CARD_SEC
    middle = CARD_SEC + spoken_sec * (sum(lengths[:index]) + lengths[index] / 2) / sum(lengths)
    return middle / total_sec


async def lesson_video(
    client: httpx.AsyncClient, name: str, options: dict[str, Any], visuals: dict[int, dict[str, str]], out: Path
) -> tuple[Path, list[float]]:
    """The lesson rendered with ``visuals`` (scene index in script order → its visual fields), and the shares of
    its length at which to take frames: the title card, each scene with a visual, and the rest spread out."""
    video_id = f"contact-{name}-{int(time.time())}"
    asked = await client.post(
        f"/api/videos/{video_id}/scripts/generate",
        json={"source_text": LESSON.read_text(encoding="utf-8"), "options": {"language": "ko", "target_minutes": 1}},
    )
    asked.raise_for_status()
    script_id = asked.json()["script_id"]
    script = await written_script(client, script_id)
    body = script["script"]
    scenes = [scene for chapter in body["chapters"] for scene in chapter["scenes"]]
    for index, fields in visuals.items():
        scenes[min(index, len(scenes) - 1)].update(fields)
    if visuals:
        edited = await client.put(f"/api/scripts/{script_id}", json={"script": body, "version": script["version"]})
        edited.raise_for_status()
    (await client.post(f"/api/scripts/{script_id}/approve")).raise_for_status()
    started = await client.post(
        f"/api/videos/{video_id}/render-jobs",
        json={"script_id": script_id, "title_card": True, "outro_text": "시청해 주셔서 감사합니다", **options},
    )
    started.raise_for_status()
    job = await wait_for(client, started.json()["job"]["job_id"])
    video = await download(client, job["job_id"], out / f"{name}.mp4")
    total = await asyncio.to_thread(duration_of, video)
    shown = [scene_share(body, min(index, len(scenes) - 1), total) for index in sorted(visuals)]
    spread = [share for share in LESSON_MOMENTS[1:-1] if all(abs(share - other) > 0.1 for other in shown)]
    return video, sorted([0.0, *shown, *spread[: max(0, 3 - len(shown))], LESSON_MOMENTS[-1]])


async def short_video(client: httpx.AsyncClient, keys: dict[str, str], out: Path) -> Path:
    clips = [
        {"media_key": keys["wide"], "rank": 5, "label": "가로 영상 (fit)", "framing": "fit"},
        {"media_key": keys["tall"], "rank": 3, "label": "세로 영상 (fill)", "framing": "fill", "end": 2},
        {"media_key": keys["square"], "rank": 4, "label": "정사각형 (letterbox)", "framing": "letterbox"},
        {"media_key": keys["photo"], "rank": 2, "label": "사진 한 장", "end": 3},
        {"media_key": keys["wide"], "rank": 1, "label": "다시 가로 (fill)", "framing": "fill", "end": 2},
    ]
    body = {
        "video_id": f"contact-short-{int(time.time())}",
        "title": "화면 맞춤 세 가지",
        "title_card": True,
        "clips": clips,
        "voice": {"provider": "espeak", "voice": "ko"},
        "language": "ko",
    }
    started = await client.post("/api/ranking-jobs", json=body)
    started.raise_for_status()
    job = await wait_for(client, started.json()["job"]["job_id"])
    return await download(client, job["job_id"], out / "short.mp4")


async def download(client: httpx.AsyncClient, job_id: str, path: Path) -> Path:
    answer = await client.get(f"/api/assets/{job_id}/video", timeout=120)
    answer.raise_for_status()
    await asyncio.to_thread(path.write_bytes, answer.content)
    return path


async def written_script(client: httpx.AsyncClient, script_id: str) -> dict[str, Any]:
    """The script once the offline writer has written it (202 until then)."""
    for _ in range(600):
        got = await client.get(f"/api/scripts/{script_id}")
        if got.status_code != httpx.codes.ACCEPTED:
            got.raise_for_status()
            script: dict[str, Any] = got.json()
            return script
        await asyncio.sleep(0.2)
    raise TimeoutError(f"script {script_id} was not written within two minutes")


def duration_of(video: Path) -> float:
    probe = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(video)]
    return float(subprocess.run(probe, check=True, capture_output=True, text=True, timeout=60).stdout)


def frames(video: Path, shares: list[float], folder: Path) -> list[Path]:
    """Frames at ``shares`` of the video's length (1.5 s in, for a share of 0: the title card)."""
    length = duration_of(video)
    found = []
    for index, share in enumerate(shares):
        at = 1.5 if share == 0 else min(length - 0.3, length * share)
        path = folder / f"{video.stem}-{index}.png"
        ffmpeg("-ss", f"{at:.2f}", "-i", str(video), "-frames:v", "1", str(path))
        found.append(path)
    return found


def sheet(rows: list[tuple[str, list[Path]]], out: Path) -> None:
    """One row per video: its caption, then its frames scaled to one height."""
    label_font = ImageFont.truetype(str(LABEL_FONT), 22)
    pictures = [[Image.open(path).convert("RGB") for path in paths] for _, paths in rows]
    scaled = [[p.resize((round(p.width * TILE_HEIGHT / p.height), TILE_HEIGHT)) for p in row] for row in pictures]
    width = max(sum(p.width for p in row) + 12 * (len(row) + 1) for row in scaled)
    height = sum(TILE_HEIGHT + 52 for _ in scaled) + 12
    page = Image.new("RGB", (width, height), (245, 246, 248))
    draw = ImageDraw.Draw(page)
    y = 12
    for (caption, _), row in zip(rows, scaled, strict=True):
        draw.text((12, y), caption, font=label_font, fill=(20, 24, 32))
        x = 12
        for picture in row:
            page.paste(picture, (x, y + 34))
            x += picture.width + 12
        y += TILE_HEIGHT + 52
    out.parent.mkdir(parents=True, exist_ok=True)
    page.save(out, optimize=True)


async def main(gateway: str, api_key: str, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="reelflow-contact-") as tmp:
        folder = Path(tmp)
        inputs = await asyncio.to_thread(make_inputs, folder)
        headers = {"Authorization": f"Bearer {api_key}"}
        async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=30) as client:
            keys = {name: await upload(client, path) for name, path in inputs.items()}
            brand = {"background": "#F4F1EA", "accent": "#C2410C", "logo": keys["logo"], "font": keys["font"]}
            square = {"size": "1080x1080", "theme": "brand", "brand": brand}
            beside = {"visual": keys["picture"]}
            video_behind = {"visual": keys["square"], "visual_placement": "full_frame"}
            picture_behind = {"visual": keys["photo"], "visual_placement": "full_frame"}
            tall = {"size": "1080x1920", "theme": "light", "layout": "bullets"}
            lessons: list[tuple[str, str, dict[str, Any], dict[int, dict[str, str]]]] = [
                (
                    "16:9 · dark · headline · an uploaded picture beside the text, an uploaded video behind it",
                    "wide",
                    {"size": "1280x720"},
                    {1: beside, 3: video_behind},
                ),
                ("9:16 · light · bullets · a full-frame picture, moving", "tall", tall, {2: picture_behind}),
                ("1:1 · brand colours, logo, font", "square", square, {}),
            ]
            rows = []
            for caption, name, options, visuals in lessons:
                video, moments = await lesson_video(client, name, options, visuals, folder)
                rows.append((caption, await asyncio.to_thread(frames, video, moments, folder)))
            short = await short_video(client, keys, folder)
            rows.append((SHORT_CAPTION, await asyncio.to_thread(frames, short, SHORT_MOMENTS, folder)))
        sheet(rows, out)
    sys.stderr.write(f"wrote {out}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{DEFAULT_GATEWAY_PORT}")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/contact-sheet.png")
    args = parser.parse_args()
    key = api_key_for_running_stack(args.api_key, Path(DEFAULT_DATA_DIR))
    if key is None:
        sys.exit("no API key: start `reelflow up` (it saves one in .reelflow/) or pass --api-key")
    asyncio.run(main(args.gateway, key, args.out))
