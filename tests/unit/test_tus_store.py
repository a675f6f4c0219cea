"""The resumable upload store on its own: metadata, expiry and the sweep, two writers at once."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from doclane.infra.settings import Settings
from doclane.producers.exceptions import InvalidUploadRequest, OffsetMismatch, UploadExpired, UploadNotFound
from doclane.producers.tus import ResumableUploads, parse_metadata
from tests.utils.waiting import eventually


class _Clock:
    """Wall-clock time (partial files carry real mtimes) that a test can move forward."""

    def __init__(self) -> None:
        self.ahead_s = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead_s


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def uploads(tmp_path: Path, clock: _Clock) -> ResumableUploads:
    return ResumableUploads(Settings(data_dir=tmp_path, resumable_expiry_s=60), clock=clock)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def _body(*pieces: bytes, gate: asyncio.Event | None = None) -> AsyncIterator[bytes]:
    for i, piece in enumerate(pieces):
        if i == 1 and gate is not None:
            await gate.wait()
        yield piece


def test_metadata_pairs_are_base64_values_and_a_key_may_stand_alone():
    assert parse_metadata(f"filename {_b64('Q3 report.pdf')}, priority {_b64('high')},is_confidential") == {
        "filename": "Q3 report.pdf", "priority": "high", "is_confidential": ""}
    with pytest.raises(InvalidUploadRequest, match="base64"):
        parse_metadata("filename not*base64")
    with pytest.raises(InvalidUploadRequest, match="twice"):
        parse_metadata(f"filename {_b64('a')},filename {_b64('b')}")


async def test_a_bad_priority_or_an_empty_file_is_refused_before_anything_is_kept(uploads, tmp_path):
    with pytest.raises(InvalidUploadRequest, match="high, normal or low"):
        await uploads.create("alice", 10, f"priority {_b64('urgent')}")
    with pytest.raises(InvalidUploadRequest, match="at least 1"):
        await uploads.create("alice", 0, "")
    assert not list(tmp_path.rglob("*.part"))


async def test_an_idle_upload_expires_and_the_sweep_removes_it_but_not_a_fresh_one(uploads, clock, tmp_path):
    idle = await uploads.create("alice", 100, "")
    await uploads.append(None, idle, 0, _body(b"x" * 10), 10)
    fresh = await uploads.create("alice", 100, "")
    later = time.time() + 50  # fresh was written 50 s after idle
    os.utime(next(tmp_path.rglob(f"{fresh.id}.part")), (later, later))
    assert uploads.sweep() == 0
    clock.ahead_s = 61
    with pytest.raises(UploadExpired):
        uploads.get("alice", idle.id)  # past its time: gone on access too
    assert uploads.sweep() == 0  # already removed by the access above
    assert uploads.get("alice", fresh.id).id == fresh.id
    clock.ahead_s = 200
    assert uploads.sweep() == 1
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.json"))
    with pytest.raises(UploadNotFound):
        uploads.get("alice", fresh.id)


async def test_a_second_writer_waits_for_the_first_then_finds_the_offset_moved(uploads):
    upload = await uploads.create("alice", 100, "")
    gate = asyncio.Event()
    first = asyncio.create_task(uploads.append(None, upload, 0, _body(b"a" * 10, b"b" * 10, gate=gate), 20))
    await eventually(lambda: uploads.offset(upload) == 10, what="the first writer's first half")
    # Offset 10 is right at this moment: without the lock it would write between the halves.
    second = asyncio.create_task(uploads.append(None, upload, 10, _body(b"c" * 10), 10))
    gate.set()
    await first
    with pytest.raises(OffsetMismatch, match="holds 20 bytes"):
        await second
    assert uploads.offset(upload) == 20


async def test_a_sweep_leaves_an_upload_that_is_being_written(uploads, clock):
    upload = await uploads.create("alice", 100, "")
    gate = asyncio.Event()
    writing = asyncio.create_task(uploads.append(None, upload, 0, _body(b"a", b"b", gate=gate), 2))
    await eventually(lambda: uploads.offset(upload) == 1, what="the writer's first byte")
    clock.ahead_s = 120
    assert uploads.sweep() == 0
    gate.set()
    await writing
    assert uploads.offset(upload) == 2
