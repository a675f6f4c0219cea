"""Format readers and the structure-aware chunker.

``sniff_content_type`` decides what an upload is from its content (PDF, DOCX,
PPTX, JSON, Markdown, HTML or plain text),
``extract`` turns a stored file into an :class:`ExtractedDocument`, and
``chunk_document`` cuts that into :class:`Chunk` s for analysis.
"""

from doclane.extraction._dispatch import extract
from doclane.extraction.chunker import chunk_document
from doclane.extraction.detect import SNIFF_BYTES, SUPPORTED_CONTENT_TYPES, sniff_content_type
from doclane.extraction.exceptions import (
    CorruptDocument,
    DocumentTooComplex,
    EmptyDocument,
    EncryptedDocument,
    ExtractionError,
    MacroDocument,
    SuspiciousArchive,
    UnsupportedFileType,
)

__all__ = [
    "SNIFF_BYTES",
    "SUPPORTED_CONTENT_TYPES",
    "CorruptDocument",
    "DocumentTooComplex",
    "EmptyDocument",
    "EncryptedDocument",
    "ExtractionError",
    "MacroDocument",
    "SuspiciousArchive",
    "UnsupportedFileType",
    "chunk_document",
    "extract",
    "sniff_content_type",
]
