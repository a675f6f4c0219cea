"""Office files (DOCX, PPTX) are ZIP archives: look inside safely before any parser does.

Checked from the archive's central directory alone, before a single part is
unpacked: the number of entries, the total unpacked size and each entry's
compression ratio (a zip bomb is refused, not unpacked), then macros (a
``vbaProject.bin`` part or a macro-enabled main content type). CPython's
``zipfile`` never unpacks more than an entry declares, so the declared sizes
checked here bound what python-docx and python-pptx can later read.

Password-protected Office files are not ZIPs at all: Office wraps them in an
OLE compound file (the old ``.doc`` container) holding an ``EncryptedPackage``
stream; :func:`ole_error` tells those from genuine old-style documents.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Literal

from doclane.extraction.exceptions import (
    CorruptDocument,
    EncryptedDocument,
    ExtractionError,
    MacroDocument,
    SuspiciousArchive,
    UnsupportedFileType,
)

__all__ = [
    "MAX_ENTRIES",
    "MAX_ENTRY_RATIO",
    "MAX_UNPACKED_BYTES",
    "OLE_MAGIC",
    "OfficeKind",
    "check_office_file",
    "kind_from_names",
    "names_in_head",
    "ole_error",
]

OfficeKind = Literal["docx", "pptx", "xlsx"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Real documents have tens to a few thousand parts (one per slide, image, chart...).
MAX_ENTRIES = 5000
#: Unpacked size of all parts together; a 10 MB upload of real XML and images stays far below.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: Office XML deflates 5-30x; ratios far beyond are made on purpose (deflate tops out at ~1000x).
MAX_ENTRY_RATIO = 100
#: Small parts may compress extremely well without harm (a part of repeated empty tags).
_RATIO_MIN_BYTES = 1024 * 1024
_CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024
_MACRO_PARTS = frozenset({"vbaproject.bin", "vbadata.xml"})
_MACRO_TYPE = re.compile(rb"macroEnabled", re.IGNORECASE)
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_LOCAL_HEADER = re.compile(rb"PK\x03\x04.{22}(..)(..)", re.DOTALL)

_NAMES = {"docx": "Word", "pptx": "PowerPoint", "xlsx": "Excel"}


def check_office_file(path: Path) -> OfficeKind | None:
    """Check the archive at ``path`` and say which Office format it holds.

    Returns ``"docx"``, ``"pptx"`` or ``"xlsx"``, or None for a ZIP that isn't
    an Office document. Raises EncryptedDocument for a password-protected Office
    file, SuspiciousArchive for a zip bomb, MacroDocument for macros and
    CorruptDocument for a damaged archive.
    """
    with path.open("rb") as file:
        magic = file.read(len(OLE_MAGIC))
    if magic == OLE_MAGIC:
        raise ole_error(path.read_bytes())
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            kind = kind_from_names(info.filename for info in infos)
            _check_sizes(infos, kind)
            if kind is not None:
                _check_macros(archive, infos, kind)
            return kind
    except zipfile.BadZipFile as exc:
        raise CorruptDocument(
            "This file is a damaged ZIP archive (an Office document that was cut short "
            "or corrupted), so it can't be opened. Save it again and upload the new copy."
        ) from exc


def kind_from_names(names: Iterable[str]) -> OfficeKind | None:
    """The Office format whose parts the archive entry ``names`` are, if any.

    An Office archive has ``[Content_Types].xml`` and its main part under
    ``word/``, ``ppt/`` or ``xl/``; any other ZIP is not an Office document.
    """
    tops = {name.split("/", 1)[0] for name in names}
    if _CONTENT_TYPES not in tops:
        return None
    kinds: tuple[tuple[str, OfficeKind], ...] = (("word", "docx"), ("ppt", "pptx"), ("xl", "xlsx"))
    return next((kind for folder, kind in kinds if folder in tops), None)


def names_in_head(head: bytes) -> list[str]:
    """Entry names in the local headers found in the first bytes of a ZIP.

    For sniffing without the whole file: Office writes ``[Content_Types].xml``
    and its first parts at the start, so their names are usually in the head.
    """
    names = []
    for match in _LOCAL_HEADER.finditer(head):
        length = int.from_bytes(match.group(1), "little")
        name = head[match.end() : match.end() + length]
        if len(name) == length:
            names.append(name.decode("utf-8", "replace"))
    return names


def ole_error(data: bytes) -> ExtractionError:
    """Why an OLE compound file (magic ``D0CF11E0``) can't be read."""
    if _ENCRYPTED_STREAM in data:
        return EncryptedDocument(
            "This Office document is password-protected (encrypted), so we can't read "
            "it. Open it, remove the password (File > Info > Protect), save it and "
            "upload it again."
        )
    return UnsupportedFileType(
        "This is an old-style Office document (.doc, .ppt or .xls), which isn't "
        "supported. Open it and save it as .docx or .pptx (or export a PDF), then "
        "upload that."
    )


def _check_sizes(infos: list[zipfile.ZipInfo], kind: OfficeKind | None) -> None:
    what = f"This {_NAMES[kind]} file" if kind else "This archive"
    if len(infos) > MAX_ENTRIES:
        raise SuspiciousArchive(
            f"{what} holds {len(infos):,} parts, far more than a real document "
            f"(the limit is {MAX_ENTRIES:,}), so we refused it for safety. If it is "
            "genuine, split it into smaller documents and upload them."
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_MIN_BYTES and ratio > MAX_ENTRY_RATIO:
            raise SuspiciousArchive(
                f"{what} contains a part that unpacks to {ratio:,.0f} times its packed "
                "size (a 'zip bomb'), so we refused it for safety. If it is a genuine "
                "document, save it again and upload the new copy."
            )
    if total > MAX_UNPACKED_BYTES:
        raise SuspiciousArchive(
            f"{what} unpacks to {total / 2**20:,.0f} MB, more than the "
            f"{MAX_UNPACKED_BYTES // 2**20} MB we read for one document, so we refused "
            "it. Split it into smaller documents and upload them."
        )


def _check_macros(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: OfficeKind) -> None:
    has_vba = any(PurePosixPath(info.filename).name.lower() in _MACRO_PARTS for info in infos)
    if not has_vba:
        content_types = next((i for i in infos if i.filename == _CONTENT_TYPES), None)
        if content_types is not None and content_types.file_size <= _CONTENT_TYPES_MAX_BYTES:
            has_vba = bool(_MACRO_TYPE.search(archive.read(content_types)))
    if has_vba:
        extension = {"docx": ".docx", "pptx": ".pptx", "xlsx": ".xlsx"}[kind]
        raise MacroDocument(
            f"This {_NAMES[kind]} file contains macros, which we don't accept for safety. "
            f"Save it as a regular {extension} file (without macros) and upload that copy."
        )
