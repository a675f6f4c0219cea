"""Markdown with markdown-it-py (CommonMark plus tables): headings into paths, prose without markup.

Headings (``#`` and underlined) nest into heading paths. Paragraphs keep their
words and lose their markup: links keep their text, emphasis and inline code
marks are dropped, images keep their alt text. List items become one line
each (``- item``, ``1. item``, indented by nesting). Code blocks are kept as
fenced text, tables become one line per row with cells separated by
``" | "``, and raw HTML keeps only its text. A YAML (``---``) or TOML
(``+++``) front matter block at the top is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from doclane.extraction._sections import SectionBuilder, clean_inline, table_text
from doclane.extraction.exceptions import EmptyDocument, UnsupportedFileType
from doclane.extraction.text import decode_text
from doclane.schemas.extraction import ExtractedDocument

__all__ = ["CONTENT_TYPE", "extract_markdown", "parse_markdown"]

CONTENT_TYPE = "text/markdown"

_FRONT_MATTER = re.compile(
    r"\A(?:---[ \t]*\n.*?\n(?:---|\.\.\.)|\+\+\+[ \t]*\n.*?\n\+\+\+)[ \t]*(?:\n|\Z)", re.DOTALL
)
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)


def extract_markdown(path: Path) -> ExtractedDocument:
    """Read the Markdown file at ``path`` into sections with heading paths.

    Raises EmptyDocument for an empty or blank file and UnsupportedFileType
    when the bytes are not text.
    """
    return parse_markdown(path.read_bytes())


def parse_markdown(data: bytes) -> ExtractedDocument:
    """Like :func:`extract_markdown`, from the file's bytes."""
    decoded = decode_text(data) if data else None
    if decoded is None:
        if not data:
            raise EmptyDocument(
                "The file is empty. Check that you picked the right file and upload it again."
            )
        raise UnsupportedFileType(
            "We couldn't read this Markdown file as text. Save it as UTF-8 and upload it again."
        )
    text, encoding = decoded
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _FRONT_MATTER.sub("", text, count=1)
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    builder = SectionBuilder()
    _walk(parser.parse(text), builder)
    sections = builder.build()
    if not sections:
        raise EmptyDocument(
            "This Markdown file contains no text to analyse. Check that you picked the "
            "right file and upload it again."
        )
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=1,
        sections=sections,
        title=builder.first_heading,
        encoding=encoding,
    )


@dataclass(slots=True)
class _List:
    number: int | None  # of the current item in an ordered list; None for bullets
    fresh: bool = False  # the current item has no line yet


def _walk(tokens: list[Token], builder: SectionBuilder) -> None:
    lists: list[_List] = []
    list_lines: list[str] = []
    rows: list[list[str]] | None = None
    heading_level = 0

    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start")
            ordered = kind == "ordered_list_open"
            lists.append(_List(int(start or 1) - 1 if ordered else None))
        elif kind == "list_item_open" and lists:
            current = lists[-1]
            current.fresh = True
            if current.number is not None:
                current.number += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                builder.text("\n".join(list_lines))
                list_lines = []
        elif kind == "table_open":
            rows = []
        elif kind == "tr_open" and rows is not None:
            rows.append([])
        elif kind == "table_close" and rows is not None:
            builder.text(table_text(rows))
            rows = None
        elif kind in ("fence", "code_block"):
            fence = f"```{token.info.strip()}\n{token.content.rstrip()}\n```"
            _block(builder, lists, list_lines, fence)
        elif kind == "html_block":
            _block(builder, lists, list_lines, clean_inline(_TAG.sub(" ", token.content)))
        elif kind == "inline":
            content = _inline_text(token)
            if heading_level:
                builder.heading(heading_level, content)
            elif rows is not None and rows:
                rows[-1].append(content)
            else:
                _block(builder, lists, list_lines, content)


def _block(builder: SectionBuilder, lists: list[_List], lines: list[str], text: str) -> None:
    """A paragraph or code block: a line of the open list, else a block of its own."""
    if not text:
        return
    if not lists:
        builder.text(text)
        return
    current = lists[-1]
    indent = "  " * (len(lists) - 1)
    if current.fresh:
        marker = "- " if current.number is None else f"{current.number}. "
        current.fresh = False
    else:  # a further paragraph of the same item
        marker = "  "
    lines.append(indent + marker + text.replace("\n", "\n" + indent + "  "))


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            parts.append(child.content or "".join(c.content for c in child.children or []))
        elif kind == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
    return clean_inline("".join(parts))
