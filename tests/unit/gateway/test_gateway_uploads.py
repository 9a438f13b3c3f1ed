"""Uploads and ranking requests: content keys, the format allowlist, the streamed size limit, media checks."""

import asyncio
import hashlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from tests.gateway_auth import as_admin_without_accounts

from reelflow.contracts import BrandColours, Chapter, RankingClip, RankingSpec, Scene, VideoScript
from reelflow.contracts.errors import ApiErrorCode
from reelflow.contracts.validation import problems_of
from reelflow.gateway.api.errors import install_error_handlers, status_of
from reelflow.gateway.api.routes import uploads as upload_routes
from reelflow.gateway.job_media import (
    NOT_AN_UPLOAD_KEY,
    NOT_UPLOADED,
    NamedUpload,
    lesson_uploads,
    media_keys,
    media_problems,
    require_lesson_uploads,
    unusable_media_error,
)
from reelflow.gateway.multipart_stream import MULTIPART_ENVELOPE_BYTES, receive_file, size_text, too_large
from reelflow.gateway.refusals import GatewayError, InvalidRequestError
from reelflow.gateway.render_specs import RankingOptions, ranking_spec_for
from reelflow.gateway.upload_intake import UploadIntake
from reelflow.gateway.uploads import (
    ACCEPTED_EXTENSIONS,
    Container,
    MediaKind,
    check_media,
    checked_font,
    container_of,
    frame_rate,
    stated_extension,
    upload_key,
)
from reelflow.runtime.blobs import BlobInfo, DirectoryBlobStore
from reelflow.runtime.failures import MediaInvalidError
from reelflow.runtime.media_probe import MediaInfo, StreamInfo

SHA = "ab" * 32
MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
BOUNDARY = "reelflow-test-boundary"
NANUM_GOTHIC = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
MEDIA_BUCKET = "reelflow-media"


# ---- keys and the extension allowlist ----------------------------------------------------------------------------
def test_an_upload_key_is_its_sha256_and_an_allowlisted_extension() -> None:
    assert upload_key(SHA, "mp4") == f"uploads/{SHA}.mp4"
    assert set(ACCEPTED_EXTENSIONS) == {
        *("mp4", "mov", "webm", "mkv", "m4a", "mp3", "wav", "ogg"),
        *("png", "jpg", "webp", "ttf", "otf"),
    }


@pytest.mark.parametrize(
    ("sha256", "extension"),
    [(SHA.upper(), "mp4"), (SHA[:-1], "mp4"), ("../" + SHA[3:], "mp4"), (SHA, "exe"), (SHA, "MP4"), (SHA, "mp4/..")],
)
def test_no_other_digest_or_extension_makes_a_key(sha256: str, extension: str) -> None:
    with pytest.raises(ValueError, match=r"sha256|extension"):
        upload_key(sha256, extension)


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("Clip.MP4", "mp4"),
        ("holiday.final.mov", "mov"),
        ("C:\\Users\\me\\song.Mp3", "mp3"),
        ("../../etc/passwd.webm", "webm"),
        ("clip", None),
        ("clip.exe", None),
        ("clip.mp4.exe", None),
        (".mp4", None),
        ("", None),
    ],
)
def test_only_an_allowlisted_extension_is_taken_from_the_file_name(filename: str, extension: str | None) -> None:
    assert stated_extension(filename) == extension


def test_containers_are_read_from_ffprobes_demuxer_list() -> None:
    assert container_of(MOV_FAMILY) == Container.MOV
    assert container_of("matroska,webm") == Container.MATROSKA
    assert container_of("wav") == Container.WAV
    assert container_of("gif") is None
    assert container_of("") is None


@pytest.mark.parametrize(("rate", "fps"), [("25/1", 25.0), ("30000/1001", 29.97), ("0/0", None), ("", None)])
def test_frame_rates_are_parsed_and_cover_pictures_have_none(rate: str, fps: float | None) -> None:
    assert frame_rate(StreamInfo("video", "h264", 320, 240, avg_frame_rate=rate)) == fps


# ---- what a probed file is --------------------------------------------------------------------------------------
def video(width: int = 320, height: int = 240, rate: str = "25/1", codec: str = "h264") -> StreamInfo:
    return StreamInfo("video", codec, width, height, pix_fmt="yuv420p", avg_frame_rate=rate)


