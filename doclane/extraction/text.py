"""Plain text: encoding detection, newline normalisation and light structure.

Headings are recognised in the two forms people type by hand: Markdown ``#``
lines and a line underlined with ``===`` (level 1) or ``---`` (level 2).
Everything else is body text. Plain text has no pages, so every section is on
page 1.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import charset_normalizer

from doclane.extraction.exceptions import EmptyDocument, UnsupportedFileType
from doclane.schemas.extraction import ExtractedDocument, Section

__all__ = ["bom_encoding", "decode_text", "extract_text", "parse_text"]

CONTENT_TYPE = "text/plain"

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Characters a Western European text in cp1252 plausibly contains beyond ASCII.
_WESTERN = frozenset(
    [chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7)]
    + list("ŒœŠšŽžŸƒ“”‘’‚„–—…€«»°§©®™·•¡¿£¥¢±ªº´¨¸\u00a0")  # noqa: RUF001 (on purpose)
)
# C0 controls that have no business in text (tab, newlines, form feed and ESC do).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_MAX_CONTROL_RATIO = 0.02
_LETTER = re.compile(r"[^\W\d_]")
_MAX_ACCENTED_RATIO = 0.3
_SAMPLE_CHARS = 100_000  # enough to judge an encoding; whole files can be 10 MB

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_UNDERLINE = re.compile(r"^ {0,3}(={3,}|-{3,})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})")
_MAX_UNDERLINED_CHARS = 120


def bom_encoding(data: bytes) -> str | None:
    """The Unicode encoding announced by a byte-order mark at the start of ``data``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def decode_text(data: bytes, *, final: bool = True) -> tuple[str, str] | None:
    """Decode ``data`` as text; return ``(text, encoding)``, or None if it isn't text.

    Order: a BOM decides; else strict UTF-8; else charset-normalizer's guess,
    overridden by cp1252 when that decodes cleanly into plausible Western
    European text (charset-normalizer often calls short French or German text
    cp1250 or cp1257, turning "naïve" into "naďve"). Bytes with NULs but no
    UTF-16/32 BOM, or full of control characters, are not text. With
    ``final=False`` a multi-byte character cut off at the end is tolerated, for
    sniffing the head of a file.
    """
    encoding = bom_encoding(data)
    if encoding is None:
        encoding = "utf-8"
    elif not final:
        # A truncated UTF-16/32 head may end inside a code unit.
        data = data[: len(data) - len(data) % (4 if encoding == "utf-32" else 2)]
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(data, final=final)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            return None
        guess = _guess_legacy(data)
        if guess is None:
            return None
        text, encoding = guess
    if _control_ratio(text) > _MAX_CONTROL_RATIO:
        return None
    return text, encoding


def extract_text(path: Path) -> ExtractedDocument:
    """Read a plain-text file into an :class:`ExtractedDocument`.

    Raises EmptyDocument for an empty or blank file and UnsupportedFileType when
    the bytes are not text in any encoding we recognise.
    """
    return parse_text(path.read_bytes())


def parse_text(data: bytes) -> ExtractedDocument:
    """Like :func:`extract_text`, from the file's bytes."""
    if not data:
        raise EmptyDocument(
            "The file is empty. Check that you picked the right file and upload it again."
        )
    decoded = decode_text(data)
    if decoded is None:
        raise UnsupportedFileType(
            "We couldn't read this file as text: it contains binary data or uses a "
            "character encoding we don't recognise. Save it as plain text (UTF-8) "
            "and upload it again."
        )
    text, encoding = decoded
    text = _normalise(text)
    if not text.strip():
        raise EmptyDocument(
            "This text file contains only blank space, so there is nothing to analyse. "
            "Check that you picked the right file and upload it again."
        )
    sections, title = _split_sections(text)
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=1,
        sections=sections,
        title=title,
        encoding=encoding,
    )


def _guess_legacy(data: bytes) -> tuple[str, str] | None:
    if b"\x00" in data:
        return None  # 8-bit encodings never contain NUL; this is binary
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    cp1252 = _decode_cp1252(data)
    if cp1252 is not None and (best is None or _cp1252_is_candidate(matches, best.chaos)):
        return cp1252, "cp1252"
    if best is None:
        return None
    return str(best), codecs.lookup(best.encoding).name


def _decode_cp1252(data: bytes) -> str | None:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if any(ord(c) > 0x7F and c not in _WESTERN for c in set(text)):
        return None
    # Cyrillic or Greek read as cp1252 is almost all accented letters.
    letters = _LETTER.findall(text[:_SAMPLE_CHARS])
    accented = sum(1 for c in letters if ord(c) > 0x7F)
    return text if accented <= _MAX_ACCENTED_RATIO * len(letters) else None


def _cp1252_is_candidate(matches: charset_normalizer.CharsetMatches, best_chaos: float) -> bool:
    return any(
        "cp1252" in match.could_be_from_charset and match.chaos <= best_chaos + 0.1
        for match in matches
    )


def _control_ratio(text: str) -> float:
    sample = text[:_SAMPLE_CHARS]
    return len(_CONTROL.findall(sample)) / len(sample) if sample else 0.0


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A form feed would read as a page break downstream; plain text has one page.
    text = text.replace("\f", "\n\n").replace("\x00", "")
    return text.removeprefix("\ufeff")


def _split_sections(text: str) -> tuple[list[Section], str | None]:
    lines = text.split("\n")
    stack: list[tuple[int, str]] = []
    found: list[tuple[list[str], list[str]]] = [([], [])]  # (heading path, body lines)
    in_fence = False
    previous_blank = True
    skip_next = False
    for i, line in enumerate(lines):
        if skip_next:
            skip_next = False
            previous_blank = True
            continue
        heading: tuple[int, str] | None = None
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            heading = _heading_at(lines, i, previous_blank)
        if heading is None:
            found[-1][1].append(line.rstrip())
            previous_blank = not line.strip()
            continue
        skip_next = not _ATX.match(line)  # an underlined heading consumes its underline
        stack = [entry for entry in stack if entry[0] < heading[0]] + [heading]
        found.append(([title for _, title in stack], []))
        previous_blank = True

    sections = []
    for path, body in found:
        body_text = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip("\n")
        if body_text.strip():
            sections.append(Section(heading_path=path, text=body_text))
    headings = [path for path, _ in found if path]
    if not sections:
        # Only headings: their text is the document.
        sections = [Section(heading_path=path, text=path[-1]) for path in headings]
    return sections, (headings[0][-1] if headings else None)


def _heading_at(lines: list[str], i: int, previous_blank: bool) -> tuple[int, str] | None:
    line = lines[i]
    atx = _ATX.match(line)
    if atx:
        return len(atx.group(1)), atx.group(2).strip()
    if i + 1 >= len(lines) or not previous_blank:
        return None
    underline = _UNDERLINE.match(lines[i + 1])
    title = line.strip()
    if underline is None or not title or len(title) > _MAX_UNDERLINED_CHARS:
        return None
    if _UNDERLINE.match(line):
        return None
    return (1 if underline.group(1).startswith("=") else 2), title
