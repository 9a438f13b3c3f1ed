"""The embedded stack: each server starts, does the job reelflow needs of it, and frees its port on stop."""

from __future__ import annotations

import io
import socket
from datetime import timedelta
from pathlib import Path

import httpx
import nats
import pytest
from minio import Minio
from minio.error import S3Error
from pymongo import AsyncMongoClient

from reelflow.local.ports import LOOPBACK, port_accepts_connections, port_is_free
from reelflow.local.servers import EmbeddedStack, StackEndpoints, StackStartError

pytestmark = pytest.mark.connected

TIMEOUT_SEC = 10


def s3(stack: StackEndpoints, *, secret_key: str | None = None) -> Minio:
    return Minio(
        stack.s3_address,
        access_key=stack.s3_access_key,
        secret_key=stack.s3_secret_key if secret_key is None else secret_key,
        secure=False,
    )


async def test_jetstream_drops_a_duplicate_msg_id(stack: StackEndpoints, unique_id: str) -> None:
    nc = await nats.connect(stack.nats_url, connect_timeout=TIMEOUT_SEC)
    try:
        js = nc.jetstream(timeout=TIMEOUT_SEC)
        stream = f"TEST_{unique_id}"
        subject = f"test.{unique_id}.events"
        await js.add_stream(name=stream, subjects=[subject], duplicate_window=120)
        headers = {"Nats-Msg-Id": f"{unique_id}:1"}

        first = await js.publish(subject, b"hello", headers=headers)
        second = await js.publish(subject, b"hello", headers=headers)

        assert not first.duplicate
        assert second.duplicate is True
        assert second.seq == first.seq
        assert (await js.stream_info(stream)).state.messages == 1
        await js.delete_stream(stream)
    finally:
        await nc.close()


async def test_mongo_inserts_and_finds_a_document(stack: StackEndpoints, unique_id: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        stack.mongo_url, serverSelectionTimeoutMS=TIMEOUT_SEC * 1000
    )
    try:
        db = client[f"test_{unique_id}"]
        inserted = await db.render_jobs.insert_one({"job_id": unique_id, "status": "queued", "progress": 0.25})

        found = await db.render_jobs.find_one({"job_id": unique_id})

        assert found is not None
        assert found["_id"] == inserted.inserted_id
        assert found["status"] == "queued"
        assert found["progress"] == 0.25
        assert await db.render_jobs.find_one({"job_id": "someone-else"}) is None
        await client.drop_database(db.name)
    finally:
        await client.close()


def test_s3_stores_an_object_and_serves_a_presigned_url(stack: StackEndpoints, unique_id: str) -> None:
    client = s3(stack)
    bucket = f"test-{unique_id}"
    key = f"{unique_id}/1/lesson.srt"
    body = "1\n00:00:00,000 --> 00:00:01,500\n안녕하세요\n".encode()

    client.make_bucket(bucket)
    client.put_object(bucket, key, io.BytesIO(body), len(body), content_type="application/x-subrip")
    response = client.get_object(bucket, key)
    try:
        assert response.read() == body
    finally:
        response.close()
        response.release_conn()
    url = client.presigned_get_object(bucket, key, expires=timedelta(minutes=5))
    presigned = httpx.get(url, timeout=TIMEOUT_SEC)

    assert bucket in [found.name for found in client.list_buckets()]
    assert presigned.status_code == httpx.codes.OK
    assert presigned.content == body
    tampered = httpx.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=TIMEOUT_SEC)
    assert tampered.status_code == httpx.codes.FORBIDDEN


def test_s3_refuses_a_wrong_secret(stack: StackEndpoints) -> None:
    with pytest.raises(S3Error) as refused:
        s3(stack, secret_key="not-the-secret").list_buckets()
    assert refused.value.code == "SignatureDoesNotMatch"


def test_service_env_points_at_the_stack(stack: StackEndpoints) -> None:
    env = stack.service_env()

    assert env == {
        "REELFLOW_NATS_URL": stack.nats_url,
        "REELFLOW_MONGO_URL": stack.mongo_url,
        "REELFLOW_S3_ENDPOINT": stack.s3_endpoint,
        "REELFLOW_S3_ACCESS_KEY": stack.s3_access_key,
        "REELFLOW_S3_SECRET_KEY": stack.s3_secret_key,
    }
    assert stack.nats_url.startswith(f"nats://{LOOPBACK}:")
    assert stack.mongo_url.startswith(f"mongodb://{LOOPBACK}:")
    assert stack.s3_endpoint.startswith(f"http://{LOOPBACK}:")


async def test_nats_restart_keeps_jetstream_data_and_stop_frees_every_port(tmp_path: Path, unique_id: str) -> None:
    stack = EmbeddedStack(tmp_path / "stack")
    with stack as endpoints:
        ports = stack.ports()
        assert all(port_accepts_connections(port) for port in ports.values())
        assert not any(port_is_free(port) for port in ports.values())

        nc = await nats.connect(endpoints.nats_url, connect_timeout=TIMEOUT_SEC)
        await nc.jetstream(timeout=TIMEOUT_SEC).add_stream(name=f"KEEP_{unique_id}", subjects=[f"keep.{unique_id}"])
        await nc.close()
        stack.restart("nats")
        nc = await nats.connect(endpoints.nats_url, connect_timeout=TIMEOUT_SEC)
        try:
            info = await nc.jetstream(timeout=TIMEOUT_SEC).stream_info(f"KEEP_{unique_id}")
        finally:
            await nc.close()
        assert info.config.subjects == [f"keep.{unique_id}"]

    assert all(port_is_free(port) for port in ports.values()), ports
    stack.stop()  # idempotent


def test_a_server_that_exits_fails_start_with_its_log_and_stops_the_others(tmp_path: Path) -> None:
    stack = EmbeddedStack(tmp_path / "stack", secret_key="")  # nanio refuses to run without credentials

    with pytest.raises(StackStartError) as failed:
        stack.start(timeout_sec=30)

    assert failed.value.server == "s3"
    assert "nanio serve" in failed.value.command
    assert "NANIO_SECRET_KEY" in failed.value.log_tail
    assert "NANIO_SECRET_KEY" in str(failed.value)
    assert all(port_is_free(port) for port in stack.ports().values())


def test_a_taken_port_fails_start_before_anything_runs(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = EmbeddedStack(tmp_path / "stack", mongo_port=port)

        with pytest.raises(StackStartError, match=f"{port} is already in use"):
            stack.start()

    assert not (tmp_path / "stack" / "logs").exists()