AUDIO = StreamInfo("audio", "aac", sample_rate=44100)


def test_a_clip_with_sound_is_a_video_with_its_size_rate_and_audio() -> None:
    checked = check_media(MediaInfo(1.5, MOV_FAMILY, (video(), AUDIO)), filename="clip.MP4")
    assert checked.kind == MediaKind.VIDEO
    assert (checked.extension, checked.content_type) == ("mp4", "video/mp4")
    assert (checked.width, checked.height, checked.fps, checked.has_audio) == (320, 240, 25.0, True)
    assert checked.duration_sec == 1.5


def test_the_file_name_picks_between_names_of_the_same_container_only() -> None:
    silent_clip = MediaInfo(2.0, MOV_FAMILY, (video(),))
    assert check_media(silent_clip, filename="clip.mov").extension == "mov"
    assert check_media(silent_clip, filename="clip.mov").content_type == "video/quicktime"
    assert check_media(silent_clip, filename="clip.webm").extension == "mp4", "webm is not this container"
    assert check_media(silent_clip, filename="clip.m4a").extension == "mp4", "m4a is audio-only"
    assert check_media(silent_clip, filename="clip").extension == "mp4"
    assert not check_media(silent_clip, filename="clip.mov").has_audio
    matroska = MediaInfo(2.0, "matroska,webm", (video(codec="vp9"),))
    assert check_media(matroska, filename="a.webm").extension == "webm"
    assert check_media(matroska, filename="a.bin").extension == "mkv"


def test_music_is_audio_even_with_a_cover_picture() -> None:
    cover = StreamInfo("video", "mjpeg", 500, 500, avg_frame_rate="0/0")
    song = check_media(MediaInfo(180.2, "mp3", (AUDIO, cover)), filename="song.mp3")
    assert (song.kind, song.extension, song.content_type) == (MediaKind.AUDIO, "mp3", "audio/mpeg")
    assert (song.width, song.height, song.fps, song.has_audio) == (None, None, None, True)
    track = MediaInfo(30.0, MOV_FAMILY, (AUDIO,))
    assert (check_media(track, filename="track").extension, check_media(track, filename="track").content_type) == (
        "m4a",
        "audio/mp4",
    )
    assert check_media(track, filename="track.mp4").extension == "mp4", "an audio-only .mp4 keeps its name"


@pytest.mark.parametrize(
    ("info", "problem"),
    [
        (MediaInfo(2.0, "gif", (video(),)), "its format is gif; upload one of mp4, mov"),
        (MediaInfo(2.0, "mov,mp4,m4a,3gp,3g2,mj2", ()), "neither a video stream"),
        (MediaInfo(0.0, "mov,mp4,m4a,3gp,3g2,mj2", (video(),)), "lasts 0 s"),
        (MediaInfo(float("nan"), "matroska,webm", (AUDIO,)), "lasts 0 s"),
        (MediaInfo(2.0, "mp3", (StreamInfo("video", "png", 64, 64, avg_frame_rate="0/0"),)), "neither a video"),
    ],
)
def test_a_file_that_is_neither_clip_nor_music_is_refused_naming_it(info: MediaInfo, problem: str) -> None:
    with pytest.raises(MediaInvalidError) as refused:
        check_media(info, filename="holiday.mp4")
    assert "'holiday.mp4' cannot be used as a clip, music, picture or font" in refused.value.message
    assert problem in refused.value.message
    assert refused.value.details["filename"] == "holiday.mp4"
    assert refused.value.details["field"] == "file"


