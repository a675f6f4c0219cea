"""HTML with selectolax (Lexbor): the text a reader sees, with its headings and tables.

``h1``..``h6`` nest into heading paths; paragraphs and other blocks become
paragraphs; list items become one line each (``- item``, indented by nesting);
tables become one line per row with cells separated by ``" | "``; ``pre``
keeps its line breaks. What a browser doesn't show is dropped: ``script``,
``style``, ``noscript``, ``template`` (and other non-text elements such as
``svg``), and any element that is ``hidden``, ``aria-hidden="true"`` or styled
``display:none`` inline. The title is ``<title>``, else the first heading.

The encoding comes from the document, in the order browsers use: a byte-order
mark, then ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` in the
first bytes, then detection (:func:`~doclane.extraction.text.decode_text`).

A page nesting elements more than :data:`MAX_NESTING` levels deep is refused
before it is parsed: an HTML tree builder checks the stack of open elements at
each tag, so deep nesting costs the square of its depth (40,000 nested ``div``
took Lexbor 25 s; a 10 MB page of them would take hours). Browsers stop nesting
far sooner (Chromium at 512 levels), so no real page is refused. The depth is
counted in one linear pass over the tags, as a parser would nest them: void
elements and those whose end tag may be left out (``p``, ``li``, ``td``...) don't
count, and comments, scripts, styles and inline SVG/MathML are skipped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from doclane.extraction._sections import SectionBuilder, clean_inline, table_text
from doclane.extraction.exceptions import DocumentTooComplex, EmptyDocument, UnsupportedFileType
from doclane.extraction.text import bom_encoding, decode_text
from doclane.schemas.extraction import ExtractedDocument

__all__ = ["CONTENT_TYPE", "MAX_NESTING", "declared_encoding", "extract_html", "parse_html"]

CONTENT_TYPE = "text/html"
#: Elements open inside each other, at most (see the module docstring).
MAX_NESTING = 1000

_PRESCAN_BYTES = 4096  # browsers look at 1024; real pages often put the meta later
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
# WHATWG: these labels mean windows-1252, and a UTF-16 label without a BOM means UTF-8.
_ENCODING_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}
_DROPPED = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object",
     "head", "select", "datalist"}
)
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
     "blockquote", "figure", "figcaption", "form", "fieldset", "address", "dl", "dt", "dd",
     "details", "summary", "hr", "caption", "center", "body"}
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_LISTS = frozenset({"ul", "ol", "menu"})
_CELLS = frozenset({"td", "th"})
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
# Tags as the nesting count reads them: a comment's start, or a start/end tag and its name.
# "[^<>]" keeps the scan linear: a "<" that never ends its tag stops it at the next "<".
_TAG = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>")
_NEVER_NEST = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
     "track", "wbr", "keygen",  # void
     "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup",
     "rb", "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body"}  # end tag optional
)
# Their content is text (or foreign markup) up to their end tag.
_SKIPPED = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "svg", "math"}
)
_WHITESPACE = re.compile(r"\s+")


def declared_encoding(data: bytes) -> str | None:
    """The encoding a page declares: its BOM, else its ``<meta>`` charset (Python codec name)."""
    bom = bom_encoding(data)
    if bom is not None:
        return bom
    match = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None  # an unknown label: detect instead
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return _ENCODING_ALIASES.get(name, name)


def extract_html(path: Path) -> ExtractedDocument:
    """Read the HTML page at ``path`` into sections with heading paths.

    Raises EmptyDocument when the page shows no text and UnsupportedFileType
    when its bytes are not text.
    """
    return parse_html(path.read_bytes())


def parse_html(data: bytes) -> ExtractedDocument:
    """Like :func:`extract_html`, from the file's bytes."""
    if not data.strip():
        raise EmptyDocument(
            "The file is empty. Check that you picked the right file and upload it again."
        )
    text, encoding = _decode(data)
    if _nesting_depth(text) > MAX_NESTING:
        raise DocumentTooComplex(
            f"This web page nests its elements more than {MAX_NESTING:,} levels deep, far "
            "more than a browser shows, so we refused it rather than spend minutes parsing "
            "it. If it is a real page, save it again from a browser and upload that copy."
        )
    tree = LexborHTMLParser(text)
    title_node = tree.css_first("title")
    root = tree.body or tree.root
    builder = SectionBuilder()
    if root is not None:
        _Walker(builder).walk(root)
    sections = builder.build()
    if not sections:
        raise EmptyDocument(
            "This web page shows no text we can read. Check that you picked the right "
            "file (a saved page may need its content saved too) and upload it again."
        )
    title = " ".join(title_node.text().split()) if title_node is not None else ""
    return ExtractedDocument(
        content_type=CONTENT_TYPE,
        page_count=1,
        sections=sections,
        title=title or builder.first_heading,
        encoding=encoding,
    )


def _decode(data: bytes) -> tuple[str, str]:
    declared = declared_encoding(data)
    if declared is not None:
        try:
            return codecs.decode(data, declared).removeprefix("\ufeff"), declared
        except UnicodeDecodeError:
            pass  # the declaration is wrong: detect, as browsers end up doing
    decoded = decode_text(data)
    if decoded is None:
        if declared is not None:
            return codecs.decode(data, declared, errors="replace"), declared
        raise UnsupportedFileType(
            "We couldn't read this HTML file as text. Save it as UTF-8 and upload it again."
        )
    return decoded[0].removeprefix("\ufeff"), decoded[1]


