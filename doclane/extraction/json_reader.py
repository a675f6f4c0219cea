"""JSON, flattened into readable sections whose heading paths are the key paths.

An object's scalar fields become ``key: value`` lines under the object's key
path (``["customer", "address"]``), and each nested object or array gets its
own section under its longer path. A list of scalars stays on one line
(``tags: red, green``). An array of records keeps one record per paragraph,
led by its index: ``[3] name: Ann | age: 31`` when it fits on a line, else the
index on its own line followed by one ``field: value`` line per (dotted) field.

Hostile input is refused with a reason, never crashes the worker: nesting
deeper than :data:`MAX_DEPTH` levels (the stdlib parser's own ``RecursionError``
included) and more than :data:`MAX_NODES` values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doclane.extraction._sections import CELL_SEPARATOR, SectionBuilder
from doclane.extraction.exceptions import (
    CorruptDocument,
    DocumentTooComplex,
    EmptyDocument,
    UnsupportedFileType,
)
from doclane.extraction.text import decode_text
from doclane.schemas.extraction import ExtractedDocument

__all__ = ["CONTENT_TYPE", "MAX_DEPTH", "MAX_NODES", "extract_json", "parse_json"]

CONTENT_TYPE = "application/json"
#: Objects and arrays inside each other; real data rarely goes past 10.
MAX_DEPTH = 64
#: Values (objects, arrays and scalars) in one document.
MAX_NODES = 200_000
# A record is written on one line when that line stays this short.
_RECORD_LINE_CHARS = 240
_TITLE_KEYS = ("title", "name", "subject")
_TITLE_MAX_CHARS = 200

_TOO_DEEP = (
    f"This JSON file is nested more than {MAX_DEPTH} levels deep, which we don't read "
    "for safety. Flatten its structure or split it, then upload it again."
)


def extract_json(path: Path) -> ExtractedDocument:
    """Read the JSON file at ``path`` into sections keyed by their key paths.

    Raises CorruptDocument for invalid JSON (saying where), DocumentTooComplex
    for too deep or too large a document, and EmptyDocument when it holds no
    values.
    """
    return parse_json(path.read_bytes())


def parse_json(data: bytes) -> ExtractedDocument:
    """Like :func:`extract_json`, from the file's bytes."""
    if not data.strip():
        raise EmptyDocument(
            "The file is empty. Check that you picked the right file and upload it again."
        )
    decoded = decode_text(data)
    if decoded is None:
        raise UnsupportedFileType(
            "We couldn't read this JSON file as text. Save it as UTF-8 and upload it again."
        )
    text, encoding = decoded
    try:
        value = json.loads(text.removeprefix("\ufeff"))
    except RecursionError as exc:  # the C parser gives up near the interpreter's stack limit
        raise DocumentTooComplex(_TOO_DEEP) from exc
    except json.JSONDecodeError as exc:
        raise CorruptDocument(
            f"This file isn't valid JSON: {exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}. Fix it (a JSON validator shows where) and upload it again."
        ) from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise CorruptDocument(
            "This JSON file holds a value we can't read (such as a number thousands of "
            "digits long). Fix it and upload it again."
        ) from exc
    _check_shape(value)
    builder = SectionBuilder()
    _value(builder, value, [])
    sections = builder.build()
    if not sections:
        raise EmptyDocument(
            "This JSON file holds no values to analyse. Check that you picked the right "
            "file and upload it again."
        )
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=1,
        sections=sections,
        title=_title(value),
        encoding=encoding,
    )


def _check_shape(value: Any) -> None:
    """Refuse too deep or too large a document, without recursion."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise DocumentTooComplex(
                f"This JSON file holds more than {MAX_NODES:,} values, more than we read "
                "for one document. Split it into smaller files and upload them."
            )
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise DocumentTooComplex(_TOO_DEEP)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _value(builder: SectionBuilder, value: Any, path: list[str]) -> None:
    # Recursion is bounded by MAX_DEPTH, checked before.
    if isinstance(value, dict):
        _object(builder, value, path)
    elif isinstance(value, list):
        _array(builder, value, path)
    else:
        builder.set_path(path)
        builder.text(_scalar(value))


def _object(builder: SectionBuilder, obj: dict[str, Any], path: list[str]) -> None:
    builder.set_path(path)
    lines = []
    nested = []
    for key, value in obj.items():
        if _is_scalar(value) or value in ({}, []):
            lines.append(f"{_key(key)}: {_scalar(value)}")
        elif isinstance(value, list) and all(_is_scalar(v) for v in value):
            lines.append(f"{_key(key)}: {', '.join(_scalar(v) for v in value)}")
        else:
            nested.append((key, value))
    builder.text("\n".join(lines))
    for key, value in nested:
        _value(builder, value, [*path, _key(key)])


def _array(builder: SectionBuilder, items: list[Any], path: list[str]) -> None:
    builder.set_path(path)
    scalars: list[str] = []
    for index, item in enumerate(items):
        if _is_scalar(item):
            scalars.append(f"[{index}] {_scalar(item)}")
            continue
        if scalars:
            builder.text("\n".join(scalars))
            scalars = []
        # Each record is its own paragraph, so the chunker never cuts one in half.
        builder.text(_record(index, item))
    builder.text("\n".join(scalars))


def _record(index: int, item: dict[str, Any] | list[Any]) -> str:
    fields = list(_flatten(item, ""))
    line = f"[{index}] " + CELL_SEPARATOR.join(
        f"{key}: {value}" if key else value for key, value in fields
    )
    if len(line) <= _RECORD_LINE_CHARS and "\n" not in line:
        return line
    return f"[{index}]\n" + "\n".join(f"{key}: {value}" if key else value for key, value in fields)


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """(dotted key, value) pairs of a record; list positions as ``[i]``."""
    if isinstance(value, dict):
        if not value:
            yield prefix, "{}"
        for key, child in value.items():
            yield from _flatten(child, f"{prefix}.{_key(key)}" if prefix else _key(key))
    elif isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            yield prefix, ", ".join(_scalar(v) for v in value) if value else "[]"
        else:
            for index, child in enumerate(value):
                yield from _flatten(child, f"{prefix}[{index}]")
    else:
        yield prefix, _scalar(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value)  # null, true, false and numbers as JSON writes them


def _key(key: str) -> str:
    return " ".join(key.split()) or '""'


def _title(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in _TITLE_KEYS:
        candidate = value.get(key)
        if isinstance(candidate, str) and 0 < len(candidate.strip()) <= _TITLE_MAX_CHARS:
            return " ".join(candidate.split())
    return None
