"""Resumable uploads (tus 1.0): partial files and their records, kept under the data directory.

Each upload is two files in ``<data-dir>/uploads/.tus/<owner key>/``: ``<id>.part``,
the bytes received so far (its size *is* the upload's offset, so a crash loses
nothing that reached the disk), and ``<id>.json``, what the client declared (length,
file name, priority) and, once finished, the document it became. The files live in
the data directory, which every gateway of a distributed deployment shares, so any
gateway can continue any upload; a ``flock`` on the partial file keeps two writers
(in one process or several) from interleaving.

When the last byte arrives the partial file becomes a document exactly as a form
upload does (:func:`~doclane.producers.uploads.accept_stored_file`: sniffed by
content, moved into ``uploads/{document_id}/``, recorded, announced). Unfinished
uploads untouched for ``resumable_expiry_s`` are removed by :meth:`ResumableUploads.sweep`;
a finished one's record stays as long, so ``HEAD`` can still name its document.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from doclane.infra.runtime import Services
from doclane.infra.settings import Settings
from doclane.producers.exceptions import (
    InvalidUploadRequest,
    OffsetMismatch,
    OpenUploadsExceeded,
    StorageFull,
    UploadBusy,
    UploadExpired,
    UploadNotFound,
    UploadTooLarge,
)
from doclane.producers.uploads import MIN_FREE_BYTES, accept_stored_file
from doclane.schemas.documents import DocumentRecord
from doclane.schemas.events import Priority

__all__ = ["TUS_EXTENSIONS", "TUS_VERSION", "ResumableUpload", "ResumableUploads", "parse_metadata"]

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "termination", "expiration")
_ID = re.compile(r"[0-9a-f]{32}")
_MB = 1 << 20
#: How long a PATCH waits for another writer of the same upload to finish.
_LOCK_WAIT_S = 5.0
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class ResumableUpload(BaseModel):
    """What a client declared when it created an upload, and the document it became."""

    id: str
    owner: str
    length: int
    filename: str
    priority: Priority | None = None
    #: The ``Upload-Metadata`` header as sent, given back by ``HEAD``.
    metadata: str = ""
    created_at: datetime
    document_id: str | None = None
    completed_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.document_id is not None


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (a value may be absent)."""
    pairs: dict[str, str] = {}
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        value = value.strip()
        if key in pairs:
            raise InvalidUploadRequest(f"Upload-Metadata has the key '{key[:40]}' twice; send each once.")
        try:
            pairs[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidUploadRequest(
                f"Upload-Metadata: the value of '{key[:40]}' must be base64-encoded UTF-8 text.") from None
    return pairs


def _now() -> datetime:
    return datetime.now(UTC)


def _mb(n: float) -> str:
    return f"{n / _MB:.0f} MB" if n >= _MB else f"{n / 1024:.0f} KB"


class ResumableUploads:
    """The resumable uploads of every user, on the file system."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._root = settings.data_dir.resolve() / "uploads" / ".tus"
        self._clock = clock
        # One creation at a time per process, so a user's quota is checked and taken at once.
        self._creating = asyncio.Lock()

    # --- paths and records ---

    def _folder(self, owner: str) -> Path:
        return self._root / hashlib.sha256(owner.encode()).hexdigest()[:32]

    def _part(self, upload: ResumableUpload) -> Path:
        return self._folder(upload.owner) / f"{upload.id}.part"

    def _info(self, owner: str, upload_id: str) -> Path:
        return self._folder(owner) / f"{upload_id}.json"

    def _save(self, upload: ResumableUpload) -> None:
        path = self._info(upload.owner, upload.id)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(upload.model_dump_json())
        os.replace(tmp, path)

    @staticmethod
    def _load(path: Path) -> ResumableUpload | None:
        try:
            return ResumableUpload.model_validate_json(path.read_bytes())
        except (FileNotFoundError, ValidationError, json.JSONDecodeError):
            return None

    def offset(self, upload: ResumableUpload) -> int:
        """Bytes received so far."""
        if upload.finished:
            return upload.length
        try:
            return self._part(upload).stat().st_size
        except FileNotFoundError:
            return 0

    def _last_activity(self, upload: ResumableUpload) -> float:
        if upload.completed_at is not None:
            return upload.completed_at.timestamp()
        try:
            return self._part(upload).stat().st_mtime
        except FileNotFoundError:
            return upload.created_at.timestamp()

    def expires_at(self, upload: ResumableUpload) -> datetime:
        """When the upload will be removed if nothing more arrives (sliding with each PATCH)."""
        return datetime.fromtimestamp(self._last_activity(upload) + self._settings.resumable_expiry_s, UTC)

    def _expired(self, upload: ResumableUpload) -> bool:
        return self._clock() >= self._last_activity(upload) + self._settings.resumable_expiry_s

    # --- the protocol's operations ---

    def _open_uploads(self, owner: str) -> list[ResumableUpload]:
        folder = self._folder(owner)
        if not folder.is_dir():
            return []
        loaded = (self._load(p) for p in folder.glob("*.json"))
        return [u for u in loaded if u is not None and not u.finished and not self._expired(u)]

    async def create(self, owner: str, length: int, metadata: str) -> ResumableUpload:
        """A new, empty upload of ``length`` bytes; refused past the size limit or the user's quota."""
        settings = self._settings
        if length < 1:
            raise InvalidUploadRequest("Upload-Length must be at least 1: an empty file has nothing "
                                       "to process.")
        if length > settings.max_resumable_bytes:
            raise UploadTooLarge(f"Upload-Length {length} is larger than the "
                                 f"{settings.max_resumable_mb:g} MB limit of a resumable upload "
                                 "(DOCLANE_MAX_RESUMABLE_MB); split or compress the file.")
        fields = parse_metadata(metadata)
        filename = (fields.get("filename") or fields.get("name") or "").strip() or "upload"
        try:
            priority = Priority(fields["priority"]) if fields.get("priority") else None
        except ValueError:
            raise InvalidUploadRequest("Upload-Metadata: priority must be high, normal or low.") from None
        async with self._creating:
            return self._create(owner, length, metadata, filename, priority)

    def _create(self, owner: str, length: int, metadata: str, filename: str,
                priority: Priority | None) -> ResumableUpload:
        settings = self._settings
        open_now = self._open_uploads(owner)
        if len(open_now) >= settings.resumable_max_open:
            raise OpenUploadsExceeded(
                f"You have {len(open_now)} unfinished resumable uploads, the most allowed at once; "
                "finish or DELETE one (or let it expire) before starting another.")
        held = sum(u.length for u in open_now)
        if held + length > settings.resumable_max_open_mb * _MB:
            raise UploadTooLarge(
                f"Your unfinished resumable uploads already declare {_mb(held)}; with this one "
                f"({_mb(length)}) they would pass your {settings.resumable_max_open_mb:g} MB allowance. "
                "Finish or DELETE some first.")
        folder = self._folder(owner)
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            if shutil.disk_usage(folder).free < length + MIN_FREE_BYTES:
                raise StorageFull("The server has no room for a file this large right now; try again "
                                  "later, and tell the operator if it persists.")
        upload = ResumableUpload(id=uuid.uuid4().hex, owner=owner, length=length, filename=filename,
                                 priority=priority, metadata=metadata, created_at=_now())
        self._part(upload).touch()
        self._save(upload)
        logger.info("resumable upload %s created for %s (%d bytes)", upload.id, filename, length)
        return upload

    def get(self, owner: str, upload_id: str) -> ResumableUpload:
        """The owner's upload.

        :class:`UploadNotFound` for anyone else's; :class:`UploadExpired` past its time.
        """
        upload = self._load(self._info(owner, upload_id)) if _ID.fullmatch(upload_id) else None
        if upload is None or upload.owner != owner:
            raise UploadNotFound(f"No resumable upload with id '{upload_id[:64]}'; create one with "
                                 "POST /uploads/.")
        if upload.finished:
            if self._expired(upload):
                self._remove(upload)
                raise UploadNotFound(f"No resumable upload with id '{upload_id}' any more; it finished "
                                     f"as document {upload.document_id}.")
            return upload
        if not self._part(upload).exists():  # a finish that died midway, or removed by hand
            self._remove(upload)
            raise UploadNotFound(f"No resumable upload with id '{upload_id}'; create a new one.")
        if self._expired(upload):
            self._remove_unless_busy(upload)
            raise UploadExpired(f"Upload '{upload_id}' was left unfinished for more than "
                                f"{self._settings.resumable_expiry_s:g} s and was removed; "
                                "create a new upload.")
        return upload

    async def delete(self, upload: ResumableUpload) -> None:
        """Termination: forget the upload and its bytes (its document, if any, stays)."""
        fd = await self._lock(upload)
        try:
            self._remove(upload)
        finally:
            os.close(fd)
        logger.info("resumable upload %s terminated", upload.id)

    def _reload(self, upload: ResumableUpload, fd: int) -> ResumableUpload:
        """The record as it is now that ``fd`` is locked: another request may have finished,
        removed or terminated the upload while this one waited."""
        current = self._load(self._info(upload.owner, upload.id))
        gone = UploadNotFound(f"Upload '{upload.id}' was removed meanwhile; create a new one.")
        if current is None:
            raise gone
        if not current.finished:
            try:
                same = self._part(current).stat().st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                raise gone
        return current

    async def append(self, services: Services, upload: ResumableUpload, offset: int,
                     content: AsyncIterator[bytes], declared: int | None) -> ResumableUpload:
        """Write a PATCH's bytes at ``offset``; once all arrived, the upload becomes a document.

        The bytes go to the partial file as they arrive, never held whole. If the client
        goes away midway, what arrived is kept and is the new offset. Raises
        :class:`OffsetMismatch` when ``offset`` is not the bytes held, :class:`UploadTooLarge`
        (keeping nothing of this PATCH) when they would pass the declared length.
        """
        fd = await self._lock(upload)
        try:
            upload = self._reload(upload, fd)
            held = os.fstat(fd).st_size
            if upload.finished or held != offset:
                current = upload.length if upload.finished else held
                if offset != current:
                    raise OffsetMismatch(
                        f"Upload-Offset is {offset} but the server holds {current} bytes of this "
                        "upload; ask HEAD for Upload-Offset and continue from there.")
            if declared is not None and offset + declared > upload.length:
                raise self._past_end(upload, offset + declared)
            if not upload.finished:
                await self._write(fd, upload, held, content)
                if os.fstat(fd).st_size == upload.length:
                    upload = await self._finish(services, upload)
            return upload
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    async def _write(self, fd: int, upload: ResumableUpload, start: int,
                     content: AsyncIterator[bytes]) -> None:
        written = start
        try:
            os.lseek(fd, start, os.SEEK_SET)
            async for piece in content:
                if written + len(piece) > upload.length:
                    os.ftruncate(fd, start)  # nothing of a PATCH that overruns is kept
                    raise self._past_end(upload, written + len(piece))
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view):]
                written += len(piece)
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise StorageFull("The server ran out of room while storing this upload; the bytes "
                                  "before it are kept. Resume later, and tell the operator if it "
                                  "persists.") from exc
            raise

    @staticmethod
    def _past_end(upload: ResumableUpload, end: int) -> UploadTooLarge:
        return UploadTooLarge(f"This PATCH would end at byte {end}, past the upload's declared "
                              f"Upload-Length {upload.length}; nothing of it was kept.")

    async def _finish(self, services: Services, upload: ResumableUpload) -> ResumableUpload:
        try:
            record: DocumentRecord = await accept_stored_file(
                services, owner=upload.owner, filename=upload.filename, source=self._part(upload),
                priority=upload.priority)
        except Exception:
            if not self._part(upload).exists():  # refused: the file is gone, so is the upload
                self._remove(upload)
            raise
        upload = upload.model_copy(update={"document_id": record.id, "completed_at": _now()})
        self._save(upload)
        logger.info("resumable upload %s finished as document %s", upload.id, record.id)
        return upload

    async def _lock(self, upload: ResumableUpload) -> int:
        """The partial file, open for writing and exclusively locked (waits for another writer)."""
        try:
            fd = os.open(self._part(upload), os.O_WRONLY)
        except FileNotFoundError:
            if upload.finished:  # a finished upload's PATCH only checks its offset
                fd = os.open(self._info(upload.owner, upload.id), os.O_RDONLY)
            else:
                raise UploadNotFound(f"Upload '{upload.id}' was removed; create a new one.") from None
        deadline = time.monotonic() + _LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise UploadBusy("Another request is still writing to this upload; wait for it "
                                     "to end, ask HEAD for the offset, and resume.") from None
                await asyncio.sleep(0.05)

    # --- clean-up ---

    def _remove(self, upload: ResumableUpload) -> None:
        for path in (self._part(upload), self._info(upload.owner, upload.id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _remove_unless_busy(self, upload: ResumableUpload) -> bool:
        try:
            fd = os.open(self._part(upload), os.O_RDONLY)
        except FileNotFoundError:
            self._remove(upload)
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a PATCH is writing: not idle after all
        else:
            self._remove(upload)
            return True
        finally:
            os.close(fd)

    def sweep(self) -> int:
        """Remove expired uploads (and finished ones' records past their time); how many went."""
        removed = 0
        if not self._root.is_dir():
            return 0
        for folder in self._root.iterdir():
            for info in folder.glob("*.json"):
                upload = self._load(info)
                if upload is None:
                    info.unlink(missing_ok=True)
                    continue
                if self._expired(upload) and self._remove_unless_busy(upload):
                    removed += 1
            for part in folder.glob("*.part"):  # left by a crash between the two files
                if (not part.with_suffix(".json").exists()
                        and self._clock() - part.stat().st_mtime > self._settings.resumable_expiry_s):
                    part.unlink(missing_ok=True)
        if removed:
            logger.info("removed %d expired resumable uploads", removed)
        return removed

    async def sweep_forever(self) -> None:
        """Sweep every ``resumable_sweep_s`` until cancelled (a background task of the gateway)."""
        while True:
            await asyncio.to_thread(self.sweep)
            await asyncio.sleep(self._settings.resumable_sweep_s)