# ---- the size limit -------------------------------------------------------------------------------------------
def test_the_size_limit_error_names_the_limit_and_the_setting() -> None:
    error = too_large(500 * 1024 * 1024, field="file", filename="big.mov")
    assert status_of(error) == 413 and error.public_code == ApiErrorCode.PAYLOAD_TOO_LARGE
    assert "'big.mov' is larger than the upload limit of 500 MiB (524288000 bytes)" in error.message
    assert "REELFLOW_UPLOAD_MAX_BYTES" in error.message
    assert error.details == {"field": "file", "max_bytes": 524288000, "setting": "REELFLOW_UPLOAD_MAX_BYTES"}
    assert [size_text(n) for n in (999, 1536, 3 * 1024**3)] == ["999 bytes", "1.5 KiB", "3 GiB"]


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body of (field, filename or None, data) parts."""
    body = b""
    for field, filename, data in parts:
        disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def headers_for(body: bytes) -> dict[str, str]:
    return {"content-type": f"multipart/form-data; boundary={BOUNDARY}", "content-length": str(len(body))}


async def chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_file_is_received_in_chunks_hashed_and_other_fields_are_dropped(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40  # 10 KiB, so the boundary search spans chunks
    body = multipart(("title", None, b"my ranking"), ("file", "clip.mp4", data), ("note", None, b"x" * 3000))
    received = await receive_file(headers_for(body), chunks(body, 777), tmp_path / "in", field="file", max_bytes=10240)
    assert received.path.read_bytes() == data
    assert (received.filename, received.size_bytes) == ("clip.mp4", len(data))
    assert received.sha256 == hashlib.sha256(data).hexdigest()


async def test_a_file_past_the_limit_is_refused_while_it_streams(tmp_path: Path) -> None:
    body = multipart(("file", "big.mp4", b"x" * 5000))
    sent: list[int] = []

    async def counted() -> AsyncIterator[bytes]:
        async for chunk in chunks(body, 1000):
            sent.append(len(chunk))
            yield chunk

    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}  # chunked: no Content-Length
    with pytest.raises(GatewayError) as refused:
        await receive_file(headers, counted(), tmp_path / "in", field="file", max_bytes=2000)
    assert status_of(refused.value) == 413
    assert "'big.mp4' is larger than the upload limit of 1.953 KiB (2000 bytes)" in refused.value.message
    assert sum(sent) < len(body), "the rest of the body was never read"


async def test_a_declared_oversize_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    read: list[bytes] = []

    async def unread() -> AsyncIterator[bytes]:
        read.append(b"x" * 100)
        yield read[-1]

    headers = headers_for(b"") | {"content-length": str(1000 + MULTIPART_ENVELOPE_BYTES + 1)}
    with pytest.raises(GatewayError) as refused:
        await receive_file(headers, unread(), tmp_path / "in", field="file", max_bytes=1000)
    assert status_of(refused.value) == 413
    assert "the file in field 'file' is larger than the upload limit of 1000 bytes" in refused.value.message
    assert read == [], "the body was not read"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (multipart(("clip", "a.mp4", b"data")), 422, "no file in the field 'file' (files came in: 'clip')"),
        (multipart(("file", None, b"not a file")), 422, "no file in the field 'file'"),
        (multipart(("file", "a.mp4", b"1"), ("file", "b.mp4", b"2")), 422, "send one file per request"),
        (multipart(("file", "a.mp4", b"1234"))[:-30], 422, "ended before the multipart body did"),
        (multipart(("file", "empty.mp4", b"")), 422, "'empty.mp4' is empty"),
    ],
)
async def test_a_form_without_exactly_one_file_is_refused_naming_the_field(
    tmp_path: Path, body: bytes, status: int, message: str
) -> None:
    with pytest.raises(GatewayError) as refused:
        await receive_file(headers_for(body), chunks(body), tmp_path / "in", field="file", max_bytes=10_000)
    assert (status_of(refused.value), refused.value.details["field"]) == (status, "file")
    assert message in refused.value.message


async def test_a_body_that_is_not_multipart_is_refused_with_415(tmp_path: Path) -> None:
    with pytest.raises(GatewayError) as refused:
        await receive_file(
            {"content-type": "video/mp4"}, chunks(b"raw"), tmp_path / "in", field="file", max_bytes=10_000
        )
    assert status_of(refused.value) == 415
    assert "multipart/form-data in the field 'file'" in refused.value.message
    assert "not as video/mp4" in refused.value.message


# ---- the route, in-process, with real ffprobe and a directory for the bucket ------------------------------------
def make_clip(path: Path, *, seconds: float = 1.0, audio: bool = True) -> Path:
    sound = ["-f", "lavfi", "-i", f"sine=duration={seconds}"] if audio else []
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=25:d={seconds}", *sound),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-shortest", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


def make_picture(path: Path) -> Path:
    """A 200x100 still in the format the name's extension says."""
    still = ["-f", "lavfi", "-i", "testsrc2=size=200x100", "-frames:v", "1"]
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *still, str(path)], check=True, timeout=60)
    return path


