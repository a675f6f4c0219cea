"""The upload form, parsed while it streams in, with a limit on everything it can grow.

Starlette parses a whole multipart body into temporary files before a route runs,
whatever its size. The upload route reads its own body instead: each file part is
spooled (1 MiB in memory, then a temporary file) only up to the per-file limit; past
it the part is marked too large and its remaining bytes are dropped as they arrive,
so its siblings still proceed. The number of files, of other fields and their size
are capped too; the request as a whole is capped by
:class:`~doclane.api.limits.BodyLimitMiddleware`.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from doclane.exceptions import DoclaneError

__all__ = ["FilePart", "FormLimits", "MalformedForm", "TooManyParts", "UploadForm", "read_upload_form"]

_SPOOL_BYTES = 1 << 20
_READ_BYTES = 1 << 20


class MalformedForm(DoclaneError):
    """The body is not a multipart form, or not a well-formed one."""

    category = "bad_form"


class TooManyParts(DoclaneError):
    """More files or fields than one request may carry."""

    category = "too_large"


@dataclass(frozen=True)
class FormLimits:
    max_file_bytes: int
    max_files: int
    max_fields: int = 8
    max_field_bytes: int = 1024


@dataclass
class FilePart:
    """One uploaded file: its name and its bytes so far (none beyond the limit)."""

    filename: str
    file: IO[bytes] = field(default_factory=lambda: tempfile.SpooledTemporaryFile(_SPOOL_BYTES))  # noqa: SIM115
    size: int = 0
    too_large: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.file.seek(0)
        while piece := self.file.read(_READ_BYTES):
            yield piece


@dataclass
class UploadForm:
    files: list[FilePart] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        for part in self.files:
            part.file.close()


class _Parser:
    """Turns python-multipart's callbacks into parts kept within ``limits``."""

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.form = UploadForm()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._file: FilePart | None = None
        self._field: tuple[str, bytearray] | None = None
        self._fields = 0

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            if len(self.form.files) >= self.limits.max_files:
                raise TooManyParts(f"More than {self.limits.max_files} files in one request; "
                                   f"send at most {self.limits.max_files} per request.")
            self._file = FilePart(filename=filename.decode("utf-8", "replace"))
            self.form.files.append(self._file)
            return
        self._fields += 1
        if self._fields > self.limits.max_fields:
            raise TooManyParts(f"More than {self.limits.max_fields} form fields; the upload form "
                               "has 'files' and 'priority'.")
        self._field = (name, bytearray())

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._file is not None:
            part = self._file
            if part.too_large or part.size + n > self.limits.max_file_bytes:
                if not part.too_large:  # keep nothing of it: it will be refused anyway
                    part.too_large = True
                    part.file.seek(0)
                    part.file.truncate()
                part.size += n
                return
            part.file.write(data[start:end])
            part.size += n
        elif self._field is not None:
            name, value = self._field
            if len(value) + n > self.limits.max_field_bytes:
                raise TooManyParts(f"The form field '{name[:40]}' is longer than "
                                   f"{self.limits.max_field_bytes} bytes.")
            value += data[start:end]

    def on_part_end(self) -> None:
        if self._field is not None:
            name, value = self._field
            self.form.fields[name] = value.decode("utf-8", "replace")
        self._file = None
        self._field = None


async def read_upload_form(request: Request, limits: FormLimits) -> UploadForm:
    """Parse the request's multipart body as it arrives; :class:`MalformedForm` if it is not one."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedForm("files: send at least one file, as multipart/form-data with one 'files' "
                            "field per file (curl -F files=@report.pdf).")
    handler = _Parser(limits)
    callbacks = {
        "on_part_begin": handler.on_part_begin,
        "on_part_data": handler.on_part_data,
        "on_part_end": handler.on_part_end,
        "on_header_field": handler.on_header_field,
        "on_header_value": handler.on_header_value,
        "on_header_end": handler.on_header_end,
        "on_headers_finished": handler.on_headers_finished,
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        handler.form.close()
        raise MalformedForm("The multipart body is malformed; let your HTTP client build it "
                            "(curl -F files=@report.pdf).") from exc
    except BaseException:
        handler.form.close()
        raise
    return handler.form
