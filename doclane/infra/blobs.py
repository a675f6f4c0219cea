"""Uploaded files on the local filesystem, under ``<data-dir>/uploads``."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

__all__ = ["BlobStore", "safe_filename"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]+")
_MAX_NAME_BYTES = 200


def safe_filename(name: str) -> str:
    """A filename that cannot leave its folder or surprise a shell.

    Keeps the last path component only (both ``/`` and ``\\`` count as
    separators), folds Unicode to ASCII where it can, replaces anything else by
    ``_``, drops leading dots, and keeps the extension when shortening.
    """
    base = PureWindowsPath(PurePosixPath(name.replace("\x00", "")).name).name
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", folded).strip(" .")
    cleaned = cleaned.lstrip(".-") or "upload"
    if len(cleaned.encode()) > _MAX_NAME_BYTES:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext[:16] if dot else ""
        cleaned = (stem if dot else cleaned)[: _MAX_NAME_BYTES - len(ext) - 1] + (f".{ext}" if ext else "")
    return cleaned


class BlobStore:
    """Files kept as ``uploads/{document_id}/{safe filename}`` below ``root``."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def key_for(self, document_id: str, filename: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", document_id):
            raise ValueError(f"invalid document id {document_id!r}")
        return f"uploads/{document_id}/{safe_filename(filename)}"

    def path(self, key: str) -> Path:
        """The file behind ``key``; refuses keys that would point outside the root."""
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root / "uploads"):
            raise ValueError(f"blob key {key!r} escapes the upload folder")
        return path

    def delete_document(self, document_id: str) -> None:
        folder = self.path(f"uploads/{document_id}")
        shutil.rmtree(folder, ignore_errors=True)