@pytest.fixture
def bucket_root(tmp_path: Path) -> Path:
    return tmp_path / "buckets"


@pytest.fixture
def upload_app(bucket_root: Path, tmp_path: Path) -> Iterator[FastAPI]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(upload_routes.router)
    intake = UploadIntake(
        blobs=DirectoryBlobStore(bucket_root),
        bucket=MEDIA_BUCKET,
        max_bytes=200_000,
        probe_timeout_sec=20,
        scratch_dir=tmp_path,
    )
    app.dependency_overrides[upload_routes.upload_intake] = lambda: intake
    as_admin_without_accounts(app)
    yield app


def scratch_left(folder: Path) -> list[Path]:
    return list(folder.glob("reelflow-upload-*"))


async def post_file(app: FastAPI, filename: str, data: bytes) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        return await client.post("/api/uploads", files={"file": (filename, data, "application/octet-stream")})


async def test_the_route_stores_a_clip_once_by_its_content(
    upload_app: FastAPI, bucket_root: Path, tmp_path: Path
) -> None:
    data = make_clip(tmp_path / "clip.mp4").read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()

    first = await post_file(upload_app, "Clip.MP4", data)
    assert first.status_code == 201, first.text
    body: dict[str, Any] = first.json()
    assert body["media_key"] == f"uploads/{sha256}.mp4"
    assert (body["sha256"], body["size_bytes"], body["kind"], body["created"]) == (sha256, len(data), "video", True)
    assert (body["width"], body["height"], body["fps"], body["has_audio"]) == (160, 120, 25.0, True)
    assert abs(body["duration_sec"] - 1.0) < 0.1
    stored = bucket_root / MEDIA_BUCKET / body["media_key"]
    assert stored.read_bytes() == data

    again = await post_file(upload_app, "another-name.mp4", data)
    assert again.status_code == 200, again.text
    assert again.json() == body | {"created": False}
    assert [p.name for p in (bucket_root / MEDIA_BUCKET / "uploads").iterdir()] == [stored.name]
    assert not scratch_left(tmp_path), "the scratch copy is removed"