def _nesting_depth(text: str, stop_past: int = MAX_NESTING) -> int:
    """How deep elements nest, counted over the tags in one pass (see the module docstring);
    the count stops as soon as it is past ``stop_past``."""
    depth = deepest = 0
    position = 0
    lowered = text.lower()
    while (match := _TAG.search(text, position)) is not None:
        position = match.end()
        if match.group(0) == "<!--":
            end = text.find("-->", position)
            if end < 0:
                break  # the rest is a comment
            position = end + 3
            continue
        closing, name = match.group(1), match.group(2).lower()
        if name in _NEVER_NEST or (closing and name in _SKIPPED):
            continue  # a skipped element's end tag closes nothing that was counted
        if closing:
            depth = max(depth - 1, 0)
        elif name in _SKIPPED:
            if not match.group(0).endswith("/>"):
                end = lowered.find(f"</{name}", position)
                if end < 0:
                    break  # the rest is its content
                position = end
        else:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > stop_past:
                break
    return deepest


def _hidden(node: LexborNode) -> bool:
    attributes = node.attributes
    if "hidden" in attributes:
        return True
    if (attributes.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_DISPLAY_NONE.search(attributes.get("style") or ""))


@dataclass
class _Walker:
    """Walks the tree without recursion (pages can nest thousands of elements deep)."""

    builder: SectionBuilder
    buffer: list[str] = field(default_factory=list)
    list_lines: list[str] = field(default_factory=list)
    list_depth: int = 0
    item_depth: int = 0
    tables: list[list[list[str]]] = field(default_factory=list)
    cell_depth: int = 0
    heading: int = 0

    def walk(self, root: LexborNode) -> None:
        stack: list[tuple[LexborNode, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self._leave(node)
                continue
            if node.is_text_node:
                self.buffer.append(_WHITESPACE.sub(" ", node.text_content or ""))
                continue
            if not node.is_element_node:
                continue  # comments, doctype
            tag = (node.tag or "").lower()
            if tag in _DROPPED or _hidden(node):
                continue
            if tag == "pre":
                self._paragraph()
                self._emit((node.text(deep=True) or "").strip("\n"), keep_lines=True)
                continue
            self._enter(node, tag)
            stack.append((node, True))
            children = []
            child = node.child
            while child is not None:
                children.append(child)
                child = child.next
            stack.extend((c, False) for c in reversed(children))
        self._paragraph()

    def _enter(self, node: LexborNode, tag: str) -> None:
        if tag == "br":
            self.buffer.append("\n")
        elif tag == "img":
            alt = (node.attributes.get("alt") or "").strip()
            if alt:
                self.buffer.append(f" {alt} ")
        elif tag in _HEADINGS and not (self.cell_depth or self.item_depth):
            self._paragraph()
            self.heading = _HEADINGS[tag]
        elif tag in _LISTS:
            if self.item_depth:
                self._list_line()  # the item's own text comes before its sub-list
            else:
                self._paragraph()
            self.list_depth += 1
        elif tag == "li":
            self._list_line()
            self.item_depth += 1
        elif tag == "table":
            self._paragraph()
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in _CELLS and self.tables:
            self._paragraph()
            self.cell_depth += 1
        elif tag in _BLOCKS:
            self._paragraph()

    def _leave(self, node: LexborNode) -> None:
        tag = (node.tag or "").lower()
        if tag in _HEADINGS and self.heading:
            self.builder.heading(self.heading, self._take())
            self.heading = 0
        elif tag == "li" and self.item_depth:
            self._list_line()
            self.item_depth -= 1
        elif tag in _LISTS and self.list_depth:
            self._list_line()
            self.list_depth -= 1
            if not self.list_depth:
                self._emit("\n".join(self.list_lines), keep_lines=True)
                self.list_lines = []
        elif tag in _CELLS and self.cell_depth:
            self.cell_depth -= 1
            if self.tables and self.tables[-1]:
                self.tables[-1][-1].append(self._take())
        elif tag == "table" and self.tables:
            rows = table_text(self.tables.pop())
            if self.tables or self.cell_depth or self.item_depth:
                self.buffer.append(" " + rows.replace("\n", "; ") + " ")  # a table in a cell
            else:
                self._emit(rows, keep_lines=True)
        elif tag in _BLOCKS:
            self._paragraph()

    def _take(self) -> str:
        text = clean_inline("".join(self.buffer))
        self.buffer = []
        return text

    def _paragraph(self) -> None:
        """A block boundary: inside a cell or list item it is only a space."""
        if self.cell_depth or self.item_depth or self.heading:
            self.buffer.append(" ")
            return
        self._emit(self._take())

    def _list_line(self) -> None:
        text = self._take()
        if text:
            indent = "  " * max(self.list_depth - 1, 0)
            self.list_lines.append(f"{indent}- {text}")

    def _emit(self, text: str, *, keep_lines: bool = False) -> None:
        if not text.strip():
            return
        if self.list_depth and not keep_lines:
            self.list_lines.append(text)
        elif self.tables or self.cell_depth:
            self.buffer.append(" " + " ".join(text.split()) + " ")
        else:
            self.builder.text(text if keep_lines else clean_inline(text))