@pytest.mark.parametrize(
    ("name", "extension", "content_type"),
    [("logo.PNG", "png", "image/png"), ("photo.jpeg", "jpg", "image/jpeg"), ("art.webp", "webp", "image/webp")],
)
async def test_the_route_takes_a_picture_for_a_scene_or_a_logo(
    upload_app: FastAPI, bucket_root: Path, tmp_path: Path, name: str, extension: str, content_type: str
) -> None:
    picture = make_picture(tmp_path / f"picture.{extension}")
    data = picture.read_bytes()
    answer = await post_file(upload_app, name, data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["media_key"] == f"uploads/{hashlib.sha256(data).hexdigest()}.{extension}"
    assert (body["kind"], body["content_type"], body["width"], body["height"]) == ("image", content_type, 200, 100)
    assert (body["duration_sec"], body["fps"], body["has_audio"]) == (None, None, False)
    info = await DirectoryBlobStore(bucket_root).stat(MEDIA_BUCKET, body["media_key"])
    assert info is not None and info.content_type == content_type


def test_a_picture_larger_than_the_limit_is_refused() -> None:
    huge = MediaInfo(0.0, "png_pipe", (StreamInfo("video", "png", 9000, 100, avg_frame_rate="25/1"),))
    with pytest.raises(MediaInvalidError, match="at most 8192 pixels on a side"):
        check_media(huge, filename="banner.png")


def test_a_picture_is_a_clip_but_not_music_and_sound_is_music_but_not_a_clip() -> None:
    picture, photo, song = upload("pic", "png"), upload("photo", "jpg"), upload("song", "mp3")
    clips = [RankingClip(media_key=picture, rank=3), RankingClip(media_key=photo, rank=2, end=3.0)]
    spec = spec_of(*clips, RankingClip(media_key=song, rank=1), music=picture)
    stored = {picture: BlobInfo(10, "image/png"), photo: BlobInfo(10, "image/jpeg"), song: BlobInfo(10, "audio/mpeg")}
    problems = media_problems(spec, stored)
    assert [(p.field, p.problem) for p in problems] == [
        (
            "clips.2.media_key",
            "it is an audio upload (audio/mpeg); a clip needs a video or a picture, use it as the music instead",
        ),
        ("music.media_key", "it is a picture (image/png); music needs sound"),
    ]


async def test_the_route_refuses_garbage_naming_the_file(upload_app: FastAPI, bucket_root: Path) -> None:
    refused = await post_file(upload_app, "holiday.mp4", b"this is not a video at all" * 50)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "MEDIA_INVALID"
    assert error["message"].startswith(
        "'holiday.mp4' cannot be used as a clip, music, picture or font: it is not a readable"
    )
    assert "reelflow-upload-" not in error["message"], "the scratch path is not shown"
    assert error["details"]["filename"] == "holiday.mp4"
    assert not (bucket_root / MEDIA_BUCKET).exists()


async def test_the_route_refuses_a_file_over_the_limit_with_413(upload_app: FastAPI, tmp_path: Path) -> None:
    refused = await post_file(upload_app, "long.mp4", b"\0" * 250_000)
    assert refused.status_code == 413, refused.text
    error = refused.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert "upload limit of 195.3 KiB (200000 bytes)" in error["message"]
    assert "REELFLOW_UPLOAD_MAX_BYTES" in error["message"]
    assert not scratch_left(tmp_path)


# ---- ranking requests -----------------------------------------------------------------------------------------
def upload(name: str, extension: str = "mp4") -> str:
    """A well-formed upload key, different for each name."""
    return f"uploads/{hashlib.sha256(name.encode()).hexdigest()}.{extension}"


def ranking_options(**overrides: Any) -> RankingOptions:
    clips = [
        {"media_key": upload(str(n)), "rank": n, "label": label} for n, label in ((1, "cat"), (2, "dog"), (3, "owl"))
    ]
    return RankingOptions.model_validate({"video_id": "video-1", "clips": clips} | overrides)


def test_a_ranking_request_becomes_a_9_by_16_ranking_spec() -> None:
    spec = ranking_spec_for(ranking_options(title="Top 3", music={"media_key": upload("m", "mp3")}))
    assert isinstance(spec, RankingSpec)
    assert (spec.template, spec.size, spec.fps, spec.title) == ("ranking", "1080x1920", 30, "Top 3")
    assert [clip.rank for clip in spec.clips] == [1, 2, 3]
    assert spec.music is not None and spec.music.media_key == upload("m", "mp3")
    assert spec.voice is None and spec.publish is None


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"size": "1081x1920"}, "size", "even numbers"),
        ({"size": "10x10"}, "size", "at least 64"),
        ({"fps": 5}, "fps", "greater than or equal to 10"),
        ({"callback_url": "ftp://x"}, "callback_url", "absolute http:// or https:// URL"),
        ({"callback_url": "http://"}, "callback_url", "with a host"),
        ({"video_id": "../x"}, "video_id", "should match pattern"),
    ],
)
def test_a_ranking_request_with_a_bad_option_is_refused_by_its_body_naming_the_field(
    overrides: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ranking_options(**overrides)
    [found] = problems_of(refused.value)
    assert found["field"] == field and problem in found["problem"]


def test_a_ranking_request_the_spec_refuses_names_the_field() -> None:
    with pytest.raises(GatewayError) as refused:
        ranking_spec_for(ranking_options(clips=[]))
    assert (status_of(refused.value), refused.value.public_code) == (422, ApiErrorCode.VALIDATION_FAILED)
    [found] = refused.value.details["problems"]
    assert found["field"] == "clips" and "at least 1 item" in found["problem"]
    assert refused.value.message.startswith("clips: ")


def test_a_title_card_without_a_title_is_refused_naming_the_field() -> None:
    with pytest.raises(GatewayError) as refused:
        ranking_spec_for(ranking_options(title_card=True, title=" "))
    assert status_of(refused.value) == 422
    assert "title_card: the card shows the short's title, so title must not be blank" in refused.value.message
    spec = ranking_spec_for(ranking_options(title_card=True, title="Top 3"))
    assert isinstance(spec, RankingSpec) and spec.title_card


def test_duplicate_ranks_are_refused() -> None:
    clips = [{"media_key": upload("a"), "rank": 2}, {"media_key": upload("b"), "rank": 2}]
    with pytest.raises(GatewayError, match=r"every rank must be unique, got \[2, 2\]"):
        ranking_spec_for(ranking_options(clips=clips))


def spec_of(*clips: RankingClip, music: str | None = None) -> RankingSpec:
    return RankingSpec.model_validate({"clips": list(clips), "music": {"media_key": music} if music else None})


def test_every_missing_or_audio_clip_and_music_is_listed_at_once() -> None:
    ok, gone, song, missing = upload("ok"), upload("gone"), upload("song", "mp3"), upload("missing", "mp3")
    spec = spec_of(
        RankingClip(media_key=ok, rank=1, label="cat"),
        RankingClip(media_key=gone, rank=2, label="dog"),
        RankingClip(media_key=song, rank=3),
        RankingClip(media_key=gone, rank=4, label="  "),
        music=missing,
    )
    assert media_keys(spec) == [ok, gone, song, missing]
    stored = {ok: BlobInfo(100, "video/mp4"), song: BlobInfo(100, "audio/mpeg")}
    problems = media_problems(spec, stored)
    assert [(p.field, p.rank, p.media_key) for p in problems] == [
        ("clips.1.media_key", 2, gone),
        ("clips.2.media_key", 3, song),
        ("clips.3.media_key", 4, gone),
        ("music.media_key", None, missing),
    ]
    error = unusable_media_error(problems)
    assert (status_of(error), error.public_code) == (422, ApiErrorCode.VALIDATION_FAILED)
    assert error.message.startswith(f"4 ranking inputs are not usable: clip #2 'dog' ({gone}): ")
    assert f"clip #3 ({song}): it is an audio upload (audio/mpeg); a clip needs a video or a picture" in error.message
    assert f"clip #4 ({gone})" in error.message
    assert f"music ({missing}): {NOT_UPLOADED}" in error.message
    assert "POST /api/uploads" in error.message
    assert [problem["field"] for problem in error.details["problems"]] == [p.field for p in problems]
    assert media_problems(spec_of(RankingClip(media_key=ok, rank=1)), stored) == []


@pytest.mark.parametrize("key", ["uploads/../etc/passwd.mp4", "uploads/clip.mp4", f"uploads/{'ab' * 32}.exe", "x"])
def test_a_key_that_is_not_an_upload_key_is_refused_without_looking_it_up(key: str) -> None:
    spec = spec_of(RankingClip(media_key=key, rank=1)) if ".." not in key else None
    if spec is None:  # the contract itself refuses '..' segments
        with pytest.raises(ValueError, match=r"'\.\.' path segments"):
            RankingClip(media_key=key, rank=1)
        return
    assert media_keys(spec) == []
    [problem] = media_problems(spec, {})
    assert (problem.field, problem.problem) == ("clips.0.media_key", NOT_AN_UPLOAD_KEY)


async def test_a_body_padded_with_other_fields_is_bounded_too(tmp_path: Path) -> None:
    padding = b"p" * (MULTIPART_ENVELOPE_BYTES + 2000)
    body = multipart(("file", "small.mp4", b"tiny"), ("notes", None, padding))
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    with pytest.raises(GatewayError) as refused:
        await receive_file(headers, chunks(body, 4096), tmp_path / "in", field="file", max_bytes=1000)
    assert status_of(refused.value) == 413
    small = multipart(("file", "small.mp4", b"tiny"), ("notes", None, b"p" * 2000))
    received = await receive_file(headers, chunks(small), tmp_path / "in2", field="file", max_bytes=1000)
    assert received.size_bytes == 4


async def test_a_lessons_visuals_logo_and_font_must_be_uploads_of_their_kind_before_it_starts(tmp_path: Path) -> None:
    picture, clip, gone, logo = upload("pic", "png"), upload("clip"), upload("gone", "jpg"), upload("logo", "webp")
    font, tone = upload("font", "ttf"), upload("tone", "m4a")
    scene_of = {"s1": picture, "s2": "a hard hat, flat illustration", "s3": clip, "s4": gone, "s5": tone}
    scenes = [Scene(scene_id=name, narration="Say it.", visual=visual) for name, visual in scene_of.items()]
    script = VideoScript(
        chapters=[
            Chapter(chapter_id="c1", title="Basics", scenes=scenes[:2]),
            Chapter(chapter_id="c2", title="More", scenes=scenes[2:]),
        ]
    )
    brand = BrandColours(background="#102030", accent="#ff8800", logo=logo, font=font)
    named = lesson_uploads(script, brand, script_field="script")
    assert named == [
        NamedUpload("script.chapters.0.scenes.0.visual", picture, "visual"),
        NamedUpload("script.chapters.1.scenes.0.visual", clip, "visual"),
        NamedUpload("script.chapters.1.scenes.1.visual", gone, "visual"),
        NamedUpload("script.chapters.1.scenes.2.visual", tone, "visual"),
        NamedUpload("brand.logo", logo, "image"),
        NamedUpload("brand.font", font, "font"),
    ], "a prompt is not an upload and is not looked up"
    blobs = DirectoryBlobStore(tmp_path)
    stored = {picture: "image/png", clip: "video/mp4", tone: "audio/mp4", logo: "image/webp", font: "image/png"}
    for key, content_type in stored.items():
        await blobs.put_bytes(MEDIA_BUCKET, key, b"x", content_type)

    with pytest.raises(InvalidRequestError) as refused:
        await require_lesson_uploads(blobs, MEDIA_BUCKET, named, within="spec")
    problems = {problem["field"]: problem["problem"] for problem in refused.value.details["problems"]}
    assert set(problems) == {
        "spec.script.chapters.1.scenes.1.visual",
        "spec.script.chapters.1.scenes.2.visual",
        "spec.brand.font",
    }, "a video is a scene's visual like a picture"
    assert problems["spec.script.chapters.1.scenes.1.visual"] == NOT_UPLOADED
    assert problems["spec.script.chapters.1.scenes.2.visual"] == (
        "the upload is audio/mp4; a scene's visual must be a picture (PNG, JPEG or WebP) or a video "
        "(MP4, MOV, MKV or WebM)"
    )
    assert "brand.font must be a TrueType or OpenType font" in problems["spec.brand.font"]
    await require_lesson_uploads(blobs, MEDIA_BUCKET, [named[0], named[1], named[4]])

    # a logo is still a picture, never a video
    video_logo = NamedUpload("brand.logo", clip, "image")
    with pytest.raises(InvalidRequestError) as refused:
        await require_lesson_uploads(blobs, MEDIA_BUCKET, [video_logo])
    [problem] = refused.value.details["problems"]
    assert problem["problem"] == "the upload is video/mp4; brand.logo must be a picture (PNG, JPEG or WebP)"


def test_only_a_font_signature_with_a_sound_table_directory_is_a_font() -> None:
    header = b"\x00\x01\x00\x00" + (12).to_bytes(2, "big") + bytes(6)
    checked = checked_font(header, filename="Brand.ttf", size_bytes=12 + 16 * 12 + 1000)
    assert checked is not None and (checked.kind, checked.extension, checked.content_type) == (
        MediaKind.FONT,
        "ttf",
        "font/ttf",
    )
    opentype = checked_font(b"OTTO" + (9).to_bytes(2, "big") + bytes(6), filename="b.otf", size_bytes=5000)
    assert opentype is not None and opentype.content_type == "font/otf"
    assert checked_font(b"\x89PNG\r\n\x1a\n" + bytes(4), filename="x.png", size_bytes=100) is None
    with pytest.raises(MediaInvalidError, match="table directory is damaged"):
        checked_font(header, filename="Cut.ttf", size_bytes=40)


async def test_the_route_takes_a_real_font(upload_app: FastAPI, bucket_root: Path, tmp_path: Path) -> None:
    data = await asyncio.to_thread(NANUM_GOTHIC.read_bytes)
    roomy = UploadIntake(
        blobs=DirectoryBlobStore(bucket_root),
        bucket=MEDIA_BUCKET,
        max_bytes=len(data) + 1024,
        probe_timeout_sec=20,
        scratch_dir=tmp_path,
    )
    upload_app.dependency_overrides[upload_routes.upload_intake] = lambda: roomy
    answer = await post_file(upload_app, "NanumGothic.ttf", data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["media_key"] == f"uploads/{hashlib.sha256(data).hexdigest()}.ttf"
    assert (body["kind"], body["content_type"], body["duration_sec"]) == ("font", "font/ttf", None)


def test_a_brand_logo_must_be_a_picture_key() -> None:
    with pytest.raises(ValidationError, match="logo"):
        BrandColours(background="#102030", accent="#ff8800", logo=upload("clip"))
